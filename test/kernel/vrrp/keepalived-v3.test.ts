import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { VrrpInstanceSpec } from '../../../src/vrrp/runtime/index.js';
import { assertInLab } from '../../lab/inside.js';
import { clientResolves, hasAddress, neighbourMac, vrrpLan, waitVip, type LanNode, type VrrpLan } from './lan.js';
import { KeepalivedRouter, keepalivedConf, OurRouter, waitUntil, type KeepalivedInstance } from './routers.js';

// Our speaker (namespace a) against a real keepalived 2.2.7 (namespace b) configured alike:
// VRRPv3, VRID 51, 100 ms adverts. The client (namespace c) watches ARP / neighbour discovery.
describe('VRRPv3 (100 ms adverts): our speaker and keepalived 2.2.7 on one LAN', () => {
  let lan: VrrpLan;
  const running: (OurRouter | KeepalivedRouter)[] = [];
  const VIP = '10.221.0.100';
  const VIP6 = 'fd00:221::100';

  const ours = async (priority: number, extra: Partial<VrrpInstanceSpec> = {}): Promise<OurRouter> => {
    const r = await OurRouter.start('ours', lan.a.ns, [{
      name: 'VI_1', interface: lan.a.dev, version: 3, vrid: 51, priority, advertIntervalMs: 100, vips: [VIP], ...extra,
    }]);
    running.push(r);
    return r;
  };
  const keepalived = (priority: number, extra: Partial<KeepalivedInstance> = {}): KeepalivedRouter => {
    const r = KeepalivedRouter.start('kb', lan.b.ns, keepalivedConf(3, 'kb', [{
      name: 'VI_1', interface: lan.b.dev, vrid: 51, priority, advertInt: 0.1, vips: [`${VIP}/32`], ...extra,
    }]));
    running.push(r);
    return r;
  };
  /** The client resolves `ip` now, so that a later change of its entry can only come from an announcement. */
  const clientLearns = async (ip: string): Promise<string | undefined> => {
    await clientResolves(lan.client, ip);
    return neighbourMac(lan.client, ip);
  };
  const clientSees = (ip: string, node: LanNode, what: string): Promise<boolean> =>
    waitUntil(what, async () => (await neighbourMac(lan.client, ip)) === node.mac, 3000);
  const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

  beforeAll(async () => {
    assertInLab();
    lan = await vrrpLan('vk', 1);
  });
  afterEach(async () => {
    for (const r of running.splice(0)) await r.kill();
    for (const n of [lan.a, lan.b]) {
      await n.ns.ip('addr', 'del', `${VIP}/32`, 'dev', n.dev).catch(() => undefined);
      await n.ns.ip('addr', 'del', `${VIP6}/128`, 'dev', n.dev).catch(() => undefined);
    }
  });
  afterAll(async () => {
    await lan?.destroy();
  });

  it('ours higher: takes over from keepalived, survives its death and return, and announces the VIP', async () => {
    const k = keepalived(100);
    await k.waitState('VI_1', 'MASTER', 10_000);
    await waitVip(lan, VIP, 'b', 5000);
    expect(await clientLearns(VIP)).toBe(lan.b.mac);

    const o = await ours(150);
    const t0 = Date.now();
    await o.waitState('VI_1', 'MASTER', 5000);
    await k.waitState('VI_1', 'BACKUP', 5000, t0);
    await waitVip(lan, VIP, 'a', 5000);
    // The gratuitous ARP moved the client's cache without the client asking.
    await clientSees(VIP, lan.a, 'client ARP entry -> ours');

    // Ours crashes: keepalived takes over after Master_Down_Interval (3 x 100 + 60.9 ms).
    const killed = await o.kill();
    const kMaster = await k.waitState('VI_1', 'MASTER', 5000, killed);
    console.log(`v3/IPv4: keepalived took over ${kMaster.t - killed} ms after ours was killed`);
    await waitUntil('VIP on b', () => hasAddress(lan.b, VIP), 3000);
    await clientSees(VIP, lan.b, 'client ARP entry -> keepalived');

    // Ours comes back (its stale VIP is removed at startup) and preempts.
    const back = Date.now();
    const o2 = await ours(150);
    await o2.waitState('VI_1', 'MASTER', 5000);
    await k.waitState('VI_1', 'BACKUP', 5000, back);
    await waitVip(lan, VIP, 'a', 5000);
    await clientSees(VIP, lan.a, 'client ARP entry -> ours again');

    // Graceful stop: priority 0, keepalived takes over after Skew_Time.
    const stopped = await o2.stop();
    const kAgain = await k.waitState('VI_1', 'MASTER', 5000, back + 1);
    console.log(`v3/IPv4: keepalived took over ${kAgain.t - stopped} ms after ours stopped gracefully (exit seen)`);
    await waitVip(lan, VIP, 'b', 3000);
  });

  it('keepalived higher: ours backs off, takes over on its death or shutdown, and yields when it returns', async () => {
    const o = await ours(100);
    await o.waitState('VI_1', 'MASTER', 5000);
    await waitVip(lan, VIP, 'a', 5000);
    expect(await clientLearns(VIP)).toBe(lan.a.mac);

    const started = Date.now();
    const k = keepalived(200);
    await k.waitState('VI_1', 'MASTER', 10_000);
    await o.waitState('VI_1', 'BACKUP', 5000, started);
    await waitVip(lan, VIP, 'b', 5000);
    await clientSees(VIP, lan.b, 'client ARP entry -> keepalived');

    const killed = await k.kill();
    // A crashed keepalived leaves its VIP behind, as a dead machine would not: remove it like a reboot.
    await lan.b.ns.ip('addr', 'del', `${VIP}/32`, 'dev', lan.b.dev);
    const oMaster = await o.waitState('VI_1', 'MASTER', 5000, killed);
    const vipsUp = await waitUntil('VIPs up', () => o.events.find((e) => e.ev === 'vips-up' && Number(e.t) >= killed), 3000);
    console.log(`v3/IPv4: ours took over ${oMaster.t - killed} ms after keepalived was killed; ` +
      `VIP added and first gratuitous ARP sent ${Number(vipsUp.t) - killed} ms after`);
    await waitVip(lan, VIP, 'a', 3000);
    await clientSees(VIP, lan.a, 'client ARP entry -> ours');

    const back = Date.now();
    const k2 = keepalived(200);
    await k2.waitState('VI_1', 'MASTER', 10_000);
    await o.waitState('VI_1', 'BACKUP', 5000, back);
    await waitVip(lan, VIP, 'b', 5000);

    const stopped = await k2.stop();
    const oAgain = await o.waitState('VI_1', 'MASTER', 5000, back + 1);
    console.log(`v3/IPv4: ours took over ${oAgain.t - stopped} ms after keepalived stopped gracefully (exit seen)`);
    await waitVip(lan, VIP, 'a', 3000);
    expect(await o.status()).toMatchObject({ status: [{ name: 'VI_1', state: 'master' }] });
  });

  it('nopreempt on both sides: a higher-priority newcomer leaves the master alone', async () => {
    const k = keepalived(100);
    const kMaster = await k.waitState('VI_1', 'MASTER', 10_000);
    const o = await ours(200, { preempt: false });
    await sleep(1000); // ten adverts: a preempting router would have taken over after ~0.3 s
    expect(o.state('VI_1')).toBe('BACKUP');
    expect(k.changes.filter((c) => c.t >= kMaster.t && c.state !== 'MASTER')).toEqual([]);
    await waitVip(lan, VIP, 'b', 1000);

    const killed = await k.kill();
    await lan.b.ns.ip('addr', 'del', `${VIP}/32`, 'dev', lan.b.dev);
    await o.waitState('VI_1', 'MASTER', 5000, killed);
    await waitVip(lan, VIP, 'a', 3000);

    // keepalived returns with nopreempt and a higher priority: it stays backup.
    const k2 = keepalived(250, { nopreempt: true });
    await k2.waitState('VI_1', 'BACKUP', 10_000);
    await sleep(1000);
    expect(k2.state('VI_1')).toBe('BACKUP');
    expect(o.state('VI_1')).toBe('MASTER');
    await waitVip(lan, VIP, 'a', 1000);
  });

  it('unicast peers: ours and keepalived elect without multicast', async () => {
    const k = keepalived(100, { unicastSrc: lan.b.ipv4, unicastPeers: [lan.a.ipv4] });
    await k.waitState('VI_1', 'MASTER', 10_000);
    const started = Date.now();
    const o = await ours(150, { unicastPeers: [lan.b.ipv4] });
    await o.waitState('VI_1', 'MASTER', 5000);
    await k.waitState('VI_1', 'BACKUP', 5000, started);
    await waitVip(lan, VIP, 'a', 3000);
    const killed = await o.kill();
    await k.waitState('VI_1', 'MASTER', 5000, killed);
    await waitUntil('VIP on b', () => hasAddress(lan.b, VIP), 3000);
  });

  it('IPv6: the VIP moves between ours and keepalived, announced by unsolicited neighbour advertisements', async () => {
    const v6 = (priority: number): KeepalivedRouter => keepalived(priority, { vips: [`${VIP6}/128`] });
    const k = v6(100);
    await k.waitState('VI_1', 'MASTER', 10_000);
    await waitVip(lan, VIP6, 'b', 5000);
    expect(await clientLearns(VIP6)).toBe(lan.b.mac);

    const started = Date.now();
    const o = await ours(150, { vips: [VIP6] });
    await o.waitState('VI_1', 'MASTER', 5000);
    await k.waitState('VI_1', 'BACKUP', 5000, started);
    await waitVip(lan, VIP6, 'a', 5000);
    await clientSees(VIP6, lan.a, 'client neighbour entry -> ours');

    const killed = await o.kill();
    const kMaster = await k.waitState('VI_1', 'MASTER', 5000, killed);
    console.log(`v3/IPv6: keepalived took over ${kMaster.t - killed} ms after ours was killed`);
    await clientSees(VIP6, lan.b, 'client neighbour entry -> keepalived');

    const back = Date.now();
    const o2 = await ours(150, { vips: [VIP6] });
    await o2.waitState('VI_1', 'MASTER', 5000);
    await k.waitState('VI_1', 'BACKUP', 5000, back);
    await waitVip(lan, VIP6, 'a', 5000);
    const { status } = await o2.status();
    expect(status[0]).toMatchObject({ family: 'IPv6', state: 'master' });
    expect(String(status[0]!.primaryAddress)).toMatch(/^fe80:/);
  });
});
