import { describe, expect, it } from 'vitest';
import { compile } from '../../../src/agent/compile.js';
import { desiredSync, isSoleDirector, nodePriority, nodeUnicastSources, soleGroups, vrrpGroups, vrrpInstanceSpecs } from '../../../src/agent/vrrp-specs.js';
import { withAdvertSources } from '../../../src/agent/vrrp-source.js';
import { FakeLinkClient } from '../../../src/link/index.js';
import { resolve } from '../../../src/model/index.js';
import { twoDirectors, vip1, vip2 } from './vrrp-fixtures.js';

describe('vrrpInstanceSpecs (model -> VRRP instances)', () => {
  it('makes one instance per VIP with the allocated router id and the group settings', () => {
    const specs = vrrpInstanceSpecs(resolve(twoDirectors({ vrrp: { preempt: false, garpRepeat: 3, garpIntervalMs: 20, unicastPeers: ['192.168.10.2'], trackInterfaces: [{ name: 'eth1' }, { name: 'bond0', weight: -30 }] } })), 'd1');
    expect(specs.map((s) => [s.group, s.vip, s.iface])).toEqual([['g1', vip1, 'eth0'], ['g1', vip2, 'eth0']]);
    expect(specs[0]!.spec).toEqual({
      name: `g1/eth0/${vip1}`, interface: 'eth0', version: 3, vrid: 51, priority: 100, advertIntervalMs: 100,
      vips: [vip1], preempt: false, preemptDelayMs: 0, unicastPeers: ['192.168.10.2'], garpRepeat: 3, garpIntervalMs: 20,
      garpMasterDelayMs: 5000, garpRefreshMs: 0, garpRefreshRepeat: 1,
      syncGroup: 'g1', trackInterfaces: [{ name: 'eth1', weight: 0 }, { name: 'bond0', weight: -30 }],
    });
    expect(specs[1]!.spec.vrid).toBe(52);
    // Every instance of the group is a member of the one sync group named after it.
    expect(specs[1]!.spec.syncGroup).toBe('g1');
  });

  it('is stable: the same model gives equal specs, in name order', () => {
    const a = vrrpInstanceSpecs(resolve(twoDirectors()), 'd1');
    const b = vrrpInstanceSpecs(resolve(twoDirectors()), 'd1');
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
    expect(a.map((s) => s.spec.name)).toEqual([...a.map((s) => s.spec.name)].sort());
  });

  it('drops the instance of a VIP that goes away and keeps the other unchanged', () => {
    const before = vrrpInstanceSpecs(resolve(twoDirectors()), 'd1');
    const after = vrrpInstanceSpecs(resolve(twoDirectors({ vips: [vip2] })), 'd1');
    expect(after.map((s) => s.vip)).toEqual([vip2]);
    expect(after[0]!.spec).toEqual(before[1]!.spec);
  });

  it('runs no VRRP for a sole director or on a node that directs nothing', () => {
    expect(vrrpInstanceSpecs(resolve(twoDirectors({ directors: 1 })), 'd1')).toEqual([]);
    expect(vrrpGroups(resolve(twoDirectors()), 'rs-1')).toEqual([]);
    expect(soleGroups(resolve(twoDirectors({ directors: 1 })), 'd1')).toEqual(['g1']);
  });

  it('with election Always a sole director runs VRRP (peers outside the cluster) and holds nothing by itself', () => {
    const model = resolve(twoDirectors({ directors: 1, vrrp: { election: 'Always' } }));
    expect(vrrpGroups(model, 'd1')).toEqual(['g1']);
    expect(soleGroups(model, 'd1')).toEqual([]);
    expect(isSoleDirector(model.groups.get('g1'), 'd1')).toBe(false);
    expect(vrrpInstanceSpecs(model, 'd1').map((s) => s.vip)).toEqual([vip1, vip2]);
    expect(vrrpGroups(model, 'rs-1')).toEqual([]);
    // Auto, the default: the sole director holds the VIPs without VRRP.
    expect(isSoleDirector(resolve(twoDirectors({ directors: 1 })).groups.get('g1'), 'd1')).toBe(true);
  });

  it('takes the priority from the group, a valid Node annotation overrides it; v2 PASS from a given password', () => {
    expect(vrrpInstanceSpecs(resolve(twoDirectors({ vrrp: { priority: 120 } })), 'd1')[0]!.spec.priority).toBe(120);
    const snap = twoDirectors({ annotations: { 'lvs.dev/vrrp-priority': '150' } });
    expect(nodePriority(snap, 'd1')).toBe(150);
    expect(nodePriority(twoDirectors({ annotations: { 'lvs.dev/vrrp-priority': '255' } }), 'd1')).toBeUndefined();
    expect(vrrpInstanceSpecs(resolve(snap), 'd1', { priority: nodePriority(snap, 'd1') })[0]!.spec.priority).toBe(150);
    const v2 = resolve(twoDirectors({ vrrp: { version: 2, advertIntervalMs: 1000, authSecretRef: { name: 's', namespace: 'lvs-system' } } }));
    expect(vrrpInstanceSpecs(v2, 'd1', { passwords: new Map([['g1', 'secret']]) })[0]!.spec.auth).toEqual({ type: 'pass', password: 'secret' });
    expect(vrrpInstanceSpecs(v2, 'd1')[0]!.spec.auth).toBeUndefined();
  });

  it('runs the sync daemon of a VRRP-managed group with sync on, on its sync interface', () => {
    expect(desiredSync(resolve(twoDirectors()), 'd1')).toBeUndefined();
    expect(desiredSync(resolve(twoDirectors({ sync: { enabled: true, syncId: 7, interface: 'eth1' } })), 'd1')).toEqual({ group: 'g1', mcastIfn: 'eth1', syncId: 7 });
    expect(desiredSync(resolve(twoDirectors({ directors: 1, sync: { enabled: true } })), 'd1')).toBeUndefined();
  });

  it('compiles the backup sync daemon always and the master one while master of the sync group', () => {
    const m = resolve(twoDirectors({ sync: { enabled: true, syncId: 7, interface: 'eth1' } }));
    const backup = { state: 'backup', mcastIfn: 'eth1', syncId: 7 };
    expect(compile(m, 'd1', () => true, () => false).syncDaemons).toEqual([backup]);
    expect(compile(m, 'd1', () => true, () => false, (g) => g === 'g1').syncDaemons).toEqual([{ ...backup, state: 'master' }, backup]);
    expect(compile(m, 'd1', () => true, () => false, (g) => g === 'other').syncDaemons).toEqual([backup]);
    expect(compile(resolve(twoDirectors()), 'd1', () => true, () => false, () => true).syncDaemons).toEqual([]);
    expect(compile(resolve(twoDirectors({ directors: 1, sync: { enabled: true } })), 'd1', () => true, () => true, () => true).syncDaemons).toEqual([]);
  });

  it('gateway addresses: one instance each on its interface, with its prefix, own peers and router id, the group settings', () => {
    const gateways = [{ address: '10.0.1.1/24', interface: 'eth1' }, { address: '2001:db8:1::1/64', interface: 'eth1', unicastPeers: ['2001:db8:1::12'] }];
    const m = resolve(twoDirectors({ vrrp: { garpMasterDelaySeconds: 2, garpMasterRefreshSeconds: 60, garpMasterRefreshRepeat: 2, unicastPeers: ['192.168.10.2'] }, gatewayAddresses: gateways }));
    const specs = vrrpInstanceSpecs(m, 'd1');
    const gw = specs.filter((s) => s.iface === 'eth1');
    expect(gw.map((s) => [s.vip, s.spec.name, s.spec.vrid, s.spec.vips, s.spec.unicastPeers])).toEqual([
      ['10.0.1.1/24', 'g1/eth1/10.0.1.1', 1, ['10.0.1.1/24'], undefined],
      ['2001:db8:1::1/64', 'g1/eth1/2001:db8:1::1', 2, ['2001:db8:1::1/64'], ['2001:db8:1::12']],
    ]);
    const service = specs.find((s) => s.vip === vip1)!.spec;
    // Everything but the addresses, the router id and the peers is the group's: they run as the service VIPs do.
    const { name: _n, interface: _i, vrid: _v, vips: _a, unicastPeers: _p, ...settings } = service;
    for (const g of gw) expect(g.spec).toMatchObject(settings);
    expect(service).toMatchObject({ garpMasterDelayMs: 2000, garpRefreshMs: 60_000, garpRefreshRepeat: 2, unicastPeers: ['192.168.10.2'] });
    // A sole director holds them itself, with their prefix, where it leads.
    const sole = resolve(twoDirectors({ directors: 1, gatewayAddresses: gateways }));
    expect(compile(sole, 'd1', () => true, () => true).addresses.filter((a) => a.ifname === 'eth1')).toEqual([
      { ifname: 'eth1', address: '10.0.1.1', prefixLen: 24 },
      { ifname: 'eth1', address: '2001:db8:1::1', prefixLen: 64 },
    ]);
    expect(compile(sole, 'd1', () => false, () => false).addresses.filter((a) => a.ifname === 'eth1')).toEqual([]);
  });

  it('advert sources (unicast_src_ip) from the Node annotation: the one on the interface, or the instance is refused', async () => {
    const snap = twoDirectors({ annotations: { 'lvs.dev/vrrp-unicast-src-ip': ' 192.168.10.11, 10.0.1.11,bogus, 2001:DB8:1::11' }, gatewayAddresses: [{ address: '10.0.1.1/24', interface: 'eth1' }, { address: '10.0.2.1/24', interface: 'eth2' }, { address: '2001:db8:1::1/64', interface: 'eth1' }] });
    const { sources, invalid } = nodeUnicastSources(snap, 'd1');
    expect(sources).toEqual(['192.168.10.11', '10.0.1.11', '2001:db8:1::11']);
    expect(invalid).toEqual(['bogus']);
    const link = new FakeLinkClient(['eth0', 'eth1', 'eth2']);
    await link.addAddress('eth0', '192.168.10.11', 24);
    await link.addAddress('eth1', '10.0.1.11', 24);
    await link.addAddress('eth2', '10.0.2.11', 24);
    const specs = vrrpInstanceSpecs(resolve(snap), 'd1');
    const { ready, refused } = await withAdvertSources(specs, sources, link);
    expect(ready.map((r) => [r.spec.name, r.spec.primaryAddress])).toEqual([
      ['g1/eth0/192.168.10.100', '192.168.10.11'],
      ['g1/eth0/192.168.10.200', '192.168.10.11'],
      ['g1/eth1/10.0.1.1', '10.0.1.11'],
    ]);
    // eth2 has none of the listed IPv4 sources; the IPv6 one is not on eth1.
    expect(refused.map((r) => r.instance.spec.name)).toEqual(['g1/eth1/2001:db8:1::1', 'g1/eth2/10.0.2.1']);
    expect(refused[1]!.message).toContain('none of the advert sources 192.168.10.11, 10.0.1.11 (Node annotation lvs.dev/vrrp-unicast-src-ip) is an address on eth2');
    // No annotation: every instance as it was (the speaker picks the interface's first address).
    expect((await withAdvertSources(specs, [], link)).ready).toEqual(specs);
  });
});
