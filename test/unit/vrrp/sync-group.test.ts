// FAULT, track_interface and vrrp_sync_group on the in-memory LAN with the fake clock: every
// transition keepalived 2.2.7 makes (vrrp_sync.c, vrrp_track.c, vrrp.c), at exact times.
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../../src/vrrp/fake-clock.js';
import type { VrrpInstanceConfig } from '../../../src/vrrp/config.js';
import { effectivePriority, trackingDelta, type TrackedInterface } from '../../../src/vrrp/sync-group.js';
import { Wire, type SyncNodeOptions } from './wire.js';

type Cfg = Omit<VrrpInstanceConfig, 'name' | 'primaryAddress' | 'family'>;
const v3 = (vrid: number, priority: number, extra: Partial<Cfg> = {}): Cfg => ({
  version: 3,
  vrid,
  priority,
  advertIntervalMs: 1000,
  virtualAddresses: [`10.0.0.${vrid}`],
  ...extra,
});
const mdi = (priority: number): number => 3000 + ((256 - priority) * 1000) / 256;
const skew = (priority: number): number => ((256 - priority) * 1000) / 256;

/** Two directors, each with one sync group of two instances (VRID 1 on eth0, VRID 2 on eth1). */
function pair(a: { priority?: number; sync?: SyncNodeOptions; extra?: Partial<Cfg> } = {}, b: typeof a = {}) {
  const clock = new FakeClock();
  const wire = new Wire(clock);
  const opts = (o: typeof a): SyncNodeOptions => ({ ifaces: ['eth0', 'eth1'], ...o.sync });
  wire.addSyncNode('a', '10.0.0.1', opts(a), v3(1, a.priority ?? 150, a.extra), v3(2, a.priority ?? 150, a.extra));
  wire.addSyncNode('b', '10.0.0.2', opts(b), v3(1, b.priority ?? 100, b.extra), v3(2, b.priority ?? 100, b.extra));
  wire.startAll();
  return { clock, wire };
}

const states = (wire: Wire, node: string): string[] => wire.node(node).instances.map((i) => i.state);

describe('track_interface weights (vrrp_track.c)', () => {
  const t = (name: string, weight: number): TrackedInterface => ({ name, weight });
  it('a positive weight counts while up, a negative one while down, weight 0 never', () => {
    const up = new Set(['eth1']);
    const isUp = (n: string): boolean => up.has(n);
    expect(trackingDelta([t('eth1', 10), t('eth2', 20), t('eth3', -30), t('eth1', -5), t('eth4', 0)], isUp)).toBe(10 - 30);
  });
  it('the effective priority stays in 1..254 and an owner never moves', () => {
    expect(effectivePriority(100, -200)).toBe(1);
    expect(effectivePriority(200, 100)).toBe(254);
    expect(effectivePriority(255, -100)).toBe(255);
    expect(effectivePriority(100, -30)).toBe(70);
  });
});

