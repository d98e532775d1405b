import { describe, expect, it } from 'vitest';
import { FakeLinkClient, LinkError } from '../../../src/link/index.js';
import { FakeClock } from '../../../src/vrrp/fake-clock.js';
import { LinkTakeover, type NeighbourAnnouncer, type TakeoverContext } from '../../../src/vrrp/runtime/index.js';

const flush = (): Promise<void> => new Promise((r) => setImmediate(r));

class RecordingAnnouncer implements NeighbourAnnouncer {
  readonly rounds: { t: number; ifname: string; addresses: string[] }[] = [];
  fail: Error | undefined;
  constructor(private readonly clock: FakeClock) {}
  async announce(ifname: string, addresses: readonly string[]): Promise<void> {
    this.rounds.push({ t: this.clock.now(), ifname, addresses: [...addresses] });
    if (this.fail) throw this.fail;
  }
  close(): void {}
}

function setup(garpRepeat = 3, garpIntervalMs = 100, later: Partial<Pick<TakeoverContext, 'garpMasterDelayMs' | 'garpRefreshMs' | 'garpRefreshRepeat'>> = {}) {
  const clock = new FakeClock();
  const link = new FakeLinkClient(['lo', 'eth0']);
  const announcer = new RecordingAnnouncer(clock);
  const log: string[] = [];
  const takeover = new LinkTakeover({
    link,
    announcer,
    clock,
    onMaster: (c) => { log.push(`onMaster(${c.instance}) after ${announcer.rounds.length} announcement(s)`); },
    onBackup: (c) => { log.push(`onBackup(${c.instance}) with ${link.addresses.length} address(es) left`); },
  });
  const abort = new AbortController();
  const ctx: TakeoverContext = {
    instance: 'web', ifname: 'eth0', family: 'IPv4', vrid: 51,
    vips: [{ address: '10.0.0.100', prefixLen: 32 }, { address: '10.0.0.101', prefixLen: 24 }],
    garpRepeat, garpIntervalMs, garpMasterDelayMs: 0, garpRefreshMs: 0, garpRefreshRepeat: 1, ...later, signal: abort.signal,
  };
  return { clock, link, announcer, takeover, log, abort, ctx };
}

