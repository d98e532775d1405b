import { connect } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { NetlinkIpvsClient } from '../../../src/ipvs/client.js';
import { IpvsError } from '../../../src/ipvs/errors.js';
import type { IpvsDest, IpvsService, ServiceAddressKey, VirtualServiceKey } from '../../../src/ipvs/types.js';
import { assertInLab, run } from '../../lab/inside.js';
import { addTestRoutes, removeTestRoutes, sortedView } from './fixtures.js';
import { ipvsadmDaemons, ipvsadmTable, ipvsadmTimeouts, ipvsadmVersion } from './ipvsadm.js';

// Every client operation against the lab kernel, each result cross-checked with ipvsadm's own view.
const tcp80: ServiceAddressKey = { af: 'IPv4', protocol: 'tcp', addr: '10.10.0.1', port: 80 };
const udp6: ServiceAddressKey = { af: 'IPv6', protocol: 'udp', addr: '2001:db8:10::1', port: 53 };
const sctp: ServiceAddressKey = { af: 'IPv4', protocol: 'sctp', addr: '10.10.0.2', port: 3868 };
const fwm4: VirtualServiceKey = { af: 'IPv4', fwmark: 7 };
const fwm6: VirtualServiceKey = { af: 'IPv6', fwmark: 8 };

const services: IpvsService[] = [
  { key: tcp80, scheduler: 'wrr', flags: ['persistent'], timeout: 300, netmask: 24 },
  { key: udp6, scheduler: 'sh', flags: ['persistent', 'sched1', 'sched2'], timeout: 60, netmask: 64, peName: 'sip' },
  { key: sctp, scheduler: 'rr', flags: [], timeout: 0, netmask: 32 },
  { key: fwm4, scheduler: 'mh', flags: ['one-packet', 'sched2'], timeout: 0, netmask: 32 },
  { key: fwm6, scheduler: 'lc', flags: ['sched3'], timeout: 0, netmask: 128 },
];
const d = (addr: string, port: number, over: Partial<IpvsDest> = {}): IpvsDest => ({ addr, port, fwd: 'masq', weight: 1, upperThreshold: 0, lowerThreshold: 0, ...over });
const dests: [VirtualServiceKey, IpvsDest][] = [
  [tcp80, d('10.20.0.1', 8080, { weight: 3, upperThreshold: 100, lowerThreshold: 10 })],
  [tcp80, d('10.20.0.2', 80, { fwd: 'tunnel', tunnel: { type: 'gue', port: 6080, flags: ['csum'] } })],
  [tcp80, d('10.20.0.3', 80, { fwd: 'tunnel', tunnel: { type: 'gre', port: 0, flags: ['remcsum'] } })],
  [tcp80, d('2001:db8:20::4', 80, { fwd: 'tunnel', tunnel: { type: 'ipip', port: 0, flags: [] } })],
  [udp6, d('2001:db8:20::10', 53, { fwd: 'route', weight: 0 })],
  [sctp, d('10.20.0.5', 3868, { fwd: 'route', weight: 65535 })],
  [fwm4, d('10.20.0.6', 0, { fwd: 'route' })],
  [fwm6, d('2001:db8:20::11', 0, { fwd: 'route', weight: 5, upperThreshold: 7, lowerThreshold: 0 })],
];

async function expectError(p: Promise<unknown>, code: string, message: RegExp): Promise<IpvsError> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(IpvsError);
  const e = err as IpvsError;
  expect(e.code).toBe(code);
  expect(e.message).toMatch(message);
  return e;
}

