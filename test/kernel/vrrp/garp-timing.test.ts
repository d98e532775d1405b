import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { assertInLab } from '../../lab/inside.js';
import { spawnTracked } from '../../lab/reaper.js';
import { vrrpLan, type VrrpLan } from './lan.js';
import { KeepalivedRouter, keepalivedConf, OurRouter, waitUntil } from './routers.js';

// The gratuitous ARPs a new master sends, counted by tcpdump on the client, for our speaker and
// for keepalived 2.2.7 configured alike in the same run: garp_master_repeat 3, garp_master_delay 2,
// garp_master_refresh 3, garp_master_refresh_repeat 2. Each router runs alone (it becomes master
// after Master_Down_Interval) while the client captures for a while after MASTER.
const VIP = '10.225.0.100';
const garp = { repeat: 3, delay: 2, refresh: 3, refreshRepeat: 2 };
const watchMs = 10_500;

interface Capture { stop(): Promise<number[]> }

/** tcpdump in the client's namespace: the times (s) of gratuitous ARPs for the VIP (sender = target = VIP). */
async function captureGarps(lan: VrrpLan): Promise<Capture> {
  const [cmd, ...args] = lan.client.ns.command('tcpdump', ['-i', lan.client.dev, '-n', '-l', '-tt', 'arp']);
  const { child, stop } = spawnTracked(cmd!, args, { name: 'tcpdump garp', stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => { out += d; });
  child.stderr!.on('data', (d: Buffer) => { err += d; });
  await waitUntil('tcpdump listening', () => err.includes('listening on'), 20_000);
  return {
    async stop() {
      await stop();
      // keepalived's requests name the broadcast target MAC: "who-has VIP (Broadcast) tell VIP".
      const garps = out.split('\n').filter((l) => (l.includes(`who-has ${VIP} `) && l.includes(`tell ${VIP},`)) || l.includes(`Reply ${VIP} is-at`));
      if (garps.length === 0) console.log(`no gratuitous ARP for ${VIP} among:\n${out.slice(0, 2000)}`);
      return garps.map((l) => Number(l.split(' ')[0]));
    },
  };
}

/** Bursts of announcements: times relative to the first, and how many each had (a burst goes out at once, garp_interval 0). */
function bursts(times: number[]): { at: number; count: number }[] {
  const out: { at: number; count: number }[] = [];
  for (const t of times) {
    const last = out.at(-1);
    // Announcements of one burst leave within milliseconds; bursts are a second or more apart.
    if (last && t - (times[0]! + last.at) < 0.5) last.count++;
    else out.push({ at: Math.round((t - times[0]!) * 100) / 100, count: 1 });
  }
  return out;
}

describe('garp_master_delay and garp_master_refresh: our speaker and keepalived 2.2.7', () => {
  let lan: VrrpLan;
  const running: (OurRouter | KeepalivedRouter)[] = [];
  beforeAll(async () => {
    assertInLab();
    lan = await vrrpLan('vg', 5);
  });
  afterEach(async () => {
    for (const r of running.splice(0)) await r.kill();
    for (const n of [lan.a, lan.b]) await n.ns.ip('addr', 'del', `${VIP}/32`, 'dev', n.dev).catch(() => undefined);
  });
  afterAll(async () => {
    await lan?.destroy();
  });

  it('the same bursts: garpRepeat at once, garpRepeat again after the delay, then refreshRepeat per refresh', async () => {
    const cap1 = await captureGarps(lan);
    const o = await OurRouter.start('ours', lan.a.ns, [{
      name: 'VI_1', interface: lan.a.dev, version: 3, vrid: 55, priority: 100, advertIntervalMs: 1000, vips: [VIP],
      garpRepeat: garp.repeat, garpIntervalMs: 0, garpMasterDelayMs: garp.delay * 1000, garpRefreshMs: garp.refresh * 1000, garpRefreshRepeat: garp.refreshRepeat,
    }]);
    running.push(o);
    await o.waitState('VI_1', 'MASTER', 10_000);
    await new Promise((r) => setTimeout(r, watchMs));
    const ours = bursts(await cap1.stop());
    await o.kill();
    await lan.a.ns.ip('addr', 'del', `${VIP}/32`, 'dev', lan.a.dev).catch(() => undefined);

    const cap2 = await captureGarps(lan);
    const k = KeepalivedRouter.start('kg', lan.b.ns, keepalivedConf(3, 'kg', [{
      name: 'VI_1', interface: lan.b.dev, vrid: 55, priority: 100, advertInt: 1, vips: [`${VIP}/32`], garp,
    }]));
    running.push(k);
    await k.waitState('VI_1', 'MASTER', 15_000);
    await new Promise((r) => setTimeout(r, watchMs));
    const theirs = bursts(await cap2.stop());

    console.log(`e2e-figures ${JSON.stringify({ drill: 'garp-timing', ours, keepalived: theirs })}`);
    for (const b of [ours, theirs]) {
      // The takeover burst, the delayed burst, then at least two refreshes of refreshRepeat each.
      expect(b.slice(0, 2).map((x) => x.count)).toEqual([garp.repeat, garp.repeat]);
      expect(b.length).toBeGreaterThanOrEqual(4);
      expect(b.slice(2).every((x) => x.count === garp.refreshRepeat)).toBe(true);
    }
    // The delayed burst comes garp_master_delay after the first in both; refreshes keep coming while master.
    expect(ours[1]!.at).toBeGreaterThanOrEqual(garp.delay);
    expect(theirs[1]!.at).toBeGreaterThanOrEqual(garp.delay);
  }, 90_000);
});
