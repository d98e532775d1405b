import { describe, expect, it } from 'vitest';
import { liveTable } from '../../../src/agent/live-table.js';
import type { NodeDesired } from '../../../src/agent/compile.js';
import type { IpvsServiceWithDests, IpvsStats } from '../../../src/ipvs/types.js';
import { formatLiveTable, shortCount } from '../../../src/cli/live-table-format.js';
import { cachedFor } from '../../../src/util/cached.js';

const stats = (conns: number): IpvsStats => ({ conns, inPkts: conns * 10, outPkts: conns * 8, inBytes: conns * 1000, outBytes: 250_000 * conns, cps: 1, inPps: 2, outPps: 3, inBps: 4, outBps: 5 });
const ours: IpvsServiceWithDests = {
  key: { af: 'IPv4', protocol: 'tcp', addr: '192.0.2.10', port: 80 }, scheduler: 'wrr', flags: ['hashed', 'persistent'], timeout: 300, netmask: 32, stats: stats(12),
  dests: [
    { addr: '10.0.0.2', port: 8080, fwd: 'masq', weight: 2, upperThreshold: 0, lowerThreshold: 0, activeConns: 3, inactConns: 1, stats: stats(8) },
    { addr: '10.0.0.1', port: 8080, fwd: 'masq', weight: 1, upperThreshold: 0, lowerThreshold: 0, activeConns: 1, inactConns: 0, stats: stats(4) },
  ],
};
const foreign: IpvsServiceWithDests = { key: { af: 'IPv6', fwmark: 7 }, scheduler: 'rr', flags: ['hashed'], timeout: 0, netmask: 128, dests: [] };
const desired = { services: [{ key: 'shop/web', ipvs: { key: { ...ours.key } } }] } as unknown as NodeDesired;

describe('the live table', () => {
  it("names our services by their VirtualService, leaves foreign ones unnamed, sorts, keeps the kernel's counters", () => {
    const t = liveTable('d1', new Date(0), [foreign, ours], desired, [
      { name: 'g/eth0/192.0.2.10', interface: 'eth0', family: 'IPv4', vrid: 51, state: 'master', priority: 100, primaryAddress: '192.0.2.1', vips: ['192.0.2.10/32'], since: new Date(0), counters: {} } as never,
    ]);
    expect(t.node).toBe('d1');
    expect(t.at).toBe('1970-01-01T00:00:00.000Z');
    expect(t.services.map((s) => [s.service, s.virtualService])).toEqual([['FWM 7 IPv6', undefined], ['TCP 192.0.2.10:80', 'shop/web']]);
    const web = t.services[1]!;
    expect(web).toMatchObject({ scheduler: 'wrr', flags: ['persistent'], persistenceSeconds: 300, stats: { conns: 12 } });
    expect(web.destinations.map((d) => [d.address, d.forward, d.weight, d.activeConns, d.inactiveConns, d.stats.conns])).toEqual([
      ['10.0.0.1:8080', 'Masq', 1, 1, 0, 4],
      ['10.0.0.2:8080', 'Masq', 2, 3, 1, 8],
    ]);
    expect(t.services[0]!.stats.conns).toBe(0);
    expect(t.vrrp).toEqual([{ vip: '192.0.2.10', interface: 'eth0', vrid: 51, state: 'master', priority: 100 }]);
  });

  it('prints like ipvsadm -Ln --stats --rate, with the VRRP state and the VirtualService', () => {
    const text = formatLiveTable(liveTable('d1', new Date(0), [ours], desired, []), 'agent-x');
    const lines = text.split('\n');
    expect(lines[0]).toBe('Director d1 (pod agent-x), read 1970-01-01T00:00:00.000Z');
    expect(lines[1]).toMatch(/^ {2}Prot LocalAddress:Port +Scheduler +Weight +ActConn +InActConn +Conns +InPkts +OutPkts +InBytes +OutBytes/);
    expect(lines[2]).toMatch(/^ {2}TCP 192\.0\.2\.10:80 +wrr persistent 300 +12 +120 +96 +12000 +3M +1 +2 +3 +4 +5 +shop\/web$/);
    expect(lines[3]).toMatch(/^ {2} {2}-> 10\.0\.0\.1:8080 +Masq +1 +1 +0 +4 /);
    expect(formatLiveTable(liveTable('d2', new Date(0), [], undefined, []))).toContain('(no IPVS services)');
    expect([99_999, 100_000, 2_500_000, 7_000_000_000].map(shortCount)).toEqual(['99999', '100K', '2M', '7G']);
  });
});

describe('cachedFor', () => {
  it('shares one read among the callers of its window and does not keep a failure', async () => {
    let now = 0;
    let reads = 0;
    let fail = false;
    const read = cachedFor(1000, async () => {
      reads++;
      if (fail) throw new Error('kernel busy');
      return reads;
    }, () => now);
    expect(await Promise.all([read(), read()])).toEqual([1, 1]);
    now = 999;
    expect(await read()).toBe(1);
    now = 1000;
    fail = true;
    await expect(read()).rejects.toThrow('kernel busy');
    fail = false;
    expect(await read()).toBe(3);
  });
});