describe('FAULT', () => {
  it('a master whose tracked interface goes down sends priority 0 on every member it can still send on, releases its VIPs, and the backup takes over after Skew_Time', () => {
    const { clock, wire } = pair({ sync: { tracked: [{ name: 'eth9', weight: 0 }] } });
    clock.advance(10_000);
    expect(wire.masters(1)).toEqual(['a']);
    expect(wire.masters(2)).toEqual(['a']);
    const at = clock.now();
    wire.setLink('a', 'eth9', false);
    expect(states(wire, 'a')).toEqual(['fault', 'fault']);
    const aNow = wire.events.filter((e) => e.node === 'a' && e.t === at);
    expect(aNow.filter((e) => e.kind === 'advert').map((e) => [e.vrid, e.kind === 'advert' && e.priority])).toEqual([[1, 0], [2, 0]]);
    expect(aNow.filter((e) => e.kind === 'becomeBackup').map((e) => e.vrid)).toEqual([1, 2]);
    expect(wire.stateEvents('a').filter((e) => e.t === at).map((e) => [e.vrid, e.from, e.to, e.reason])).toEqual([
      [1, 'master', 'fault', 'fault'],
      [2, 'master', 'fault', 'fault'],
    ]);
    clock.advance(10_000);
    expect(wire.masters(1)).toEqual(['b']);
    expect(wire.masters(2)).toEqual(['b']);
    const takeover = wire.stateEvents('b').filter((e) => e.to === 'master');
    // Both of b's members heard priority 0: both want master after Skew_Time, so the group moves then.
    // VRID 1's timer fires first but waits for VRID 2 (due at the same time), which then takes the group.
    expect(takeover.map((e) => [e.vrid, e.t, e.reason])).toEqual([
      [2, at + skew(100), 'master-released'],
      [1, at + skew(100), 'sync-master'],
    ]);
    // In Fault nothing is sent and no timer runs.
    expect(wire.advertTimes('a').filter((x) => x > at)).toEqual([]);
  });

  it('the own interface of one member going down takes the whole group to Fault; its adverts cannot go out, the other member\'s priority 0 can', () => {
    const { clock, wire } = pair();
    clock.advance(10_000);
    const at = clock.now();
    wire.setLink('a', 'eth1', false);
    expect(states(wire, 'a')).toEqual(['fault', 'fault']);
    expect(wire.events.filter((e) => e.node === 'a' && e.t === at && e.kind === 'advert').map((e) => e.vrid)).toEqual([1]);
    clock.advance(10_000);
    // b's VRID 1 heard priority 0 and wants master after Skew_Time; VRID 2 heard nothing, so it
    // wants master only after Master_Down_Interval: the group waits for it (vrrp_sync_can_goto_master).
    const lastAdvert2 = wire.advertTimes('a', 2).filter((x) => x < at).at(-1)!;
    const takeover = wire.stateEvents('b').filter((e) => e.to === 'master');
    expect(takeover.map((e) => [e.vrid, e.t, e.reason])).toEqual([
      [2, lastAdvert2 + mdi(100), 'master-down'],
      [1, lastAdvert2 + mdi(100), 'sync-master'],
    ]);
  });

  it('recovery: Fault -> Backup for every member, then the election (preempt: the higher priority takes the group back)', () => {
    const { clock, wire } = pair();
    clock.advance(10_000);
    wire.setLink('a', 'eth0', false);
    clock.advance(10_000);
    expect(wire.masters(1)).toEqual(['b']);
    const up = clock.now();
    wire.setLink('a', 'eth0', true);
    expect(states(wire, 'a')).toEqual(['backup', 'backup']);
    expect(wire.stateEvents('a').filter((e) => e.t === up).map((e) => [e.vrid, e.from, e.to, e.reason])).toEqual([
      [1, 'fault', 'backup', 'fault-recovered'],
      [2, 'fault', 'backup', 'fault-recovered'],
    ]);
    clock.advance(20_000);
    expect(wire.masters(1)).toEqual(['a']);
    expect(wire.masters(2)).toEqual(['a']);
    expect(states(wire, 'b')).toEqual(['backup', 'backup']);
    // a ignores b's lower adverts and takes over when its down timers run out (Master_Down_Interval after recovery).
    const back = wire.stateEvents('a').filter((e) => e.to === 'master' && e.t > up);
    expect(back[0]!.t).toBe(up + mdi(150));
  });

  it('recovery with nopreempt: the recovered director stays Backup', () => {
    const { clock, wire } = pair({ extra: { preempt: false } }, { extra: { preempt: false } });
    clock.advance(10_000);
    wire.setLink('a', 'eth0', false);
    clock.advance(10_000);
    wire.setLink('a', 'eth0', true);
    clock.advance(30_000);
    expect(wire.masters(1)).toEqual(['b']);
    expect(wire.masters(2)).toEqual(['b']);
  });

  it('a group whose interface is down when it starts starts in Fault and sends nothing', () => {
    const clock = new FakeClock();
    const wire = new Wire(clock);
    const n = wire.addSyncNode('a', '10.0.0.1', { ifaces: ['eth0', 'eth0'] }, v3(1, 100), v3(2, 100));
    n.sync!.setLink('eth0', false);
    n.down.add('eth0');
    wire.startAll();
    clock.advance(10_000);
    expect(states(wire, 'a')).toEqual(['fault', 'fault']);
    expect(wire.stateEvents('a').map((e) => [e.from, e.to])).toEqual([['initialize', 'fault'], ['initialize', 'fault']]);
    expect(wire.advertTimes('a')).toEqual([]);
  });

  it('in Fault adverts are ignored (a flapping peer does not move a faulted group)', () => {
    const { clock, wire } = pair({}, { priority: 200 });
    clock.advance(10_000);
    wire.setLink('a', 'eth9', false); // not tracked: nothing happens
    expect(states(wire, 'a')).toEqual(['backup', 'backup']);
    wire.node('a').sync!.setTracked([{ name: 'eth9', weight: 0 }]);
    expect(states(wire, 'a')).toEqual(['fault', 'fault']);
    const before = wire.node('a').instances[0]!.stats().advertsReceived;
    clock.advance(10_000);
    expect(wire.node('a').instances[0]!.stats().advertsReceived).toBe(before);
  });
});

