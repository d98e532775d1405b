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

function setup(garpRepeat = 3, garpIntervalMs = 100) {
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
    garpRepeat, garpIntervalMs, signal: abort.signal,
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
});