describe('NetlinkIpvsClient against the kernel, cross-checked with ipvsadm', () => {
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

  async function programAll(): Promise<void> {
    for (const s of services) await ipvs.addService(s);
    for (const [k, dest] of dests) await ipvs.addDest(k, dest);
  }

  it('resolves the IPVS family and reads version and connection table size', async () => {
    expect(ipvs.familyId).toBeGreaterThanOrEqual(0x10);
    const info = await ipvs.info();
    const adm = await ipvsadmVersion();
    expect(info.version).toBe(adm.version);
    expect(info.connTabSize).toBe(adm.size);
  });

  it('adds services and destinations of every kind, and reads back what ipvsadm sees', async () => {
    await programAll();
    const table = await ipvs.listServicesWithDests();
    expect(sortedView(table)).toEqual(await ipvsadmTable());
    // What we wrote is what we read, field for field (plus the kernel's `hashed` flag and counters).
    for (const s of services) {
      const got = table.find((t) => JSON.stringify(t.key) === JSON.stringify(s.key));
      expect(got).toMatchObject({ ...s, flags: expect.arrayContaining([...s.flags, 'hashed']) });
      expect(got!.stats).toMatchObject({ conns: 0, inBytes: 0 });
    }
    for (const [k, dest] of dests) {
      const got = table.find((t) => JSON.stringify(t.key) === JSON.stringify(k))!.dests.find((x) => x.addr === dest.addr);
      expect(got).toMatchObject(dest);
      expect(got).toMatchObject({ activeConns: 0, inactConns: 0, persistConns: 0 });
    }
    expect(await ipvs.getService(udp6)).toMatchObject({ scheduler: 'sh', peName: 'sip', netmask: 64 });
    expect((await ipvs.listDests(tcp80, { stats: false })).map((x) => x.addr).sort()).toEqual(['10.20.0.1', '10.20.0.2', '10.20.0.3', '2001:db8:20::4']);
    expect((await ipvs.listServices({ stats: false })).every((s) => s.stats === undefined)).toBe(true);
  });

  it('edits services and destinations', async () => {
    await programAll();
    await ipvs.editService({ key: tcp80, scheduler: 'lc', flags: ['one-packet'], timeout: 0, netmask: 32 });
    await ipvs.editService({ key: udp6, scheduler: 'mh', flags: ['persistent', 'sched1'], timeout: 120, netmask: 48 });
    await ipvs.editDest(tcp80, d('10.20.0.1', 8080, { fwd: 'route', weight: 9, upperThreshold: 0, lowerThreshold: 0 }));
    await ipvs.editDest(tcp80, d('10.20.0.2', 80, { fwd: 'tunnel', weight: 2, tunnel: { type: 'ipip', port: 0, flags: [] } }));
    const table = await ipvs.listServicesWithDests({ stats: false });
    expect(sortedView(table)).toEqual(await ipvsadmTable());
    const t = table.find((s) => 'port' in s.key && s.key.port === 80)!;
    expect(t).toMatchObject({ scheduler: 'lc', flags: ['hashed', 'one-packet'], timeout: 0 });
    expect(t.peName).toBeUndefined();
    expect(t.dests.find((x) => x.addr === '10.20.0.1')).toEqual(d('10.20.0.1', 8080, { fwd: 'route', weight: 9 }));
    expect(t.dests.find((x) => x.addr === '10.20.0.2')!.tunnel).toEqual({ type: 'ipip', port: 0, flags: [] });
    // Editing away the persistence engine clears it.
    expect((await ipvs.getService(udp6))!.peName).toBeUndefined();
  });

  it('deletes destinations and services', async () => {
    await programAll();
    await ipvs.delDest(tcp80, { addr: '10.20.0.2', port: 80 });
    await ipvs.delDest(tcp80, { addr: '2001:db8:20::4', port: 80 });
    await ipvs.delService(sctp);
    await ipvs.delService(fwm6);
    const table = await ipvs.listServicesWithDests();
    expect(sortedView(table)).toEqual(await ipvsadmTable());
    expect(table).toHaveLength(3);
    expect((await ipvs.listDests(tcp80)).map((x) => x.addr).sort()).toEqual(['10.20.0.1', '10.20.0.3']);
  });

  it('flushes everything', async () => {
    await programAll();
    await ipvs.flush();
    expect(await ipvs.listServices()).toEqual([]);
    expect((await run('ipvsadm', ['-S', '-n'])).stdout.trim()).toBe('');
  });

  it('gets and sets the connection timeouts; 0 and omitted keep the current value', async () => {
    const before = await ipvs.getTimeouts();
    expect(before).toEqual(await ipvsadmTimeouts());
    try {
      await ipvs.setTimeouts({ tcp: 1800, tcpFin: 30, udp: 45 });
      expect(await ipvs.getTimeouts()).toEqual({ tcp: 1800, tcpFin: 30, udp: 45 });
      expect(await ipvsadmTimeouts()).toEqual({ tcp: 1800, tcpFin: 30, udp: 45 });
      await ipvs.setTimeouts({ udp: 0, tcp: 600 });
      expect(await ipvsadmTimeouts()).toEqual({ tcp: 600, tcpFin: 30, udp: 45 });
    } finally {
      await ipvs.setTimeouts(before);
    }
    expect(await ipvsadmTimeouts()).toEqual(before);
  });

  it('starts and stops the sync daemons (master and backup), read back like ipvsadm --daemon', async () => {
    expect(await ipvs.listDaemons()).toEqual([]);
    try {
      await ipvs.startDaemon({ state: 'master', mcastIfn: 'lo', syncId: 5 });
      await ipvs.startDaemon({ state: 'backup', mcastIfn: 'ipvst0', syncId: 6, mcastGroup: '239.1.2.3', mcastPort: 9000, mcastTtl: 3, syncMaxLen: 1200 });
      const ours = await ipvs.listDaemons();
      expect(ours).toEqual([
        { state: 'master', mcastIfn: 'lo', syncId: 5, syncMaxLen: 1472, mcastGroup: '224.0.0.81', mcastPort: 8848, mcastTtl: 1 },
        { state: 'backup', mcastIfn: 'ipvst0', syncId: 6, syncMaxLen: 1200, mcastGroup: '239.1.2.3', mcastPort: 9000, mcastTtl: 3 },
      ]);
      const adm = await ipvsadmDaemons();
      expect(adm.map((x) => [x.state, x.ifn, x.syncId, x.maxlen, x.group, x.port, x.ttl]))
        .toEqual(ours.map((x) => [x.state, x.mcastIfn, x.syncId, x.syncMaxLen, x.mcastGroup, x.mcastPort, x.mcastTtl]));
      await expectError(ipvs.startDaemon({ state: 'master', mcastIfn: 'lo', syncId: 5 }), 'EEXIST', /start-daemon: a sync daemon in this state is already running/);
      await ipvs.stopDaemon('master');
      expect((await ipvs.listDaemons()).map((x) => x.state)).toEqual(['backup']);
    } finally {
      for (const s of ['master', 'backup'] as const) await ipvs.stopDaemon(s).catch(() => undefined);
    }
    expect(await ipvsadmDaemons()).toEqual([]);
    await expectError(ipvs.stopDaemon('backup'), 'ESRCH', /stop-daemon: that sync daemon is not running/);
    await expectError(ipvs.startDaemon({ state: 'backup', mcastIfn: 'nosuchif0', syncId: 1 }), 'ENODEV', /sync interface does not exist/);
  });

  it('zeroes one service or all (counters after real traffic)', async () => {
    // Local clients go through IPVS too (LOCAL_OUT): connections to a VIP on the dummy interface
    // are scheduled, and counted, whether or not anything answers.
    const vip = { af: 'IPv4', protocol: 'tcp', addr: '10.10.9.1', port: 9 } as const;
    const other = { ...vip, port: 10 };
    for (const k of [vip, other]) {
      await ipvs.addService({ key: k, scheduler: 'rr', flags: [], timeout: 0, netmask: 32 });
      await ipvs.addDest(k, d('10.20.9.1', k.port));
    }
    // A SYN is enough: IPVS schedules (and counts) the connection whether or not anyone answers.
    const knock = (port: number): Promise<void> => new Promise((resolve) => {
      const sock = connect({ host: '10.10.9.1', port });
      sock.on('error', () => undefined);
      setTimeout(() => { sock.destroy(); resolve(); }, 300);
    });
    await knock(9);
    await knock(10);
    const conns = async (): Promise<number[]> => (await ipvs.listServicesWithDests()).sort((a, b) => ('port' in a.key ? a.key.port : 0) - ('port' in b.key ? b.key.port : 0))
      .flatMap((s) => [s.stats!.conns, s.dests[0]!.stats!.conns]);
    // The kernel folds per-CPU counters into what it reports every 2 s (its rate estimator).
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline && (await conns()).includes(0)) await new Promise((r) => setTimeout(r, 250));
    expect(await conns()).toEqual([1, 1, 1, 1]);
    await ipvs.zero(vip);
    expect(await conns()).toEqual([0, 0, 1, 1]);
    await ipvs.zero();
    expect(await conns()).toEqual([0, 0, 0, 0]);
    await expectError(ipvs.zero({ ...vip, port: 11 }), 'ESRCH', /zero service TCP 10\.10\.9\.1:11: the virtual service does not exist/);
  });
});