describe('weighted track_interface', () => {
  it('a negative weight lowers the priority while the interface is down: the backup preempts, and the master returns when it is up', () => {
    const { clock, wire } = pair({ sync: { tracked: [{ name: 'eth9', weight: -60 }] } });
    clock.advance(10_000);
    expect(wire.masters(1)).toEqual(['a']);
    const at = clock.now();
    wire.setLink('a', 'eth9', false);
    expect(wire.node('a').instances.map((i) => [i.state, i.priority])).toEqual([['master', 90], ['master', 90]]);
    // The master advertises its new priority at once.
    expect(wire.events.filter((e) => e.node === 'a' && e.t === at && e.kind === 'advert').map((e) => e.kind === 'advert' && e.priority)).toEqual([90, 90]);
    clock.advance(10_000);
    expect(wire.masters(1)).toEqual(['b']);
    expect(wire.masters(2)).toEqual(['b']);
    expect(states(wire, 'a')).toEqual(['backup', 'backup']);
    wire.setLink('a', 'eth9', true);
    expect(wire.node('a').instances.map((i) => i.priority)).toEqual([150, 150]);
    clock.advance(10_000);
    expect(wire.masters(1)).toEqual(['a']);
    expect(wire.masters(2)).toEqual(['a']);
  });

  it('a positive weight raises the priority while up', () => {
    const { clock, wire } = pair({ priority: 100 }, { priority: 120, sync: { tracked: [{ name: 'eth9', weight: 50 }] } });
    clock.advance(10_000);
    expect(wire.masters(1)).toEqual(['b']);
    wire.setLink('b', 'eth9', false);
    expect(wire.node('b').instances[0]!.priority).toBe(120);
    clock.advance(10_000);
    expect(wire.masters(1)).toEqual(['b']);
    wire.setLink('b', 'eth9', true);
    expect(wire.node('b').instances[0]!.priority).toBe(170);
  });
});

describe('vrrp_sync_group', () => {
  it('the master of one member is the master of all: a backup member does not take over alone', () => {
    const { clock, wire } = pair();
    clock.advance(10_000);
    // Only VRID 1 of a stops being heard by b (say one VLAN drops it): b's VRID 1 wants master,
    // VRID 2 still hears a, so b's group stays Backup (keepalived prefers backup to thrashing).
    const node = wire.node('b');
    node.down.add('eth0');
    clock.advance(30_000);
    expect(states(wire, 'b')).toEqual(['backup', 'backup']);
    expect(node.instances[0]!.wantsMaster).toBe(true);
    expect(node.instances[1]!.wantsMaster).toBe(false);
    // Once VRID 2 also times out, the whole group moves.
    node.down.add('eth1');
    clock.advance(10_000);
    expect(states(wire, 'b')).toEqual(['master', 'master']);
  });

  it('a master member that hears a higher priority goes Backup and takes the others with it, without priority 0', () => {
    const { clock, wire } = pair({ priority: 100 }, { priority: 100 });
    clock.advance(10_000);
    // Equal priorities: b (higher address) is master of both.
    expect(wire.masters(1)).toEqual(['b']);
    // One member's priority alone moves nothing: a's other member still accepts b, so a's group
    // never wants master as a whole (which is why priorities change group-wide).
    wire.node('a').instances[0]!.setPriority(200);
    clock.advance(30_000);
    expect(wire.masters(1)).toEqual(['b']);
    const at = clock.now();
    wire.node('a').sync!.setOffset(100);
    expect(wire.node('a').instances.map((i) => i.priority)).toEqual([200, 200]);
    clock.advance(10_000);
    expect(wire.masters(1)).toEqual(['a']);
    expect(wire.masters(2)).toEqual(['a']);
    const down = wire.stateEvents('b').filter((e) => e.t > at && e.to === 'backup');
    // a's VRID 2 took the group (VRID 1 had been waiting, wanting master), so b hears VRID 2 first.
    expect(down.map((e) => [e.vrid, e.reason])).toEqual([[2, 'higher-priority'], [1, 'sync-backup']]);
    expect(wire.events.filter((e) => e.node === 'b' && e.t > at && e.kind === 'advert' && e.priority === 0)).toEqual([]);
  });

  it('a member added later starts Backup and follows the group to Master', () => {
    const clock = new FakeClock();
    const wire = new Wire(clock);
    const n = wire.addSyncNode('a', '10.0.0.1', {}, v3(1, 100));
    wire.startAll();
    clock.advance(10_000);
    expect(n.sync!.state).toBe('master');
    expect(n.sync!.mayBecomeMaster(n.instances[0]!)).toBe(true);
  });
});
