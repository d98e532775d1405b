// Several routers on the in-memory wire: real encoded packets, one shared fake clock.
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../../src/vrrp/fake-clock.js';
import { encodeIpv4Packet } from '../../../src/vrrp/ipv4-header.js';
import { encodeAdvert } from '../../../src/vrrp/packet.js';
import type { VrrpInstanceConfig } from '../../../src/vrrp/config.js';
import { Wire } from './wire.js';

type Cfg = Omit<VrrpInstanceConfig, 'name' | 'primaryAddress' | 'family'>;
const v3 = (priority: number, extra: Partial<Cfg> = {}): Cfg => ({
  version: 3,
  vrid: 51,
  priority,
  advertIntervalMs: 1000,
  virtualAddresses: ['10.0.0.100'],
  ...extra,
});
const v2 = (priority: number, password: string, extra: Partial<Cfg> = {}): Cfg => ({
  version: 2,
  vrid: 52,
  priority,
  advertIntervalMs: 1000,
  virtualAddresses: ['10.0.0.100'],
  auth: { type: 'pass', password },
  ...extra,
});

// Master_Down_Interval for a 1 s interval: 3000 + (256 - priority) * 1000 / 256.
const mdi = (priority: number) => 3000 + ((256 - priority) * 1000) / 256;

function lan(...nodes: [string, string, Cfg][]) {
  const clock = new FakeClock();
  const wire = new Wire(clock);
  for (const [name, addr, cfg] of nodes) wire.addNode(name, addr, cfg);
  return { clock, wire };
}

