import { describe, expect, it } from 'vitest';
import { FakeLinkClient } from '../../../src/link/index.js';
import { FakeClock } from '../../../src/vrrp/fake-clock.js';
import { encodeIpv4Packet } from '../../../src/vrrp/ipv4-header.js';
import { decodeAdvert, encodeAdvert } from '../../../src/vrrp/packet.js';
import {
  parseVip,
  VrrpSpeaker,
  type TakeoverActions,
  type TakeoverContext,
  type VrrpInstanceSpec,
  type LinkStateSource,
  type VrrpTransition,
} from '../../../src/vrrp/runtime/index.js';
import { FakeLan } from './fake-channels.js';
import { MemoryLinks } from './memory-links.js';
import { silent } from './wire.js';

const flush = (): Promise<void> => new Promise((r) => setImmediate(r));

interface Call {
  action: 'becomeMaster' | 'becomeBackup';
  instance: string;
  ctx: TakeoverContext;
  t: number;
}

/** Records each action; `hold` lets a test keep an action running until it says so. */
class RecordingActions implements TakeoverActions {
  readonly calls: Call[] = [];
  hold: ((c: Call) => Promise<void>) | undefined;
  fail: Error | undefined;

  constructor(private readonly clock: FakeClock) {}

  becomeMaster(ctx: TakeoverContext): Promise<void> {
    return this.record('becomeMaster', ctx);
  }

  becomeBackup(ctx: TakeoverContext): Promise<void> {
    return this.record('becomeBackup', ctx);
  }

  private async record(action: Call['action'], ctx: TakeoverContext): Promise<void> {
    const c = { action, instance: ctx.instance, ctx, t: this.clock.now() };
    this.calls.push(c);
    if (this.fail) throw this.fail;
    await this.hold?.(c);
  }

  names(): string[] {
    return this.calls.map((c) => `${c.action}(${c.instance})`);
  }
}

function link(...addresses: string[]): FakeLinkClient {
  const l = new FakeLinkClient(['lo', 'eth0']);
  for (const cidr of addresses) {
    const [a = '', len = '32'] = cidr.split('/');
    void l.addAddress('eth0', a, Number(len));
  }
  return l;
}

const spec = (extra: Partial<VrrpInstanceSpec> = {}): VrrpInstanceSpec => ({
  name: 'web', interface: 'eth0', version: 3, vrid: 51, priority: 100, advertIntervalMs: 1000, vips: ['10.0.0.100'], ...extra,
});

function setup() {
  const clock = new FakeClock();
  const lan = new FakeLan(clock);
  const node = (name: string, address: string, extraAddresses: string[] = [], links?: LinkStateSource) => {
    const actions = new RecordingActions(clock);
    const transitions: VrrpTransition[] = [];
    const l = link(`${address}/24`, ...extraAddresses);
    const speaker = new VrrpSpeaker({
      actions, link: l, clock, log: silent, channels: lan.factory(name, [address, ...extraAddresses.map((a) => a.split('/')[0]!)]),
      ...(links ? { links } : {}),
    });
    speaker.on('transition', (e) => transitions.push(e));
    return { speaker, actions, transitions, link: l };
  };
  return { clock, lan, node };
}

