import { describe, expect, it } from 'vitest';
import { masterDownIntervalMs, resolveConfig, skewTimeMs, type VrrpInstanceConfig } from '../../../src/vrrp/config.js';
import { FakeClock } from '../../../src/vrrp/fake-clock.js';
import { VrrpInstance, type VrrpListener } from '../../../src/vrrp/instance.js';
import { encodeIpv4Packet } from '../../../src/vrrp/ipv4-header.js';
import { encodeAdvert, passwordAuthData, type VrrpAdvert, type VrrpV3Advert } from '../../../src/vrrp/packet.js';
import { silent } from './wire.js';

const base: VrrpInstanceConfig = {
  name: 'test',
  version: 3,
  family: 'IPv4',
  vrid: 51,
  priority: 100,
  advertIntervalMs: 1000,
  primaryAddress: '10.0.0.2',
  virtualAddresses: ['10.0.0.100'],
};

function setup(overrides: Partial<VrrpInstanceConfig> = {}, clock = new FakeClock()) {
  const calls: string[] = [];
  const sent: VrrpAdvert[] = [];
  const listener: VrrpListener = {
    sendAdvert: (priority, advert) => {
      calls.push(`advert(${priority})@${clock.now()}`);
      sent.push(advert);
    },
    becomeMaster: () => calls.push(`becomeMaster@${clock.now()}`),
    becomeBackup: () => calls.push(`becomeBackup@${clock.now()}`),
    lowerPriorityMaster: () => calls.push(`reannounce@${clock.now()}`),
    stateChanged: (from, to, reason) => calls.push(`${from}->${to}:${reason}@${clock.now()}`),
  };
  const vrrp = new VrrpInstance({ ...base, ...overrides }, { clock, listener, log: silent });
  return { clock, vrrp, calls, sent };
}

/** An advert from another router for the default configuration. */
function from(priority: number, extra: Partial<VrrpV3Advert> = {}): VrrpV3Advert {
  return { version: 3, family: 'IPv4', vrid: 51, priority, maxAdvertIntervalCs: 100, addresses: ['10.0.0.100'], ...extra };
}

describe('VRRP timing formulas', () => {
  it.each([
    // version, priority, Master_Adver_Interval, Skew_Time, Master_Down_Interval (ms)
    [3, 100, 1000, 609.375, 3609.375],
    [3, 254, 100, 0.78125, 300.78125],
    [3, 1, 40950, 40790.0390625, 163640.0390625],
    [3, 255, 1000, 3.90625, 3003.90625],
    // v2: Skew_Time is (256 - priority) / 256 seconds whatever the interval (RFC 3768).
    [2, 100, 2000, 609.375, 6609.375],
    [2, 200, 1000, 218.75, 3218.75],
  ] as const)('v%i priority %i interval %i: skew %f, down interval %f', (v, p, mai, skew, mdi) => {
    expect(skewTimeMs(v, p, mai)).toBe(skew);
    expect(masterDownIntervalMs(v, p, mai)).toBe(mdi);
  });
});

describe('VRRP config validation', () => {
  it.each<[string, Partial<VrrpInstanceConfig>]>([
    ['VRRPv2 over IPv6', { version: 2, family: 'IPv6', primaryAddress: 'fe80::1', virtualAddresses: ['fe80::100'], advertIntervalMs: 1000 }],
    ['a v3 interval that is not whole centiseconds', { advertIntervalMs: 1005 }],
    ['a v3 interval over 40.95 s', { advertIntervalMs: 41000 }],
    ['a v2 interval that is not whole seconds', { version: 2, advertIntervalMs: 1500 }],
    ['PASS auth on v3', { auth: { type: 'pass', password: 'x' } }],
    ['a 9-byte password', { version: 2, auth: { type: 'pass', password: '123456789' } }],
    ['priority 0', { priority: 0 }],
    ['VRID 256', { vrid: 256 }],
    ['no virtual address', { virtualAddresses: [] }],
    ['an IPv6 VIP on an IPv4 router', { virtualAddresses: ['2001:db8::1'] }],
    ['the same VIP twice', { virtualAddresses: ['10.0.0.100', '10.0.0.100'] }],
    ['a bad primary address', { primaryAddress: '10.0.0' }],
    ['a negative preempt delay', { preemptDelayMs: -1 }],
  ])('refuses %s', (_what, overrides) => {
    expect(() => resolveConfig({ ...base, ...overrides })).toThrow();
  });

  it('fills in defaults and canonical addresses', () => {
    const c = resolveConfig({ ...base, family: 'IPv6', primaryAddress: 'FE80:0::2', virtualAddresses: ['2001:DB8::0:100'] });
    expect(c).toMatchObject({
      primaryAddress: 'fe80::2',
      virtualAddresses: ['2001:db8::100'],
      preempt: true,
      preemptDelayMs: 0,
      checkTtl: true,
      authType: 0,
    });
    expect(resolveConfig({ ...base, version: 2, auth: { type: 'pass', password: 'pw' } }).authData).toEqual(passwordAuthData('pw'));
  });
});

