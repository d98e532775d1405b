import { describe, expect, it } from 'vitest';
import { FakeIpvsClient } from '../../../src/ipvs/fake.js';
import { IpvsError } from '../../../src/ipvs/errors.js';
import { validateOp } from '../../../src/ipvs/validate.js';
import type { IpvsDest, IpvsService, ServiceAddressKey } from '../../../src/ipvs/types.js';

const key: ServiceAddressKey = { af: 'IPv4', protocol: 'tcp', addr: '10.0.0.1', port: 80 };
const svc = (over: Partial<IpvsService> = {}): IpvsService => ({ key, scheduler: 'wrr', flags: [], timeout: 0, netmask: 32, ...over });
const dest = (addr: string, over: Partial<IpvsDest> = {}): IpvsDest => ({ addr, port: 8080, fwd: 'masq', weight: 1, upperThreshold: 0, lowerThreshold: 0, ...over });

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (e) {
    expect(e).toBeInstanceOf(IpvsError);
    return (e as IpvsError).code;
  }
}

describe('FakeIpvsClient: the kernel rules', () => {
  it('reads services back as the kernel does: hashed flag, canonical address, stats', async () => {
    const f = new FakeIpvsClient();
    await f.addService(svc({ key: { af: 'IPv6', protocol: 'udp', addr: '2001:DB8:0::1', port: 53 }, netmask: 128, flags: ['sched2', 'persistent'], timeout: 30 }));
    const [s] = await f.listServices();
    expect(s).toMatchObject({ key: { af: 'IPv6', protocol: 'udp', addr: '2001:db8::1', port: 53 }, flags: ['persistent', 'hashed', 'sched2'], timeout: 30 });
    expect(s!.stats!.conns).toBe(0);
    expect((await f.listServices({ stats: false }))[0]!.stats).toBeUndefined();
    expect(await f.getService({ af: 'IPv6', protocol: 'udp', addr: '2001:db8:0:0::1', port: 53 })).toBeDefined();
    expect(await f.getService(key)).toBeUndefined();
  });

  it('EEXIST, ESRCH, ENOENT like the kernel', async () => {
    const f = new FakeIpvsClient();
    await f.addService(svc());
    expect(await codeOf(f.addService(svc()))).toBe('EEXIST');
    expect(await codeOf(f.addService(svc({ key: { ...key, port: 81 }, scheduler: 'nosuch' })))).toBe('ENOENT');
    expect(await codeOf(f.addService(svc({ key: { ...key, port: 82 }, peName: 'nosuch' })))).toBe('ENOENT');
    expect(await codeOf(f.addService(svc({ key: { ...key, port: 83 }, scheduler: 'none' })))).toBe('ok');
    expect(await codeOf(f.editService(svc({ key: { ...key, port: 99 } })))).toBe('ESRCH');
    expect(await codeOf(f.delService({ ...key, port: 99 }))).toBe('ESRCH');
    expect(await codeOf(f.addDest({ ...key, port: 99 }, dest('10.1.0.1')))).toBe('ESRCH');
    await f.addDest(key, dest('10.1.0.1'));
    expect(await codeOf(f.addDest(key, dest('10.1.0.1', { weight: 5 })))).toBe('EEXIST');
    expect(await codeOf(f.editDest(key, dest('10.1.0.2')))).toBe('ENOENT');
    expect(await codeOf(f.delDest(key, { addr: '10.1.0.2', port: 8080 }))).toBe('ENOENT');
    expect(await codeOf(f.listDests({ ...key, port: 99 }))).toBe('ESRCH');
    expect(await codeOf(f.zero({ ...key, port: 99 }))).toBe('ESRCH');
    expect(await codeOf(f.stopDaemon('backup'))).toBe('ESRCH');
  });

  it('ERANGE and EINVAL for bad destinations, with the same errors the validation gives the real client', async () => {
    const f = new FakeIpvsClient();
    await f.addService(svc());
    const bad: [IpvsDest, string, RegExp][] = [
      [dest('10.1.0.1', { weight: -1 }), 'ERANGE', /weight/],
      [dest('10.1.0.1', { upperThreshold: 5, lowerThreshold: 6 }), 'ERANGE', /lower threshold 6 is above upper threshold 5/],
      [dest('2001:db8::5', { fwd: 'masq' }), 'EINVAL', /IPv6 destination can serve an IPv4 service only with tunnel forwarding/],
      [dest('10.1.0.1', { fwd: 'tunnel', tunnel: { type: 'gue', port: 0, flags: [] } }), 'EINVAL', /GUE tunnel needs a tunnel port/],
      [dest('not-an-ip'), 'EINVAL', /not an IP address/],
    ];
    for (const [d, code, message] of bad) {
      const err = await f.addDest(key, d).then(() => undefined, (e: IpvsError) => e);
      expect(err?.code).toBe(code);
      expect(err?.message).toMatch(message);
      expect(err?.operation).toBe('add-dest');
      expect(err?.object).toEqual({ service: key, dest: { addr: d.addr, port: d.port } });
      expect(validateOp({ op: 'add-dest', key, dest: d })?.message).toBe(err?.message);
    }
    expect(await f.listDests(key)).toEqual([]);
    // Mixed families are fine with tunnel forwarding...
    await f.addDest(key, dest('2001:db8::5', { fwd: 'tunnel' }));
    // ...until a sync daemon must run: the sync protocol cannot carry them.
    expect(await codeOf(f.startDaemon({ state: 'master', mcastIfn: 'eth0', syncId: 1 }))).toBe('EINVAL');
  });

  it('refuses port 0 unless the service is persistent or fwmark-based, naming the problem', async () => {
    const f = new FakeIpvsClient();
    const err = await f.addService(svc({ key: { ...key, port: 0 } })).then(() => undefined, (e: IpvsError) => e);
    expect(err?.message).toBe('add-service service TCP 10.0.0.1:0: port 0 is only valid for a persistent service (all ports) or a fwmark service (EINVAL)');
    await f.addService(svc({ key: { ...key, port: 0 }, flags: ['persistent'], timeout: 300 }));
    await f.addService(svc({ key: { af: 'IPv4', fwmark: 3 } }));
    expect(await f.listServices()).toHaveLength(2);
  });

  it('reads destinations newest first, with tunnel settings the way the kernel reports them', async () => {
    const f = new FakeIpvsClient();
    await f.addService(svc());
    await f.addDest(key, dest('10.1.0.1'));
    await f.addDest(key, dest('10.1.0.2', { fwd: 'tunnel' }));
    await f.addDest(key, dest('10.1.0.3', { fwd: 'route', tunnel: { type: 'ipip', port: 0, flags: [] } }));
    const ds = await f.listDests(key, { stats: false });
    expect(ds.map((d) => d.addr)).toEqual(['10.1.0.3', '10.1.0.2', '10.1.0.1']);
    expect(ds[0]!.tunnel).toBeUndefined();
    expect(ds[1]!.tunnel).toEqual({ type: 'ipip', port: 0, flags: [] });
    await f.editDest(key, dest('10.1.0.1', { weight: 9 }));
    expect((await f.listDests(key))[2]).toMatchObject({ addr: '10.1.0.1', weight: 9, activeConns: 0 });
  });

  it('applies a batch in order, each operation with its own result, failures not stopping the rest', async () => {
    const f = new FakeIpvsClient();
    const other = { ...key, port: 443 };
    const results = await f.apply([
      { op: 'add-service', service: svc() },
      { op: 'add-service', service: svc({ key: other, scheduler: 'nosuch' }) },
      { op: 'add-dest', key: other, dest: dest('10.1.0.1') },
      { op: 'add-dest', key, dest: dest('10.1.0.1') },
      { op: 'add-dest', key, dest: dest('10.1.0.1') },
    ]);
    expect(results.map((r) => (r.ok ? 'ok' : r.error.code))).toEqual(['ok', 'ENOENT', 'ESRCH', 'ok', 'EEXIST']);
    expect(f.applied.map((o) => o.op)).toEqual(['add-service', 'add-dest']);
    expect(f.applyCalls).toBe(1);
  });

  it('keeps timeouts that are 0 or left out; daemons get the kernel defaults', async () => {
    const f = new FakeIpvsClient({ interfaces: ['eth0'] });
    await f.setTimeouts({ tcp: 100, udp: 0 });
    expect(await f.getTimeouts()).toEqual({ tcp: 100, tcpFin: 120, udp: 300 });
    expect(await codeOf(f.startDaemon({ state: 'backup', mcastIfn: 'eth9', syncId: 1 }))).toBe('ENODEV');
    await f.startDaemon({ state: 'backup', mcastIfn: 'eth0', syncId: 1 });
    expect(await codeOf(f.startDaemon({ state: 'backup', mcastIfn: 'eth0', syncId: 1 }))).toBe('EEXIST');
    expect(await f.listDaemons()).toEqual([{ state: 'backup', mcastIfn: 'eth0', syncId: 1, syncMaxLen: 1472, mcastGroup: '224.0.0.81', mcastPort: 8848, mcastTtl: 1 }]);
    expect(await codeOf(f.startDaemon({ state: 'master', mcastIfn: 'eth0', syncId: 1, mcastGroup: '10.0.0.1' }))).toBe('EINVAL');
    await f.stopDaemon('backup');
    expect(await f.listDaemons()).toEqual([]);
  });

  it('flush, zero, injected errors, and copies that callers cannot mutate', async () => {
    const f = new FakeIpvsClient();
    await f.addService(svc());
    await f.addDest(key, dest('10.1.0.1'));
    f.setStats(key, { conns: 5 });
    f.setStats(key, { inPkts: 9 }, { addr: '10.1.0.1', port: 8080, activeConns: 2 });
    const [read] = await f.listServicesWithDests();
    expect(read!.stats!.conns).toBe(5);
    expect(read!.dests[0]).toMatchObject({ activeConns: 2, stats: { inPkts: 9 } });
    read!.dests.length = 0;
    read!.flags.push('sched3');
    expect((await f.listServicesWithDests())[0]!.dests).toHaveLength(1);
    await f.zero();
    expect((await f.listServicesWithDests())[0]!.stats!.conns).toBe(0);
    f.injectError((op) => op.op === 'del-service', 'EPERM');
    expect(await codeOf(f.delService(key))).toBe('EPERM');
    await f.flush();
    expect(await f.listServices()).toEqual([]);
  });
});