describe('bad input: a typed error naming the problem, and the table as it was', () => {
  let ipvs: NetlinkIpvsClient;
  let raw: NetlinkIpvsClient;

  beforeAll(async () => {
    assertInLab();
    await addTestRoutes();
    ipvs = await NetlinkIpvsClient.open();
    raw = await NetlinkIpvsClient.open({ validate: false });
  });
  beforeEach(async () => {
    await run('ipvsadm', ['-C']);
    await ipvs.addService({ key: tcp80, scheduler: 'wrr', flags: [], timeout: 0, netmask: 32 });
    await ipvs.addDest(tcp80, d('10.20.0.1', 8080));
  });
  afterAll(async () => {
    await run('ipvsadm', ['-C']).catch(() => undefined);
    ipvs?.close();
    raw?.close();
    await removeTestRoutes();
  });

  async function unchanged(action: () => Promise<unknown>): Promise<void> {
    const before = (await run('ipvsadm', ['-S', '-n'])).stdout;
    await action();
    expect((await run('ipvsadm', ['-S', '-n'])).stdout).toBe(before);
  }

  it('unknown scheduler: ENOENT naming the scheduler and its module', async () => {
    await unchanged(async () => {
      const e = await expectError(ipvs.addService({ key: { ...tcp80, port: 81 }, scheduler: 'bogus', flags: [], timeout: 0, netmask: 32 }), 'ENOENT',
        /^add-service service TCP 10\.10\.0\.1:81: scheduler "bogus" \(module ip_vs_bogus\) is not available in this kernel \(ENOENT\)$/);
      expect(e).toMatchObject({ operation: 'add-service', errno: 2, object: { service: { ...tcp80, port: 81 }, scheduler: 'bogus' } });
      await expectError(ipvs.editService({ key: tcp80, scheduler: 'bogus', flags: [], timeout: 0, netmask: 32 }), 'ENOENT', /scheduler "bogus"/);
    });
  });

  it('destination for a missing service: ESRCH', async () => {
    await unchanged(async () => {
      await expectError(ipvs.addDest({ ...tcp80, port: 81 }, d('10.20.0.1', 8080)), 'ESRCH',
        /^add-dest service TCP 10\.10\.0\.1:81 destination 10\.20\.0\.1:8080: the virtual service does not exist \(ESRCH\)$/);
      await expectError(ipvs.listDests({ ...tcp80, port: 81 }), 'ESRCH', /list-dests/);
      expect(await ipvs.getService({ ...tcp80, port: 81 })).toBeUndefined();
    });
  });

  it('duplicates and missing objects: EEXIST, ESRCH, ENOENT', async () => {
    await unchanged(async () => {
      await expectError(ipvs.addService({ key: tcp80, scheduler: 'rr', flags: [], timeout: 0, netmask: 32 }), 'EEXIST', /the virtual service already exists/);
      await expectError(ipvs.addDest(tcp80, d('10.20.0.1', 8080)), 'EEXIST', /the destination already exists in this virtual service/);
      await expectError(ipvs.editDest(tcp80, d('10.20.0.9', 8080)), 'ENOENT', /the destination does not exist/);
      await expectError(ipvs.delDest(tcp80, { addr: '10.20.0.9', port: 8080 }), 'ENOENT', /the destination does not exist/);
      await expectError(ipvs.delService({ ...tcp80, port: 81 }), 'ESRCH', /the virtual service does not exist/);
      await expectError(ipvs.editService({ key: fwm4, scheduler: 'rr', flags: [], timeout: 0, netmask: 32 }), 'ESRCH', /service FWM 7 IPv4: /);
    });
  });

  it('IPv6 destination on an IPv4 service without tunnelling: EINVAL, as the kernel itself says', async () => {
    const bad = d('2001:db8:20::1', 8080, { fwd: 'masq' });
    await unchanged(async () => {
      await expectError(ipvs.addDest(tcp80, bad), 'EINVAL', /an IPv6 destination can serve an IPv4 service only with tunnel forwarding, not masq/);
      // The check only spells out what the kernel would answer anyway.
      await expectError(raw.addDest(tcp80, bad), 'EINVAL', /add-dest .* \(EINVAL\)$/);
    });
  });

  it('thresholds and weights out of range: ERANGE, as the kernel itself says', async () => {
    await unchanged(async () => {
      const inverted = d('10.20.0.7', 1, { upperThreshold: 5, lowerThreshold: 6 });
      await expectError(ipvs.addDest(tcp80, inverted), 'ERANGE', /lower threshold 6 is above upper threshold 5/);
      await expectError(raw.addDest(tcp80, inverted), 'ERANGE', /lower threshold is above the upper threshold/);
      await expectError(raw.addDest(tcp80, d('10.20.0.7', 1, { weight: -1 })), 'ERANGE', /weight is negative/);
      const gue0 = d('10.20.0.7', 1, { fwd: 'tunnel', tunnel: { type: 'gue', port: 0, flags: [] } });
      await expectError(ipvs.addDest(tcp80, gue0), 'EINVAL', /a GUE tunnel needs a tunnel port/);
      await expectError(raw.addDest(tcp80, gue0), 'EINVAL', /add-dest/);
    });
  });

  it('port 0 on a non-persistent address service: refused before sending (the kernel would take it)', async () => {
    const zero = { key: { ...tcp80, port: 0 }, scheduler: 'rr', flags: [], timeout: 0, netmask: 32 } satisfies IpvsService;
    await unchanged(async () => {
      await expectError(ipvs.addService(zero), 'EINVAL',
        /^add-service service TCP 10\.10\.0\.1:0: port 0 is only valid for a persistent service \(all ports\) or a fwmark service \(EINVAL\)$/);
    });
    // A persistent one is the legitimate all-ports service.
    await ipvs.addService({ ...zero, flags: ['persistent'], timeout: 60 });
    expect((await run('ipvsadm', ['-S', '-n'])).stdout).toMatch(/-A -t 10\.10\.0\.1:0 -s rr -p 60/);
  });

  it('IPv6 netmask out of range and malformed addresses: EINVAL before sending; the kernel agrees on the netmask', async () => {
    const v6 = { key: udp6, scheduler: 'rr', flags: [], timeout: 0, netmask: 0 } satisfies IpvsService;
    await unchanged(async () => {
      await expectError(ipvs.addService(v6), 'EINVAL', /persistence netmask must be a prefix length 1-128/);
      await expectError(raw.addService(v6), 'EINVAL', /add-service/);
      await expectError(ipvs.addService({ ...v6, key: { ...udp6, addr: '10.0.0.1' }, netmask: 128 }), 'EINVAL', /virtual address 10\.0\.0\.1 is not an IPv6 address/);
      await expectError(ipvs.addDest(tcp80, d('10.20.0.256', 80)), 'EINVAL', /destination address "10\.20\.0\.256" is not an IP address/);
      await expectError(raw.addDest(tcp80, d('not-an-ip', 80)), 'EINVAL', /not an IP address/);
    });
  });
});
