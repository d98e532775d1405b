import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { VrrpInstanceSpec } from '../../../src/vrrp/runtime/index.js';
import { assertInLab } from '../../lab/inside.js';
import { clientResolves, hasAddress, neighbourMac, vrrpLan, waitVip, type VrrpLan } from './lan.js';
import { KeepalivedRouter, keepalivedConf, OurRouter, waitUntil } from './routers.js';

// Our speaker (namespace a) against a real keepalived 2.2.7 (namespace b) configured alike:
// VRRPv3, IPv4 multicast, VRID 51, 100 ms adverts. The client (namespace c) watches ARP.
describe('VRRPv3 IPv4: our speaker and keepalived 2.2.7 on one LAN', () => {
  let lan: VrrpLan;
  const running: (OurRouter | KeepalivedRouter)[] = [];
  const VIP = '10.221.0.100';

  const ours = (priority: number, extra: Partial<VrrpInstanceSpec> = {}): Promise<OurRouter> => {
    const r = OurRouter.start('ours', lan.a.ns, [{
      name: 'VI_1', interface: lan.a.dev, version: 3, vrid: 51, priority, advertIntervalMs: 100, vips: [VIP], ...extra,
    }]);
    return r.then((x) => { running.push(x); return x; });
  };
  const keepalived = (priority: number, nopreempt = false): KeepalivedRouter => {
    const r = KeepalivedRouter.start('kb', lan.b.ns, keepalivedConf(3, 'kb', [{
      name: 'VI_1', interface: lan.b.dev, vrid: 51, priority, advertInt: 0.1, vips: [`${VIP}/32`], nopreempt,
    }]));
    running.push(r);
    return r;
  };
  /** The client learns the VIP's MAC now, so that a later change can only come from an announcement. */
  const clientLearns = async (): Promise<string | undefined> => {
    await clientResolves(lan.client, VIP);
    return neighbourMac(lan.client, VIP);
  };

  beforeAll(async () => {
    assertInLab();
    lan = await vrrpLan('vk', 1);
  });
  afterEach(async () => {
    for (const r of running.splice(0)) await r.kill();
    for (const n of [lan.a, lan.b]) await n.ns.ip('addr', 'del', `${VIP}/32`, 'dev', n.dev).catch(() => undefined);
  });
  afterAll(async () => {
    await lan?.destroy();
  });

  it('ours higher: takes over from keepalived, survives its death and return, and announces the VIP', async () => {
    const k = keepalived(100);
    await k.waitState('VI_1', 'MASTER', 10_000);
    await waitVip(lan, VIP, 'b', 5000);
    expect(await clientLearns()).toBe(lan.b.mac);

    const o = await ours(150);
    const t0 = Date.now();
    await o.waitState('VI_1', 'MASTER', 5000);
    await k.waitState('VI_1', 'BACKUP', 5000, t0);
    await waitVip(lan, VIP, 'a', 5000);
    // The gratuitous ARP moved the client's cache without the client asking.
    await waitUntil('client ARP entry -> ours', async () => (await neighbourMac(lan.client, VIP)) === lan.a.mac, 3000);

    // Ours crashes: keepalived takes over after Master_Down_Interval.
    const killed = await o.kill();
    const kMaster = await k.waitState('VI_1', 'MASTER', 5000, killed);
    console.log(`keepalived took over ${kMaster.t - killed} ms after ours was killed`);
    await waitUntil('VIP on b', () => hasAddress(lan.b, VIP), 3000);
    await waitUntil('client ARP entry -> keepalived', async () => (await neighbourMac(lan.client, VIP)) === lan.b.mac, 3000);

    // Ours comes back (its stale VIP is removed at startup) and preempts.
    const back = Date.now();
    const o2 = await ours(150);
    await o2.waitState('VI_1', 'MASTER', 5000);
    await k.waitState('VI_1', 'BACKUP', 5000, back);
    await waitVip(lan, VIP, 'a', 5000);
    await waitUntil('client ARP entry -> ours again', async () => (await neighbourMac(lan.client, VIP)) === lan.a.mac, 3000);

    // Graceful stop: priority 0, keepalived takes over after Skew_Time.
    const stopped = await o2.stop();
    const kAgain = await k.waitState('VI_1', 'MASTER', 5000, stopped - 1000);
    console.log(`keepalived took over ${kAgain.t - stopped} ms after ours was stopped gracefully`);
    await waitVip(lan, VIP, 'b', 3000);
  });
});