describe('LinkTakeover', () => {
  it('becomeMaster: adds the VIPs, announces at once, runs the hook, then repeats the announcement', async () => {
    const { clock, link, announcer, takeover, log, ctx } = setup(3, 100);
    const done = takeover.becomeMaster(ctx);
    await flush();
    expect(link.addresses.map((a) => `${a.address}/${a.prefixLen}`)).toEqual(['10.0.0.100/32', '10.0.0.101/24']);
    expect(announcer.rounds).toEqual([{ t: 0, ifname: 'eth0', addresses: ['10.0.0.100', '10.0.0.101'] }]);
    expect(log).toEqual(['onMaster(web) after 1 announcement(s)']);
    clock.advance(100);
    await flush();
    clock.advance(100);
    await done;
    expect(announcer.rounds.map((r) => r.t)).toEqual([0, 100, 200]);
  });

  it('reannounce: announces the VIPs again, repeated like a takeover, without touching the addresses', async () => {
    const { clock, link, announcer, takeover, log, ctx } = setup(3, 100);
    const done = takeover.reannounce(ctx);
    await flush();
    clock.advance(100);
    await flush();
    clock.advance(100);
    await done;
    expect(announcer.rounds).toEqual([0, 100, 200].map((t) => ({ t, ifname: 'eth0', addresses: ['10.0.0.100', '10.0.0.101'] })));
    expect(link.addresses).toEqual([]);
    expect(log).toEqual([]);
  });

  it('with no interval, every announcement goes out at once', async () => {
    const { announcer, takeover, ctx } = setup(5, 0);
    await takeover.becomeMaster(ctx);
    expect(announcer.rounds.map((r) => r.t)).toEqual([0, 0, 0, 0, 0]);
  });

  it('stops repeating when aborted (the instance left Master)', async () => {
    const { clock, announcer, takeover, abort, ctx } = setup(10, 100);
    const done = takeover.becomeMaster(ctx);
    await flush();
    clock.advance(100);
    await flush();
    abort.abort();
    await done;
    clock.advance(10_000);
    expect(announcer.rounds.length).toBe(2);
    expect(clock.pending()).toEqual([]);
  });

  it('becomeBackup: removes the VIPs (also when they are already gone), then runs the hook', async () => {
    const { link, takeover, log, ctx } = setup();
    await link.addAddress('eth0', '10.0.0.1', 24);
    await link.addAddress('eth0', '10.0.0.100', 32);
    await takeover.becomeBackup(ctx);
    await takeover.becomeBackup(ctx);
    expect(link.addresses.map((a) => a.address)).toEqual(['10.0.0.1']);
    expect(log).toEqual(['onBackup(web) with 1 address(es) left', 'onBackup(web) with 1 address(es) left']);
  });

  it('keeps going when one VIP cannot be added, announces the rest, and rejects with the error', async () => {
    const { link, announcer, takeover, ctx } = setup(1, 0);
    const refused = new LinkError('add 10.0.0.100/32 on eth0: EPERM', 1, 'EPERM');
    const add = link.addAddress.bind(link);
    link.addAddress = async (ifname, address, len) => {
      if (address === '10.0.0.100') throw refused;
      return add(ifname, address, len);
    };
    await expect(takeover.becomeMaster(ctx)).rejects.toBe(refused);
    expect(announcer.rounds).toEqual([{ t: 0, ifname: 'eth0', addresses: ['10.0.0.101'] }]);
  });

  it('reports several failures at once', async () => {
    const { announcer, takeover, ctx } = setup(2, 0);
    announcer.fail = new Error('sendto: ENXIO');
    await expect(takeover.becomeMaster(ctx)).rejects.toThrow(AggregateError);
    expect(announcer.rounds.length).toBe(2);
  });

  it('garp_master_delay: one more round of garpRepeat that long after becoming master, paced by garpIntervalMs', async () => {
    const { clock, announcer, takeover, ctx } = setup(3, 100, { garpMasterDelayMs: 5000 });
    const done = takeover.becomeMaster(ctx);
    for (let i = 0; i < 2; i++) { await flush(); clock.advance(100); }
    await done; // the takeover does not wait for the delayed round
    clock.advance(4800);
    for (let i = 0; i < 3; i++) { await flush(); clock.advance(100); }
    clock.advance(60_000);
    expect(announcer.rounds.map((r) => r.t)).toEqual([0, 100, 200, 5000, 5100, 5200]);
    expect(clock.pending()).toEqual([]);
  });

  it('garp_master_refresh: garpRefreshRepeat announcements every refresh interval while master, none after it left', async () => {
    const { clock, announcer, takeover, abort, ctx } = setup(1, 10, { garpRefreshMs: 2000, garpRefreshRepeat: 2 });
    await takeover.becomeMaster(ctx);
    for (let t = 0; t < 6100; t += 10) { clock.advance(10); await flush(); }
    expect(announcer.rounds.map((r) => r.t)).toEqual([0, 2000, 2010, 4000, 4010, 6000, 6010]);
    abort.abort();
    expect(clock.pending()).toEqual([]);
    clock.advance(60_000);
    expect(announcer.rounds.length).toBe(7);
  });

  it('leaving Master before the delay cancels the delayed round', async () => {
    const { clock, announcer, takeover, abort, ctx } = setup(2, 0, { garpMasterDelayMs: 5000, garpRefreshMs: 1000 });
    await takeover.becomeMaster(ctx);
    clock.advance(500);
    abort.abort();
    clock.advance(60_000);
    expect(announcer.rounds.map((r) => r.t)).toEqual([0, 0]);
    expect(clock.pending()).toEqual([]);
  });

  it('a failed later round goes to the hook, not to becomeMaster', async () => {
    const clock = new FakeClock();
    const announcer = new RecordingAnnouncer(clock);
    const errors: string[] = [];
    const takeover = new LinkTakeover({ link: new FakeLinkClient(['eth0']), announcer, clock, onLaterAnnounceError: (c, e) => errors.push(`${c.instance}: ${(e as Error).message}`) });
    const abort = new AbortController();
    await takeover.becomeMaster({ instance: 'gw', ifname: 'eth0', family: 'IPv4', vrid: 1, vips: [{ address: '10.0.1.1', prefixLen: 24 }], garpRepeat: 1, garpIntervalMs: 0, garpMasterDelayMs: 1000, garpRefreshMs: 0, garpRefreshRepeat: 1, signal: abort.signal });
    announcer.fail = new Error('sendto: ENETDOWN');
    clock.advance(1000);
    await flush();
    expect(errors).toEqual(['gw: sendto: ENETDOWN']);
  });
});