describe('VrrpSpeaker', () => {
  it('elects a master between two speakers, reports transitions and runs the actions in order', async () => {
    const { clock, node } = setup();
    const a = node('a', '10.0.0.1');
    const b = node('b', '10.0.0.2');
    await a.speaker.addInstance(spec({ priority: 200, vips: ['10.0.0.100/24'] }));
    await b.speaker.addInstance(spec({ vips: ['10.0.0.100/24'] }));
    await flush();
    expect(a.actions.names()).toEqual(['becomeBackup(web)']);

    clock.advance(3000 + ((256 - 200) * 1000) / 256); // A's Master_Down_Interval
    await flush();
    clock.advance(10);
    await flush();
    expect(a.speaker.status()[0]).toMatchObject({ state: 'master', priority: 200, primaryAddress: '10.0.0.1', vips: ['10.0.0.100/24'] });
    expect(b.speaker.status()[0]).toMatchObject({ state: 'backup', master: { address: '10.0.0.1', priority: 200 } });
    expect(a.transitions.map((t) => `${t.from}->${t.to}:${t.reason}`)).toEqual(['initialize->backup:startup', 'backup->master:master-down']);
    expect(a.transitions[1]).toMatchObject({ instance: 'web', interface: 'eth0', family: 'IPv4', vrid: 51, priority: 200, masterAddress: '10.0.0.1' });
    expect(b.transitions.map((t) => t.to)).toEqual(['backup']);
    expect(a.actions.names()).toEqual(['becomeBackup(web)', 'becomeMaster(web)']);
    const master = a.actions.calls[1]!.ctx;
    expect(master).toMatchObject({ ifname: 'eth0', family: 'IPv4', vrid: 51, vips: [{ address: '10.0.0.100', prefixLen: 24 }], garpRepeat: 5, garpIntervalMs: 0 });
    expect(master.signal.aborted).toBe(false);
  });

  it('a backup whose socket was not read (event loop held up) reads the waiting adverts before a Master_Down expiry acts', async () => {
    const { clock, lan, node } = setup();
    const a = node('a', '10.0.0.1');
    const b = node('b', '10.0.0.2');
    await a.speaker.addInstance(spec({ priority: 255, vips: ['10.0.0.100/24'] })); // master at once
    // b has the higher configured priority than a non-owner would, and no preempt: it must stay backup.
    await b.speaker.addInstance(spec({ priority: 254, preempt: false, vips: ['10.0.0.100/24'] }));
    await flush();
    const rx = lan.channel('b');
    rx.holdReads = true;
    clock.advance(10_000); // ten adverts from a queue up unread; b's Master_Down timer expires again and again
    await flush();
    expect(b.speaker.status()[0]).toMatchObject({ state: 'backup', master: { address: '10.0.0.1' } });
    expect(rx.drains).toBeGreaterThan(0);
    expect(b.speaker.status()[0]!.counters.lateAdvertsHeeded).toBeGreaterThan(0);
    expect(b.transitions.map((t) => t.to)).toEqual(['backup']);

    // Nothing waiting (a is gone): the expiry acts as before.
    await a.speaker.stop();
    lan.unplugged.add('a');
    rx.drain();
    clock.advance(4000);
    await flush();
    expect(b.speaker.status()[0]!.state).toBe('master');
  });

  it('sends adverts from the primary address to the multicast group, checksummed for that pair', async () => {
    const { clock, lan, node } = setup();
    const a = node('a', '10.0.0.1');
    await a.speaker.addInstance(spec({ priority: 255 })); // the owner: master at once
    clock.advance(1000);
    const sent = lan.sent.filter((s) => s.from === 'a');
    expect(sent.length).toBe(2);
    for (const s of sent) {
      expect(s).toMatchObject({ src: '10.0.0.1', dst: '224.0.0.18' });
      const d = decodeAdvert(s.vrrp, { family: 'IPv4', src: s.src, dst: s.dst, ttl: 255 });
      expect(d).toMatchObject({ ok: true, advert: { vrid: 51, priority: 255, addresses: ['10.0.0.100'] } });
    }
    expect(lan.channel('a').joined).toBe(true);
  });

  it('finds the source address: the first IPv4 address that is no VIP, the IPv6 link-local; refuses without one', async () => {
    const clock = new FakeClock();
    const lan = new FakeLan(clock);
    const l = link('10.0.0.100/32', '10.0.0.7/24', '2001:db8::7/64', 'fe80::7/64');
    const speaker = new VrrpSpeaker({ actions: new RecordingActions(clock), link: l, clock, log: silent, channels: lan.factory('x', []) });
    await speaker.addInstance(spec());
    await speaker.addInstance(spec({ name: 'v6', vrid: 52, vips: ['2001:db8::100'] }));
    expect(speaker.status().map((s) => [s.name, s.primaryAddress, s.vips])).toEqual([
      ['web', '10.0.0.7', ['10.0.0.100/32']],
      ['v6', 'fe80::7', ['2001:db8::100/128']],
    ]);
    const bare = new VrrpSpeaker({ actions: new RecordingActions(clock), link: link(), clock, log: silent, channels: lan.factory('y', []) });
    await expect(bare.addInstance(spec())).rejects.toThrow(/no IPv4 address on eth0/);
    await expect(bare.addInstance(spec({ vips: ['2001:db8::100'] }))).rejects.toThrow(/no IPv6 link-local address on eth0/);
    expect(lan.channels.filter((c) => c.owner === 'y')).toEqual([]);
  });

  it('stop(): a master sends priority 0 and gives up its VIPs, then closes its sockets', async () => {
    const { clock, lan, node } = setup();
    const a = node('a', '10.0.0.1');
    await a.speaker.addInstance(spec({ priority: 255 }));
    await flush();
    const channel = lan.channel('a');
    await a.speaker.stop();
    const last = lan.sent.at(-1)!;
    expect(decodeAdvert(last.vrrp, { family: 'IPv4', src: last.src, dst: last.dst })).toMatchObject({ ok: true, advert: { priority: 0 } });
    expect(a.actions.names()).toEqual(['becomeMaster(web)', 'becomeBackup(web)']);
    expect(a.transitions.at(-1)).toMatchObject({ from: 'master', to: 'initialize', reason: 'shutdown' });
    expect(channel.closed).toBe(true);
    expect(a.speaker.status()).toEqual([]);
    clock.advance(5000);
    expect(lan.sent.at(-1)).toBe(last); // no timer left behind
  });

  it('runs one action at a time per instance and aborts the running one when the state changes again', async () => {
    const { lan, node } = setup();
    const a = node('a', '10.0.0.1');
    let release!: () => void;
    a.actions.hold = (c) => (c.action === 'becomeMaster' ? new Promise((r) => { release = r; }) : Promise.resolve());
    await a.speaker.addInstance(spec({ priority: 255 }));
    await flush();
    expect(a.actions.names()).toEqual(['becomeMaster(web)']);
    const running = a.actions.calls[0]!.ctx;
    // Another owner with a higher address: Master -> Backup while becomeMaster still runs.
    lan.channel('a').inject(ipv4Advert({ priority: 255 }, '10.0.0.9'));
    await flush();
    expect(a.speaker.status()[0]!.state).toBe('backup');
    expect(running.signal.aborted).toBe(true);
    expect(a.actions.names()).toEqual(['becomeMaster(web)']); // becomeBackup waits for it
    release();
    await flush();
    expect(a.actions.names()).toEqual(['becomeMaster(web)', 'becomeBackup(web)']);
    expect(a.actions.calls[1]!.ctx.signal.aborted).toBe(false);
  });

  it('a re-added instance waits for the removed one to give its VIPs up before acting', async () => {
    const { node } = setup();
    const a = node('a', '10.0.0.1');
    await a.speaker.addInstance(spec({ priority: 255 }));
    await flush();
    let release!: () => void;
    a.actions.hold = (c) => (c.action === 'becomeBackup' ? new Promise((r) => { release = r; }) : Promise.resolve());
    const removed = a.speaker.removeInstance('web');
    await flush();
    a.actions.hold = undefined;
    await a.speaker.addInstance(spec({ priority: 200, advertIntervalMs: 500 })); // new settings, same VIP
    await flush();
    expect(a.actions.names()).toEqual(['becomeMaster(web)', 'becomeBackup(web)']); // the new one waits
    release();
    await removed;
    await flush();
    expect(a.actions.names()).toEqual(['becomeMaster(web)', 'becomeBackup(web)', 'becomeBackup(web)']);
  });

  it('counts failed actions, reports them, and the state machine goes on', async () => {
    const { clock, node } = setup();
    const a = node('a', '10.0.0.1');
    a.actions.fail = new Error('RTNETLINK: operation not permitted');
    const errors: unknown[] = [];
    a.speaker.on('actionError', (e) => errors.push(e));
    await a.speaker.addInstance(spec({ priority: 255 }));
    await flush();
    clock.advance(3000);
    await flush();
    expect(errors).toEqual([{ instance: 'web', action: 'becomeMaster', error: a.actions.fail }]);
    expect(a.speaker.status()[0]).toMatchObject({ state: 'master', actionErrors: 1 });
    expect(a.speaker.status()[0]!.counters.advertsSent).toBe(4);
  });

  it('counts and drops malformed, foreign and wrong packets without throwing', async () => {
    const { lan, node } = setup();
    const a = node('a', '10.0.0.1');
    await a.speaker.addInstance(spec());
    const ch = lan.channel('a');
    ch.inject(Buffer.from([1, 2, 3])); // not even an IPv4 header
    const proto6 = encodeIpv4Packet({ src: '10.0.0.9', dst: '224.0.0.18' }, Buffer.alloc(8));
    proto6[9] = 6;
    ch.inject(proto6); // TCP, not VRRP
    ch.inject(ipv4Advert({ vrid: 99 }, '10.0.0.9')); // another router's VRID
    const lowTtl = ipv4Advert({}, '10.0.0.9');
    lowTtl[8] = 64;
    ch.inject(lowTtl); // forwarded by a router: TTL is not 255
    const badSum = ipv4Advert({}, '10.0.0.9');
    badSum[27] = (badSum[27]! + 1) & 0xff;
    ch.inject(badSum);
    ch.inject(ipv4Advert({ addresses: ['10.0.0.200'] }, '10.0.0.9'));
    const random = Buffer.alloc(40);
    for (let i = 0; i < 200; i++) {
      for (let j = 0; j < random.length; j++) random[j] = (i * 7919 + j * 104729) % 256;
      ch.inject(random);
    }
    const { demux } = a.speaker.stats().channels['eth0/IPv4']!;
    expect(demux.unknownVrid).toBeGreaterThanOrEqual(1);
    expect(demux.malformed['bad-ip-header']).toBeGreaterThanOrEqual(1);
    expect(demux.malformed['bad-length']).toBeGreaterThanOrEqual(1);
    const dropped = a.speaker.status()[0]!.counters.dropped;
    expect(dropped['bad-ttl']).toBe(1);
    expect(dropped['bad-checksum']).toBeGreaterThanOrEqual(1);
    expect(dropped['address-list-mismatch']).toBe(1);
    expect(a.speaker.status()[0]!.counters.advertsReceived).toBe(0);
  });

  it('counts adverts the socket refuses (interface down) and keeps its timers', async () => {
    const { clock, lan, node } = setup();
    const a = node('a', '10.0.0.1');
    await a.speaker.addInstance(spec({ priority: 255 }));
    lan.channel('a').failSends = Object.assign(new Error('sendto: Network is down'), { code: 'ENETDOWN' });
    clock.advance(3000);
    expect(a.speaker.status()[0]).toMatchObject({ state: 'master', sendErrors: 3 });
    lan.channel('a').failSends = undefined;
    clock.advance(1000);
    expect(a.speaker.status()[0]!.sendErrors).toBe(3);
    expect(lan.channel('a').stats().sent).toBe(2);
  });

  it('unicast: adverts go to every peer, no multicast membership, and the TTL is not checked', async () => {
    const { clock, lan, node } = setup();
    const a = node('a', '10.0.0.1');
    const b = node('b', '10.0.0.2');
    await a.speaker.addInstance(spec({ priority: 255, unicastPeers: ['10.0.0.2', '10.0.0.3'] }));
    await b.speaker.addInstance(spec({ unicastPeers: ['10.0.0.1'] }));
    clock.advance(1010);
    expect(lan.sent.filter((s) => s.from === 'a').map((s) => s.dst)).toEqual(['10.0.0.2', '10.0.0.3', '10.0.0.2', '10.0.0.3']);
    expect(lan.channel('a').joined).toBe(false);
    expect(b.speaker.status()[0]).toMatchObject({ state: 'backup', master: { address: '10.0.0.1' } });
    const routed = ipv4Advert({ priority: 254 }, '10.0.0.1', '10.0.0.2');
    routed[8] = 61;
    lan.channel('b').inject(routed);
    expect(b.speaker.status()[0]!.counters.dropped['bad-ttl']).toBe(0);
  });

  it('IPv6: adverts go from the link-local address to ff02::12', async () => {
    const { clock, lan, node } = setup();
    const a = node('a', '2001:db8::1', ['fe80::1/64']);
    await a.speaker.addInstance(spec({ priority: 255, vips: ['2001:db8::100/64'] }));
    clock.advance(10);
    await flush();
    const s = lan.sent.find((x) => x.from === 'a')!;
    expect(s).toMatchObject({ src: 'fe80::1', dst: 'ff02::12' });
    expect(decodeAdvert(s.vrrp, { family: 'IPv6', src: s.src, dst: s.dst, ttl: 255 })).toMatchObject({
      ok: true, advert: { addresses: ['2001:db8::100'] },
    });
    expect(a.actions.calls[0]!.ctx).toMatchObject({ family: 'IPv6', vips: [{ address: '2001:db8::100', prefixLen: 64 }] });
  });

  it('shares one channel per interface and family, and closes it with its last instance', async () => {
    const { lan, node } = setup();
    const a = node('a', '10.0.0.1');
    await a.speaker.addInstance(spec());
    await a.speaker.addInstance(spec({ name: 'api', vrid: 52, vips: ['10.0.0.101'] }));
    expect(lan.channels.length).toBe(1);
    await expect(a.speaker.addInstance(spec({ name: 'dup', vips: ['10.0.0.102'] }))).rejects.toThrow(/VRID 51 is already used by web/);
    await a.speaker.removeInstance('web');
    expect(lan.channels[0]!.closed).toBe(false);
    await a.speaker.removeInstance('api');
    expect(lan.channels[0]!.closed).toBe(true);
    expect(a.speaker.instanceNames()).toEqual([]);
  });

  it('refuses bad specs with a message naming the problem, leaking no socket', async () => {
    const { lan, node } = setup();
    const a = node('a', '10.0.0.1');
    await expect(a.speaker.addInstance(spec({ vips: [] }))).rejects.toThrow(/needs at least one VIP/);
    await expect(a.speaker.addInstance(spec({ vips: ['10.0.0.100', '2001:db8::1'] }))).rejects.toThrow(/mix IPv4 and IPv6/);
    await expect(a.speaker.addInstance(spec({ vips: ['10.0.0.300'] }))).rejects.toThrow(/not an address/);
    await expect(a.speaker.addInstance(spec({ unicastPeers: ['2001:db8::2'] }))).rejects.toThrow(/unicast peer/);
    await expect(a.speaker.addInstance(spec({ primaryAddress: 'fe80::1' }))).rejects.toThrow(/primaryAddress/);
    await expect(a.speaker.addInstance(spec({ advertIntervalMs: 15 }))).rejects.toThrow(/advertIntervalMs/);
    await expect(a.speaker.addInstance(spec({ auth: { type: 'pass', password: 'x' } }))).rejects.toThrow(/PASS/);
    expect(lan.channels.every((c) => c.closed)).toBe(true);
    await a.speaker.addInstance(spec());
    await expect(a.speaker.addInstance(spec())).rejects.toThrow(/already exists/);
    expect(() => a.speaker.setPriority('nope', 10)).toThrow(/no VRRP instance nope/);
  });

  it('setPriority: a master advertises its new priority at once', async () => {
    const { lan, node } = setup();
    const a = node('a', '10.0.0.1');
    await a.speaker.addInstance(spec({ priority: 255 }));
    a.speaker.setPriority('web', 40);
    const last = lan.sent.at(-1)!;
    expect(decodeAdvert(last.vrrp, { family: 'IPv4', src: last.src, dst: last.dst })).toMatchObject({ ok: true, advert: { priority: 40 } });
    expect(a.speaker.status()[0]!.priority).toBe(40);
  });
});