describe('election on a LAN', () => {
  it('two routers: the higher priority becomes Master first (shorter skew) and the other stays Backup', () => {
    const { clock, wire } = lan(['a', '10.0.0.1', v3(100)], ['b', '10.0.0.2', v3(50)]);
    wire.startAll();
    clock.advance(10_000);
    expect(wire.masters()).toEqual(['a']);
    expect(wire.stateEvents('a').map((e) => [e.t, e.to, e.reason])).toEqual([
      [0, 'backup', 'startup'],
      [3609.375, 'master', 'master-down'],
    ]);
    expect(wire.stateEvents('b').map((e) => e.to)).toEqual(['backup']);
    // b's timer is reset by every advert from a: last at 9609.375, so it runs to 9609.375 + mdi(50).
    const last = wire.advertTimes('a').at(-1)!;
    expect(last).toBe(9609.375);
    expect(wire.instance('b').masterDownIntervalMs).toBe(mdi(50));
    expect(clock.pending().map((t) => t.dueAt)).toContain(last + mdi(50));
  });

  it('master death: the backup takes over exactly Master_Down_Interval after the last advert', () => {
    const { clock, wire } = lan(['a', '10.0.0.1', v3(100)], ['b', '10.0.0.2', v3(50)]);
    wire.startAll();
    clock.advance(5000);
    wire.unplug('a');
    clock.advance(10_000);
    const lastHeard = wire.advertTimes('a').filter((t) => t <= 5000).at(-1)!;
    expect(lastHeard).toBe(4609.375);
    const takeover = wire.stateEvents('b').find((e) => e.to === 'master')!;
    expect(takeover).toMatchObject({ t: lastHeard + mdi(50), reason: 'master-down' });
    expect(takeover.t).toBe(4609.375 + 3804.6875);
  });

  it('priority 0 on shutdown: the backup takes over after Skew_Time only', () => {
    const { clock, wire } = lan(['a', '10.0.0.1', v3(100)], ['b', '10.0.0.2', v3(50)]);
    wire.startAll();
    clock.advance(5000);
    wire.instance('a').shutdown();
    clock.advance(5000);
    const takeover = wire.stateEvents('b').find((e) => e.to === 'master')!;
    // Skew_Time for priority 50: 206 * 1000 / 256.
    expect(takeover).toMatchObject({ t: 5000 + 804.6875, reason: 'master-released' });
    expect(wire.masters()).toEqual(['b']);
    expect(wire.events.filter((e) => e.node === 'a' && e.t === 5000).map((e) => e.kind)).toEqual([
      'advert',
      'becomeBackup',
      'state',
    ]);
  });

  it('preempt: a higher-priority router that joins later takes over after its Master_Down_Interval', () => {
    const { clock, wire } = lan(['a', '10.0.0.1', v3(100)], ['b', '10.0.0.2', v3(200)]);
    wire.instance('a').start();
    clock.advance(5000);
    wire.instance('b').start();
    clock.advance(10_000);
    expect(wire.masters()).toEqual(['b']);
    // b ignores a's lower-priority adverts, so its first timer runs out: 5000 + mdi(200).
    expect(wire.stateEvents('b').find((e) => e.to === 'master')).toMatchObject({ t: 5000 + 3218.75, reason: 'preempt' });
    expect(wire.stateEvents('a').at(-1)).toMatchObject({ t: 5000 + 3218.75, to: 'backup', reason: 'higher-priority' });
    expect(wire.instance('b').stats().lowerPriorityIgnored).toBe(3);
  });

  it('nopreempt: the higher-priority newcomer accepts the lower-priority master, until it dies', () => {
    const { clock, wire } = lan(['a', '10.0.0.1', v3(100)], ['b', '10.0.0.2', v3(200, { preempt: false })]);
    wire.instance('a').start();
    clock.advance(5000);
    wire.instance('b').start();
    clock.advance(60_000);
    expect(wire.masters()).toEqual(['a']);
    expect(wire.instance('b').currentMaster).toEqual({ address: '10.0.0.1', priority: 100 });
    wire.unplug('a');
    clock.advance(10_000);
    expect(wire.stateEvents('b').at(-1)).toMatchObject({ to: 'master', reason: 'master-down' });
  });

  it('preempt delay (keepalived): no preemption until the delay after startup has passed', () => {
    const { clock, wire } = lan(['a', '10.0.0.1', v3(100)], ['b', '10.0.0.2', v3(200, { preemptDelayMs: 10_000 })]);
    wire.instance('a').start();
    clock.advance(5000); // a is master, adverts at 3609.375 + k * 1000
    wire.instance('b').start(); // delay runs until 15000
    clock.advance(30_000);
    // b accepts a's adverts until 15000 (the last at 14609.375), ignores the ones after,
    // and takes over Master_Down_Interval after the last one it accepted.
    const takeover = wire.stateEvents('b').find((e) => e.to === 'master')!;
    expect(takeover).toMatchObject({ t: 14609.375 + 3218.75, reason: 'preempt' });
    expect(wire.masters()).toEqual(['b']);
  });

  it('preempt delay starts again when a master later drops below us (priority follows health)', () => {
    const { clock, wire } = lan(['a', '10.0.0.1', v3(250)], ['b', '10.0.0.2', v3(200, { preemptDelayMs: 5000 })]);
    wire.startAll();
    clock.advance(20_000); // a master; b saw a higher priority, which cancels the startup delay
    expect(wire.masters()).toEqual(['a']);
    wire.instance('a').setPriority(150); // a's health dropped; it advertises 150 at once (t = 20000)
    clock.advance(30_000);
    // The first lower advert (20000) starts b's delay: b accepts a's adverts until 25000, then
    // ignores them and takes over Master_Down_Interval after the last one it accepted.
    const accepted = wire.advertTimes('a').filter((t) => t >= 20_000 && t < 25_000);
    const takeover = wire.stateEvents('b').find((e) => e.to === 'master')!;
    expect(accepted.at(-1)).toBe(24023.4375); // a became master at mdi(250) = 3023.4375
    expect(takeover).toMatchObject({ t: accepted.at(-1)! + 3218.75, reason: 'preempt' });
    expect(wire.stateEvents('a').at(-1)).toMatchObject({ to: 'backup', reason: 'higher-priority' });
  });

  it('equal priority: the higher primary address wins, within the same instant', () => {
    const { clock, wire } = lan(['a', '10.0.0.9', v3(100)], ['b', '10.0.0.10', v3(100)]);
    wire.startAll();
    clock.advance(3609.375);
    // Both timers ran out together, both adverted; a (10.0.0.9 < 10.0.0.10) stepped down on hearing b.
    expect(wire.masters()).toEqual(['b']);
    expect(wire.stateEvents('a').map((e) => [e.t, e.to, e.reason])).toEqual([
      [0, 'backup', 'startup'],
      [3609.375, 'master', 'master-down'],
      [3609.375, 'backup', 'equal-priority-higher-address'],
    ]);
    clock.advance(20_000);
    expect(wire.masters()).toEqual(['b']);
  });

  it('partition: both become Master; after healing one Master remains within one advert interval', () => {
    for (const [pa, pb, winner] of [
      [100, 50, 'a'],
      [100, 100, 'b'], // equal: higher address
    ] as const) {
      const { clock, wire } = lan(['a', '10.0.0.1', v3(pa)], ['b', '10.0.0.2', v3(pb)]);
      wire.startAll();
      clock.advance(10_000);
      wire.partition(['a'], ['b']);
      clock.advance(10_000);
      expect(wire.masters().sort()).toEqual(['a', 'b']);
      wire.heal();
      const healedAt = clock.now();
      clock.advance(1000);
      expect(wire.masters()).toEqual([winner]);
      const loser = winner === 'a' ? 'b' : 'a';
      const stepDown = wire.stateEvents(loser).at(-1)!;
      expect(stepDown.to).toBe('backup');
      expect(stepDown.t - healedAt).toBeLessThanOrEqual(1000);
      clock.advance(30_000);
      expect(wire.masters()).toEqual([winner]);
    }
  });

  it('three routers: the best remaining backup takes over, the third stays Backup; the old master preempts back', () => {
    const clock = new FakeClock();
    const wire = new Wire(clock);
    wire.addNode('a', '10.0.0.1', v3(100));
    wire.addNode('b', '10.0.0.2', v3(150));
    wire.addNode('c', '10.0.0.3', v3(200));
    wire.startAll();
    clock.advance(10_000);
    expect(wire.masters()).toEqual(['c']);
    wire.unplug('c');
    clock.advance(10_000);
    const lastC = wire.advertTimes('c').filter((t) => t < 10_000).at(-1)!;
    // c is cut off, so it still believes it is master; on the LAN b took over.
    expect(wire.masters()).toEqual(['b', 'c']);
    expect(wire.stateEvents('b').at(-1)).toMatchObject({ t: lastC + mdi(150), to: 'master' });
    expect(wire.stateEvents('a').map((e) => e.to)).toEqual(['backup']); // a never moved
    // c is restarted and reconnected: it ignores b's lower adverts and preempts.
    wire.instance('c').shutdown();
    wire.plug('c');
    const restart = clock.now();
    wire.instance('c').start();
    clock.advance(10_000);
    expect(wire.masters()).toEqual(['c']);
    expect(wire.stateEvents('c').at(-1)).toMatchObject({ t: restart + mdi(200), reason: 'preempt' });
    expect(wire.stateEvents('b').at(-1)).toMatchObject({ to: 'backup', reason: 'higher-priority' });
  });

  it('instances with different VRIDs on the same routers are independent', () => {
    const clock = new FakeClock();
    const wire = new Wire(clock);
    wire.addNode('a', '10.0.0.1', v3(200, { vrid: 1 }), v3(100, { vrid: 2, virtualAddresses: ['10.0.0.200'] }));
    wire.addNode('b', '10.0.0.2', v3(100, { vrid: 1 }), v3(200, { vrid: 2, virtualAddresses: ['10.0.0.200'] }));
    wire.startAll();
    clock.advance(10_000);
    expect(wire.masters(1)).toEqual(['a']);
    expect(wire.masters(2)).toEqual(['b']);
    wire.instance('a', 1).shutdown();
    clock.advance(10_000);
    expect(wire.masters(1)).toEqual(['b']);
    expect(wire.masters(2)).toEqual(['b']);
    expect(wire.instance('a', 2).state).toBe('backup');
    // Nothing crossed over: no instance dropped anything.
    for (const n of ['a', 'b']) {
      for (const v of [1, 2]) {
        const dropped = Object.values(wire.instance(n, v).stats().dropped).reduce((x, y) => x + y, 0);
        expect(dropped, `${n}/${v}`).toBe(0);
      }
    }
    expect(wire.node('a').demux.stats().unknownVrid).toBe(0);
  });

  it('IPv6: election and takeover work the same over the IPv6 pseudo-header', () => {
    const clock = new FakeClock();
    const wire = new Wire(clock, 'IPv6');
    const cfg = (p: number): Cfg => ({ ...v3(p), advertIntervalMs: 100, virtualAddresses: ['fe80::100', '2001:db8::100'] });
    wire.addNode('a', 'fe80::1', cfg(100));
    wire.addNode('b', 'fe80::2', cfg(50));
    wire.startAll();
    clock.advance(1000);
    expect(wire.masters()).toEqual(['a']);
    expect(wire.stateEvents('a')[1]).toMatchObject({ t: 300 + (156 * 100) / 256 });
    wire.instance('a').shutdown();
    clock.advance(1000);
    expect(wire.masters()).toEqual(['b']);
    expect(wire.instance('b').stats().dropped['bad-checksum']).toBe(0);
  });
});