describe('VrrpInstance on its own', () => {
  it('starts as Backup with Master_Down_Interval on the timer, and nothing sent', () => {
    const { clock, vrrp, calls } = setup();
    vrrp.start();
    expect(vrrp.state).toBe('backup');
    expect(calls).toEqual(['becomeBackup@0', 'initialize->backup:startup@0']);
    expect(clock.pending().map((t) => t.delayMs)).toEqual([3609.375]);
  });

  it('with nobody else around becomes Master when the timer runs out, then adverts every interval', () => {
    const { clock, vrrp, calls } = setup();
    vrrp.start();
    clock.advance(3609.374);
    expect(vrrp.state).toBe('backup');
    clock.advance(0.001);
    expect(vrrp.state).toBe('master');
    clock.advance(2000);
    expect(calls.slice(2)).toEqual([
      'advert(100)@3609.375',
      'becomeMaster@3609.375',
      'backup->master:master-down@3609.375',
      'advert(100)@4609.375',
      'advert(100)@5609.375',
    ]);
  });

  it('the address owner (priority 255) becomes Master at once', () => {
    const { clock, vrrp, calls } = setup({ priority: 255 });
    vrrp.start();
    expect(calls).toEqual(['advert(255)@0', 'becomeMaster@0', 'initialize->master:owner-startup@0']);
    expect(clock.pending().map((t) => t.delayMs)).toEqual([1000]);
  });

  it('a Backup resets its timer to Master_Down_Interval on every accepted advert', () => {
    const { clock, vrrp } = setup();
    vrrp.start();
    clock.advance(3000);
    vrrp.onPacket(from(200), '10.0.0.1');
    expect(clock.pending()).toEqual([expect.objectContaining({ setAt: 3000, delayMs: 3609.375 })]);
    expect(vrrp.currentMaster).toEqual({ address: '10.0.0.1', priority: 200 });
  });

  it('a Backup that hears priority 0 waits only Skew_Time', () => {
    const { clock, vrrp, calls } = setup();
    vrrp.start();
    vrrp.onPacket(from(200), '10.0.0.1');
    clock.advance(500);
    vrrp.onPacket(from(0), '10.0.0.1');
    expect(clock.pending()).toEqual([expect.objectContaining({ setAt: 500, delayMs: 609.375 })]);
    clock.advance(609.375);
    expect(calls).toContain('backup->master:master-released@1109.375');
    expect(vrrp.stats().priorityZeroReceived).toBe(1);
  });

  it('a v3 Backup adopts the master interval and recomputes Master_Down_Interval from it', () => {
    const { clock, vrrp } = setup();
    vrrp.start();
    vrrp.onPacket(from(200, { maxAdvertIntervalCs: 50 }), '10.0.0.1');
    expect(vrrp.masterAdverIntervalMs).toBe(500);
    // 3 * 500 + (256 - 100) * 500 / 256
    expect(clock.pending().map((t) => t.delayMs)).toEqual([1804.6875]);
    expect(vrrp.stats().masterIntervalChanges).toBe(1);
    expect(vrrp.stats().dropped['interval-mismatch']).toBe(0);
  });

  it('a v2 Backup drops adverts with another interval (and so does not reset its timer)', () => {
    const { clock, vrrp } = setup({ version: 2 });
    vrrp.start();
    clock.advance(1000);
    const v2 = { ...vrrp.advert(200), advertIntervalSec: 2 } as VrrpAdvert;
    vrrp.onPacket(v2, '10.0.0.1');
    expect(vrrp.stats().dropped['interval-mismatch']).toBe(1);
    expect(clock.pending()).toEqual([expect.objectContaining({ setAt: 0 })]);
  });

  it('a Master answers priority 0 with an advert and restarts its advert timer', () => {
    const { clock, vrrp, calls } = setup({ priority: 255 });
    vrrp.start();
    clock.advance(300);
    vrrp.onPacket(from(0), '10.0.0.1');
    expect(calls.at(-1)).toBe('advert(255)@300');
    expect(clock.pending()).toEqual([expect.objectContaining({ setAt: 300, delayMs: 1000 })]);
  });

  // Issue #15's partition drill: the other master had announced the VIPs to the LAN while it was
  // cut off; without announcing them again, clients kept sending to it after it stepped down.
  it('a Master answers a lower-priority advert with its own (keepalived), announces its VIPs again, and stays Master', () => {
    const { clock, vrrp, calls } = setup({ priority: 255 });
    vrrp.start();
    clock.advance(300);
    vrrp.onPacket(from(254), '10.0.0.1');
    expect(vrrp.state).toBe('master');
    expect(calls.slice(-2)).toEqual(['advert(255)@300', 'reannounce@300']);
    expect(clock.pending()).toEqual([expect.objectContaining({ setAt: 0, delayMs: 1000 })]);
  });

  it('a Master steps down for a higher priority, or an equal one from a higher address', () => {
    for (const [prio, addr, reason] of [
      [101, '10.0.0.1', 'higher-priority'],
      [100, '10.0.0.3', 'equal-priority-higher-address'],
    ] as const) {
      const { clock, vrrp, calls } = setup();
      vrrp.start();
      clock.advance(3609.375);
      expect(vrrp.state).toBe('master');
      vrrp.onPacket(from(prio, { maxAdvertIntervalCs: 200 }), addr);
      expect(vrrp.state).toBe('backup');
      // Its own advert first, so the other master hears a lower priority and announces the VIPs.
      expect(calls.slice(-3)).toEqual(['advert(100)@3609.375', 'becomeBackup@3609.375', `master->backup:${reason}@3609.375`]);
      // The master's 2 s interval is adopted: 3 * 2000 + 156 * 2000 / 256.
      expect(clock.pending().map((t) => t.delayMs)).toEqual([7218.75]);
    }
  });

  it('an equal priority from a lower address does not make a Master step down', () => {
    const { clock, vrrp } = setup();
    vrrp.start();
    clock.advance(3609.375);
    vrrp.onPacket(from(100), '10.0.0.1');
    expect(vrrp.state).toBe('master');
  });

  it('drops its own adverts looped back', () => {
    const { clock, vrrp } = setup();
    vrrp.start();
    clock.advance(3609.375);
    vrrp.onPacket(from(200), '10.0.0.2');
    expect(vrrp.state).toBe('master');
    expect(vrrp.stats().dropped['from-self']).toBe(1);
  });

  it('shutting down a Master sends priority 0, releases the addresses and stops all timers', () => {
    const { clock, vrrp, calls } = setup();
    vrrp.start();
    clock.advance(4000);
    vrrp.shutdown();
    expect(vrrp.state).toBe('initialize');
    expect(calls.slice(-3)).toEqual(['advert(0)@4000', 'becomeBackup@4000', 'master->initialize:shutdown@4000']);
    expect(clock.pending()).toEqual([]);
    expect(vrrp.stats()).toMatchObject({ priorityZeroSent: 1, transitions: { 'master->initialize': 1 } });
  });

  it('shutting down a Master that awaits its successor keeps the addresses until the successor advertises', () => {
    const { clock, vrrp, calls } = setup();
    vrrp.start();
    clock.advance(4000);
    vrrp.shutdown({ awaitSuccessor: true });
    let released = false;
    void vrrp.released.then(() => { released = true; });
    expect(calls.slice(-2)).toEqual(['advert(0)@4000', 'master->initialize:shutdown@4000']);
    clock.advance(700); // the backup's Skew_Time
    vrrp.onPacket(from(0), '10.0.0.1'); // another router's priority 0: not a successor
    expect(calls).not.toContain('becomeBackup@4700');
    vrrp.onPacket(from(100), '10.0.0.1');
    expect(calls.at(-1)).toBe('becomeBackup@4700');
    expect(clock.pending()).toEqual([]);
    return Promise.resolve().then(() => expect(released).toBe(true));
  });

  it('with no successor, a shut-down Master gives the addresses up after Master_Down_Interval', () => {
    const { clock, vrrp, calls } = setup();
    vrrp.start();
    clock.advance(4000);
    vrrp.shutdown({ awaitSuccessor: true });
    const before = calls.length;
    clock.advance(vrrp.masterDownIntervalMs - 1);
    expect(calls.slice(before).filter((c) => c.startsWith('becomeBackup'))).toHaveLength(0);
    clock.advance(1);
    expect(calls.at(-1)).toBe(`becomeBackup@${4000 + vrrp.masterDownIntervalMs}`);
  });

  it('shutting down a Backup just stops its timer; it can start again', () => {
    const { clock, vrrp, calls } = setup();
    vrrp.start();
    vrrp.shutdown();
    expect(calls.at(-1)).toBe('backup->initialize:shutdown@0');
    expect(clock.pending()).toEqual([]);
    expect(vrrp.stats().advertsSent).toBe(0);
    vrrp.onPacket(from(200), '10.0.0.1'); // ignored while stopped
    expect(vrrp.stats().advertsReceived).toBe(0);
    vrrp.start();
    expect(vrrp.state).toBe('backup');
  });

  it('setPriority: a Master advertises the new priority at once; bad values throw', () => {
    const { clock, vrrp, calls } = setup();
    vrrp.start();
    clock.advance(3609.375);
    vrrp.setPriority(50);
    expect(calls.at(-1)).toBe('advert(50)@3609.375');
    expect(vrrp.priority).toBe(50);
    expect(vrrp.skewTimeMs).toBe(((256 - 50) * 1000) / 256);
    expect(() => vrrp.setPriority(0)).toThrow(RangeError);
    expect(() => vrrp.setPriority(1.5)).toThrow(RangeError);
  });

  it('receive() decodes, checks TTL, and counts what it drops', () => {
    const { vrrp } = setup();
    vrrp.start();
    const good = encodeAdvert(from(200), { src: '10.0.0.1', dst: '224.0.0.18' });
    const rx = { family: 'IPv4' as const, src: '10.0.0.1', dst: '224.0.0.18' };
    vrrp.receive(good, { ...rx, ttl: 64 });
    vrrp.receive(good.subarray(0, 9), { ...rx, ttl: 255 });
    vrrp.receive(good, { ...rx, src: '10.0.0.9', ttl: 255 });
    vrrp.receive(encodeAdvert(from(200, { vrid: 9 }), rx), { ...rx, ttl: 255 });
    vrrp.receive(encodeIpv4Packet(rx, good), { ...rx, ttl: 255 }); // forgot to strip the IP header
    expect(vrrp.stats().dropped).toMatchObject({ 'bad-ttl': 1, 'bad-length': 1, 'bad-checksum': 1, 'wrong-vrid': 1, 'bad-version': 1 });
    expect(vrrp.stats().advertsReceived).toBe(0);
    vrrp.receive(good, { ...rx, ttl: 255 });
    expect(vrrp.stats().advertsReceived).toBe(1);
  });

  it('checkTtl: false (unicast peers across a router) accepts any TTL', () => {
    const { vrrp } = setup({ checkTtl: false });
    vrrp.start();
    vrrp.receive(encodeAdvert(from(200), { src: '10.0.0.1', dst: '10.0.0.2' }), {
      family: 'IPv4',
      src: '10.0.0.1',
      dst: '10.0.0.2',
      ttl: 61,
    });
    expect(vrrp.stats().advertsReceived).toBe(1);
  });

  it('a throwing listener is counted and logged, and the state machine carries on', () => {
    const clock = new FakeClock();
    const vrrp = new VrrpInstance(base, {
      clock,
      log: silent,
      listener: {
        sendAdvert: () => {
          throw new Error('socket gone');
        },
        becomeMaster: () => {
          throw new Error('netlink said no');
        },
        becomeBackup: () => {},
        stateChanged: () => {},
      },
    });
    vrrp.start();
    clock.advance(5609.375);
    expect(vrrp.state).toBe('master');
    expect(vrrp.stats()).toMatchObject({ listenerErrors: 4, advertsSent: 3 });
  });
});
