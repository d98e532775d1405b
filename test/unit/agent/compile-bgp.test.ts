import { describe, expect, it } from 'vitest';
import { compile, type HealthLookup } from '../../../src/agent/compile.js';
import { vrrpGroups } from '../../../src/agent/vrrp-specs.js';
import { resolve } from '../../../src/model/index.js';
import type { Snapshot } from '../../../src/model/types.js';
import type { VirtualServiceSpecInput } from '../../../src/api/index.js';
import { dg, node, rs, snapshot, web } from '../model/fixtures.js';

const allHealthy: HealthLookup = () => true;
const leadsNone = (): boolean => false;
const VIP = '10.100.0.10';
const bgp = { localASN: 65011, peers: [{ address: '10.0.0.1', asn: 65000 }] };

/** Three directors announcing over BGP, DR to three real servers, mh with mh-port. */
function activeActive(vsSpec: Partial<VirtualServiceSpecInput> = {}, groupBgp: Record<string, unknown> = bgp): Snapshot {
  return snapshot({
    directorGroups: [dg('g1', { announce: 'BGP', bgp: groupBgp } as never, { vrids: [{ vip: VIP, interface: 'eth0', vrid: 1 }] })],
    virtualServices: [web('shop', 'web', VIP, { scheduler: 'mh', schedulerFlags: ['mh-port'], forwarding: { method: 'DR' }, ...vsSpec })],
    realServers: ['3', '1', '2'].map((i) => rs('shop', `web-${i}`, { address: `10.0.0.2${i}` }, { app: 'web' })),
    nodes: ['d1', 'd2', 'd3'].map((d) => node(d, { 'lvs.dev/director': 'g1' })),
  });
}

describe('compile: a group that announces over BGP (active-active)', () => {
  it('holds the VIP on lo on every director without VRRP, and announces it', () => {
    const model = resolve(activeActive());
    for (const d of ['d1', 'd2', 'd3']) {
      const want = compile(model, d, allHealthy, leadsNone);
      expect(want.addresses).toEqual([{ ifname: 'lo', address: VIP, prefixLen: 32 }]);
      expect(want.bgp).toEqual([{ group: 'g1', vips: [VIP], serving: [VIP] }]);
      expect(vrrpGroups(model, d)).toEqual([]);
    }
  });

  it('programs the same table on every director: mh-port, real servers in address order, equal weights', () => {
    const model = resolve(activeActive());
    const tables = ['d1', 'd2', 'd3'].map((d) => compile(model, d, allHealthy, leadsNone).services[0]!.ipvs);
    expect(tables[1]).toEqual(tables[0]);
    expect(tables[2]).toEqual(tables[0]);
    expect(tables[0]!.scheduler).toBe('mh');
    expect(tables[0]!.flags).toEqual(['sched2']);
    expect(tables[0]!.dests.map((x) => [x.addr, x.weight])).toEqual([['10.0.0.21', 1], ['10.0.0.22', 1], ['10.0.0.23', 1]]);
  });

  it('sets sloppy TCP/SCTP and keeps the VIP on lo out of ARP', () => {
    const s = compile(resolve(activeActive()), 'd1', allHealthy, leadsNone).sysctls;
    expect(s).toMatchObject({
      'net.ipv4.vs.sloppy_tcp': '1',
      'net.ipv4.vs.sloppy_sctp': '1',
      'net.ipv4.conf.all.arp_ignore': '1',
      'net.ipv4.conf.all.arp_announce': '2',
    });
  });

  it('withdraws a VIP with no live real server, keeps holding it on lo, and announces it again when one is back', () => {
    const model = resolve(activeActive());
    const down = compile(model, 'd1', () => false, leadsNone);
    expect(down.bgp).toEqual([{ group: 'g1', vips: [VIP], serving: [] }]);
    expect(down.addresses).toEqual([{ ifname: 'lo', address: VIP, prefixLen: 32 }]);
    const oneUp = compile(model, 'd1', (_s, b) => b.address === '10.0.0.22', leadsNone);
    expect(oneUp.bgp?.[0]?.serving).toEqual([VIP]);
  });

  it('refuses a non-consistent scheduler with the reason, unless the group allows it', () => {
    const wlc = resolve(activeActive({ scheduler: 'wlc', schedulerFlags: [] })).services.get('shop/web')!;
    expect(wlc.accepted).toBe(false);
    expect(wlc.issues[0]?.message).toContain('scheduler wlc is not consistent');
    expect(wlc.issues[0]?.message).toContain('allowNonConsistentScheduler');
    expect(compile(resolve(activeActive({ scheduler: 'wlc', schedulerFlags: [] })), 'd1', allHealthy, leadsNone).bgp).toEqual([{ group: 'g1', vips: [], serving: [] }]);
    const allowed = resolve(activeActive({ scheduler: 'wlc', schedulerFlags: [] }, { ...bgp, allowNonConsistentScheduler: true })).services.get('shop/web')!;
    expect(allowed.accepted).toBe(true);
    expect(resolve(activeActive({ scheduler: 'sh', schedulerFlags: ['sh-port'] })).services.get('shop/web')!.accepted).toBe(true);
  });

  it('gives a service that names no scheduler mh with mh-port (a VRRP group: wlc), and refuses flags it cannot read', () => {
    const noScheduler = activeActive({ scheduler: undefined, schedulerFlags: undefined });
    const aa = resolve(noScheduler).services.get('shop/web')!;
    expect(aa.accepted).toBe(true);
    expect(aa.spec).toMatchObject({ scheduler: 'mh', schedulerFlags: ['mh-port'] });
    const t = compile(resolve(noScheduler), 'd1', allHealthy, leadsNone).services[0]!.ipvs;
    expect([t.scheduler, t.flags]).toEqual(['mh', ['sched2']]);
    const vrrp = snapshot({ ...noScheduler, directorGroups: [dg('g1', {}, { vrids: [{ vip: VIP, interface: 'eth0', vrid: 1 }] })] });
    const one = resolve(vrrp).services.get('shop/web')!;
    expect([one.accepted, one.spec?.scheduler, one.spec?.schedulerFlags]).toEqual([true, 'wlc', undefined]);
  });

  it('refuses NAT, whose replies must come back through the director that saw the first packet', () => {
    const nat = resolve(activeActive({ forwarding: { method: 'NAT' } })).services.get('shop/web')!;
    expect(nat.accepted).toBe(false);
    expect(nat.issues.map((i) => i.message).join()).toContain('NAT forwarding cannot be served active-active');
  });

  it('leaves VRRP groups as they were: no bgp part, no sloppy TCP', () => {
    const snap = activeActive();
    const vrrp = snapshot({ ...snap, directorGroups: [dg('g1', {}, { vrids: [{ vip: VIP, interface: 'eth0', vrid: 1 }] })] });
    const want = compile(resolve(vrrp), 'd1', allHealthy, leadsNone);
    expect(want.bgp).toBeUndefined();
    expect(want.addresses).toEqual([]);
    expect(want.sysctls['net.ipv4.vs.sloppy_tcp']).toBeUndefined();
  });
});