describe('VRRPv2 on a LAN', () => {
  it('elects with seconds intervals; Skew_Time is (256 - priority) / 256 s whatever the interval', () => {
    const { clock, wire } = lan(['a', '10.0.0.1', v2(100, 'secret', { advertIntervalMs: 2000 })], ['b', '10.0.0.2', v2(50, 'secret', { advertIntervalMs: 2000 })]);
    wire.startAll();
    clock.advance(20_000);
    expect(wire.masters()).toEqual(['a']);
    expect(wire.stateEvents('a')[1]).toMatchObject({ t: 6000 + 609.375 });
  });

  it('a router with the wrong password is not heard: its adverts are dropped and counted', () => {
    const clock = new FakeClock();
    const wire = new Wire(clock);
    wire.addNode('a', '10.0.0.1', v2(100, 'secret'));
    wire.addNode('b', '10.0.0.2', v2(50, 'secret'));
    wire.startAll();
    clock.advance(10_000);
    wire.addNode('c', '10.0.0.3', v2(250, 'wrong'));
    wire.instance('c').start();
    clock.advance(10_000);
    // c cannot preempt a: a and b drop every advert from c (and c drops theirs).
    expect(wire.instance('a').state).toBe('master');
    expect(wire.instance('b').state).toBe('backup');
    expect(wire.instance('a').stats().dropped['auth-mismatch']).toBeGreaterThan(5);
    expect(wire.instance('b').stats().dropped['auth-mismatch']).toBeGreaterThan(5);
    expect(wire.instance('c').stats().dropped['auth-mismatch']).toBeGreaterThan(5);
  });
});

