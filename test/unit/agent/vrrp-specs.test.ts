import { describe, expect, it } from 'vitest';
import { compile } from '../../../src/agent/compile.js';
import { desiredSync, nodePriority, vrrpGroups, vrrpInstanceSpecs } from '../../../src/agent/vrrp-specs.js';
import { resolve } from '../../../src/model/index.js';
import { twoDirectors, vip1, vip2 } from './vrrp-fixtures.js';

describe('vrrpInstanceSpecs (model -> VRRP instances)', () => {
  it('makes one instance per VIP with the allocated router id and the group settings', () => {
    const specs = vrrpInstanceSpecs(resolve(twoDirectors({ vrrp: { preempt: false, garpRepeat: 3, garpIntervalMs: 20, unicastPeers: ['192.168.10.2'] } })), 'd1');
    expect(specs.map((s) => [s.group, s.vip, s.iface])).toEqual([['g1', vip1, 'eth0'], ['g1', vip2, 'eth0']]);
    expect(specs[0]!.spec).toEqual({
      name: `g1/eth0/${vip1}`, interface: 'eth0', version: 3, vrid: 51, priority: 100, advertIntervalMs: 100,
      vips: [vip1], preempt: false, preemptDelayMs: 0, unicastPeers: ['192.168.10.2'], garpRepeat: 3, garpIntervalMs: 20,
    });
    expect(specs[1]!.spec.vrid).toBe(52);
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
});