describe('VrrpSpeaker: sync groups, tracking and Fault', () => {
  it('a tracked interface going down takes every member of the sync group to Fault (VIPs released, the cause reported); up again, Backup and the election', async () => {
    const { clock, node } = setup();
    const links = new MemoryLinks();
    const a = node('a', '10.0.0.1', [], links);
    const b = node('b', '10.0.0.2');
    const track = { syncGroup: 'g', trackInterfaces: [{ name: 'eth9', weight: 0 }] };
    await a.speaker.addInstance(spec({ ...track, name: 'one', priority: 200 }));
    await a.speaker.addInstance(spec({ ...track, name: 'two', vrid: 52, vips: ['10.0.0.101'], priority: 200 }));
    await b.speaker.addInstance(spec({ syncGroup: 'g', name: 'one' }));
    await b.speaker.addInstance(spec({ syncGroup: 'g', name: 'two', vrid: 52, vips: ['10.0.0.101'] }));
    clock.advance(10_000);
    await flush();
    expect(a.speaker.status().map((s) => s.state)).toEqual(['master', 'master']);
    expect(a.speaker.syncGroupState('g')).toBe('master');
    links.set('eth9', false);
    await flush();
    expect(a.speaker.status().map((s) => [s.state, s.faultCauses])).toEqual([['fault', ['eth9 down']], ['fault', ['eth9 down']]]);
    expect(a.transitions.filter((t) => t.to === 'fault').map((t) => [t.instance, t.faultCauses])).toEqual([
      ['one', ['eth9 down']], ['two', ['eth9 down']],
    ]);
    expect(a.actions.names().slice(-2)).toEqual(['becomeBackup(one)', 'becomeBackup(two)']);
    clock.advance(10_000);
    await flush();
    expect(b.speaker.status().map((s) => s.state)).toEqual(['master', 'master']);
    links.set('eth9', true);
    await flush();
    expect(a.speaker.status().map((s) => s.state)).toEqual(['backup', 'backup']);
    clock.advance(10_000);
    await flush();
    expect(a.speaker.status().map((s) => s.state)).toEqual(['master', 'master']);
    expect(b.speaker.status().map((s) => s.state)).toEqual(['backup', 'backup']);
  });

  it('setPriorityOffset moves every member of the group; an unknown group is ignored', async () => {
    const { node } = setup();
    const a = node('a', '10.0.0.1');
    await a.speaker.addInstance(spec({ syncGroup: 'g', name: 'one' }));
    await a.speaker.addInstance(spec({ syncGroup: 'g', name: 'two', vrid: 52, vips: ['10.0.0.101'] }));
    a.speaker.setPriorityOffset('g', -60);
    a.speaker.setPriorityOffset('nope', -60);
    expect(a.speaker.status().map((s) => s.priority)).toEqual([40, 40]);
    await a.speaker.removeInstance('one');
    await a.speaker.removeInstance('two');
    expect(a.speaker.syncGroupState('g')).toBeUndefined();
  });
});