describe('malformed packets on the wire', () => {
  it('are counted by reason and change nothing', () => {
    const { clock, wire } = lan(['a', '10.0.0.1', v3(100)], ['b', '10.0.0.2', v3(50)]);
    wire.startAll();
    clock.advance(5000);
    const before = wire.stateEvents().length;
    const good = encodeAdvert(
      { version: 3, family: 'IPv4', vrid: 51, priority: 250, maxAdvertIntervalCs: 100, addresses: ['10.0.0.100'] },
      { src: '10.0.0.66', dst: '224.0.0.18' },
    );
    const ip = (vrrp: Buffer, ttl = 255) => encodeIpv4Packet({ src: '10.0.0.66', dst: '224.0.0.18', ttl }, vrrp);
    const corrupt = Buffer.from(good);
    corrupt[2] = 251;
    wire.inject('b', ip(corrupt)); // bad checksum
    wire.inject('b', ip(good, 64)); // routed from another subnet
    wire.inject('b', ip(good.subarray(0, 10))); // truncated
    wire.inject('b', ip(Buffer.from([0x11, 51, 250, 1, 0, 100, 0, 0, 10, 0, 0, 100]))); // VRRP version 1
    wire.inject('b', ip(Buffer.from([0x31, 99, 250, 1, 0, 100, 0, 0, 10, 0, 0, 100]))); // a VRID nobody serves
    wire.inject('b', ip(Buffer.from([1, 2, 3]))); // not even a header
    wire.inject('b', Buffer.from([0x45, 0, 0])); // not even an IP header
    clock.advance(5000);
    expect(wire.instance('b').stats().dropped).toMatchObject({
      'bad-checksum': 1,
      'bad-ttl': 1,
      'bad-length': 1,
      'bad-version': 1,
    });
    expect(wire.node('b').demux.stats()).toEqual({ unknownVrid: 1, malformed: { 'bad-length': 2 } });
    // The forged priority-250 adverts did not make b reset or change anything.
    expect(wire.stateEvents().length).toBe(before);
    expect(wire.masters()).toEqual(['a']);
    // And the real one would have been accepted: it is the corruption that made the difference.
    wire.inject('b', ip(good));
    clock.advance(0);
    expect(wire.instance('b').currentMaster).toEqual({ address: '10.0.0.66', priority: 250 });
  });
});
