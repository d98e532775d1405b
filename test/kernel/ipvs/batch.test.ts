import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { IpvsOpResult } from '../../../src/ipvs/api.js';
import { NetlinkIpvsClient } from '../../../src/ipvs/client.js';
import { FakeIpvsClient } from '../../../src/ipvs/fake.js';
import type { IpvsDest, IpvsOp, IpvsServiceWithDests, ServiceAddressKey } from '../../../src/ipvs/types.js';
import { assertInLab, run } from '../../lab/inside.js';
import { addTestRoutes, removeTestRoutes, sortedView } from './fixtures.js';
import { ipvsadmTable } from './ipvsadm.js';

// Batching: many requests per sendmsg, ACK only on the last, failures found by sequence number.
// Every operation must get its own, true result, however many fail and wherever they are.
const svcKey = (i: number): ServiceAddressKey => ({ af: 'IPv4', protocol: 'tcp', addr: `10.30.${i >> 8}.${i & 255}`, port: 80 });
const dest = (i: number, j: number): IpvsDest => ({ addr: `10.40.${i & 255}.${j + 1}`, port: 8000 + (i >> 8), fwd: 'masq', weight: j + 1, upperThreshold: 0, lowerThreshold: 0 });
const codes = (rs: IpvsOpResult[]): string[] => rs.map((r) => (r.ok ? 'ok' : r.error.code));

function table(n: number, m: number): IpvsOp[] {
  const ops: IpvsOp[] = [];
  for (let i = 0; i < n; i++) {
    ops.push({ op: 'add-service', service: { key: svcKey(i), scheduler: 'wrr', flags: [], timeout: 0, netmask: 32 } });
    for (let j = 0; j < m; j++) ops.push({ op: 'add-dest', key: svcKey(i), dest: dest(i, j) });
  }
  return ops;
}

const stripCounters = (t: IpvsServiceWithDests[]): unknown =>
  t.map((s) => ({ ...s, dests: s.dests.map((d) => JSON.stringify(d)).sort() })).sort((a, b) => JSON.stringify(a.key).localeCompare(JSON.stringify(b.key)));