describe('parseVip', () => {
  it('reads address and prefix, defaulting to a host route', () => {
    expect(parseVip('10.0.0.1')).toEqual({ family: 'IPv4', address: '10.0.0.1', prefixLen: 32 });
    expect(parseVip('10.0.0.1/24')).toEqual({ family: 'IPv4', address: '10.0.0.1', prefixLen: 24 });
    expect(parseVip('2001:DB8:0::1')).toEqual({ family: 'IPv6', address: '2001:db8::1', prefixLen: 128 });
    expect(parseVip('2001:db8::1/64')).toMatchObject({ prefixLen: 64 });
  });

  it('refuses the rest', () => {
    for (const bad of ['', 'x', '10.0.0.1/33', '10.0.0.1/-1', '10.0.0.1/2/3', '10.0.0.1/', '2001:db8::1/129', '10.0.0.1/ 8']) {
      expect(() => parseVip(bad), bad).toThrow();
    }
  });
});

/** A whole IPv4 VRRPv3 packet for VRID 51 / 10.0.0.100 from `src`, as the receive socket sees it. */
function ipv4Advert(
  over: Partial<{ vrid: number; priority: number; addresses: string[] }>,
  src: string,
  dst = '224.0.0.18',
): Buffer {
  const vrrp = encodeAdvert(
    { version: 3, family: 'IPv4', vrid: 51, priority: 100, maxAdvertIntervalCs: 100, addresses: ['10.0.0.100'], ...over },
    { src, dst },
  );
  return encodeIpv4Packet({ src, dst }, vrrp);
}