describe('batched apply against the kernel', () => {
  let ipvs: NetlinkIpvsClient;

  beforeAll(async () => {
    assertInLab();
    await addTestRoutes();
    ipvs = await NetlinkIpvsClient.open();
  });
  beforeEach(async () => {
    await run('ipvsadm', ['-C']);
  });
  afterAll(async () => {
    await run('ipvsadm', ['-C']).catch(() => undefined);
    ipvs?.close();
    await removeTestRoutes();
  });

  it('programs services x 5 destinations over at least three batches, exactly as ipvsadm reads it', async () => {
    // The batch size follows the running kernel's receive buffer and reply size: size the table from it.
    const services = Math.max(300, Math.ceil((ipvs.batchSize * 3) / 6) + 1);
    const ops = table(services, 5);
    expect(ops.length).toBeGreaterThan(ipvs.batchSize * 3);
    const results = await ipvs.apply(ops);
    expect(codes(results).every((c) => c === 'ok')).toBe(true);
    const read = await ipvs.listServicesWithDests({ stats: false });
    expect(read).toHaveLength(services);
    expect(read.reduce((n, s) => n + s.dests.length, 0)).toBe(services * 5);
    expect(sortedView(read)).toEqual(await ipvsadmTable());
  });

  it('reports each failure at its own index, anywhere in any batch, and applies the rest', async () => {
    // Two batches at least, whatever the running kernel's batch size.
    const services = Math.max(200, Math.ceil((ipvs.batchSize * 2) / 5) + 1);
    const ops = table(services, 4);
    // Poison: duplicates (EEXIST), destinations of services that do not exist (ESRCH), deletes of
    // absent destinations (ENOENT), an unknown scheduler (ENOENT), and a refused weight (ERANGE).
    const poison: [number, IpvsOp, string][] = [];
    const rawOps = [...ops];
    const at = (pos: number, op: IpvsOp, code: string): void => { poison.push([pos, op, code]); };
    at(0, { op: 'add-dest', key: svcKey(65_001), dest: dest(999, 0) }, 'ESRCH');
    at(3, { op: 'add-service', service: { key: svcKey(0), scheduler: 'rr', flags: [], timeout: 0, netmask: 32 } }, 'EEXIST');
    at(ipvs.batchSize - 1, { op: 'del-dest', key: svcKey(0), dest: { addr: '10.99.0.1', port: 1 } }, 'ENOENT');
    at(ipvs.batchSize, { op: 'add-service', service: { key: svcKey(65_000), scheduler: 'nope', flags: [], timeout: 0, netmask: 32 } }, 'ENOENT');
    at(ipvs.batchSize + 1, { op: 'add-dest', key: svcKey(65_000), dest: dest(998, 0) }, 'ESRCH');
    at(500, { op: 'add-dest', key: svcKey(1), dest: dest(1, 0) }, 'EEXIST');
    // Sorted by position, inserted back to front so earlier positions stay valid.
    for (const [pos, op] of [...poison].sort((a, b) => b[0] - a[0])) rawOps.splice(pos, 0, op);
    const expected = rawOps.map((op) => poison.find(([, p]) => p === op)?.[2] ?? 'ok');
    const got = codes(await ipvs.apply(rawOps));
    expect(got).toEqual(expected);
    const read = await ipvs.listServicesWithDests({ stats: false });
    expect(read).toHaveLength(services);
    expect(read.reduce((n, s) => n + s.dests.length, 0)).toBe(services * 4);
  });

  it('a batch where every request fails still reports every ESRCH, none lost', async () => {
    const ops: IpvsOp[] = [];
    for (let i = 0; i < ipvs.batchSize * 2 + 7; i++) ops.push({ op: 'add-dest', key: svcKey(5000 + i), dest: dest(i, 0) });
    const got = codes(await ipvs.apply(ops));
    expect(new Set(got)).toEqual(new Set(['ESRCH']));
  });

  it('an oversized batch that overflows the receive buffer reports the lost results as unknown (ENOBUFS), never as success', async () => {
    // Forced: a small buffer and batches far beyond what it can answer.
    const tiny = await NetlinkIpvsClient.open({ recvBufferBytes: 16 * 1024, batchSize: 2000 });
    try {
      const ops: IpvsOp[] = [];
      for (let i = 0; i < 2000; i++) ops.push({ op: 'add-dest', key: svcKey(7000 + i), dest: dest(i, 0) });
      const got = codes(await tiny.apply(ops));
      expect(got.filter((c) => c === 'ok')).toEqual([]);
      expect(got.filter((c) => c === 'ENOBUFS').length).toBeGreaterThan(0);
      expect(got.filter((c) => c === 'ESRCH').length).toBeGreaterThan(0);
      const lost = (await tiny.apply([{ op: 'add-dest', key: svcKey(1), dest: dest(1, 0) }]))[0]!;
      expect(lost.ok).toBe(false);
      // The socket stays usable after the overflow; errors still name the problem.
      expect(!lost.ok && lost.error.code).toBe('ESRCH');
    } finally {
      tiny.close();
    }
  });

  it('the fake gives the same per-operation results and the same table as the kernel', async () => {
    const ops: IpvsOp[] = [
      ...table(20, 3),
      { op: 'add-service', service: { key: svcKey(1), scheduler: 'rr', flags: [], timeout: 0, netmask: 32 } },
      { op: 'edit-service', service: { key: svcKey(2), scheduler: 'sh', flags: ['sched1', 'persistent'], timeout: 30, netmask: 16 } },
      { op: 'edit-service', service: { key: svcKey(77), scheduler: 'sh', flags: [], timeout: 0, netmask: 32 } },
      { op: 'add-service', service: { key: svcKey(78), scheduler: 'nosuch', flags: [], timeout: 0, netmask: 32 } },
      { op: 'add-service', service: { key: { af: 'IPv6', protocol: 'udp', addr: '2001:db8:30::1', port: 53 }, scheduler: 'mh', flags: ['sched2'], timeout: 0, netmask: 128, peName: 'sip' } },
      { op: 'add-dest', key: { af: 'IPv6', protocol: 'udp', addr: '2001:db8:30::1', port: 53 }, dest: { ...dest(0, 0), addr: '2001:db8:40::1', fwd: 'route' } },
      { op: 'add-dest', key: svcKey(3), dest: { ...dest(3, 9), addr: '2001:db8:40::2', fwd: 'tunnel', tunnel: { type: 'gue', port: 5000, flags: ['csum'] } } },
      { op: 'add-dest', key: svcKey(3), dest: dest(3, 0) },
      { op: 'edit-dest', key: svcKey(4), dest: { ...dest(4, 1), weight: 0, fwd: 'route', upperThreshold: 10, lowerThreshold: 2 } },
      { op: 'edit-dest', key: svcKey(4), dest: dest(4, 7) },
      { op: 'add-dest', key: svcKey(5), dest: { ...dest(5, 8), fwd: 'tunnel' } },
      { op: 'del-dest', key: svcKey(6), dest: dest(6, 0) },
      { op: 'del-dest', key: svcKey(6), dest: dest(6, 0) },
      { op: 'del-service', key: svcKey(7) },
      { op: 'del-service', key: svcKey(7) },
      { op: 'add-dest', key: svcKey(7), dest: dest(7, 0) },
      { op: 'add-service', service: { key: { af: 'IPv4', fwmark: 42 }, scheduler: 'none', flags: ['one-packet'], timeout: 0, netmask: 32 } },
      { op: 'add-dest', key: { af: 'IPv4', fwmark: 42 }, dest: { ...dest(42, 0), port: 0, fwd: 'route' } },
      { op: 'zero', key: svcKey(8) },
      { op: 'zero', key: svcKey(888) },
    ];
    const fake = new FakeIpvsClient();
    const [kernelResults, fakeResults] = [await ipvs.apply(ops), await fake.apply(ops)];
    expect(codes(fakeResults)).toEqual(codes(kernelResults));
    expect(fakeResults.map((r) => (r.ok ? '' : r.error.message))).toEqual(kernelResults.map((r) => (r.ok ? '' : r.error.message)));
    expect(stripCounters(await fake.listServicesWithDests({ stats: false }))).toEqual(stripCounters(await ipvs.listServicesWithDests({ stats: false })));
    // Destination order too: the kernel lists the newest first, and so does the fake.
    const order = async (c: { listDests: NetlinkIpvsClient['listDests'] }): Promise<string[]> => (await c.listDests(svcKey(3), { stats: false })).map((d) => d.addr);
    expect(await order(fake)).toEqual(await order(ipvs));
  });
});
