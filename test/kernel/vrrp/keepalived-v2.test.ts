import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { VrrpInstanceSpec } from '../../../src/vrrp/runtime/index.js';
import { assertInLab } from '../../lab/inside.js';
import { vrrpLan, waitVip, type VrrpLan } from './lan.js';
import { KeepalivedRouter, keepalivedConf, OurRouter } from './routers.js';

// VRRPv2 with PASS authentication against keepalived 2.2.7: whole-second adverts, so each
// takeover waits about 3.6 s (Master_Down_Interval); kept to the two cases that matter.
describe('VRRPv2 PASS: our speaker and keepalived 2.2.7', () => {
  let lan: VrrpLan;
  const running: (OurRouter | KeepalivedRouter)[] = [];
  const VIP = '10.222.0.100';

  const ours = async (priority: number, password: string): Promise<OurRouter> => {
    const spec: VrrpInstanceSpec = {
      name: 'VI_2', interface: lan.a.dev, version: 2, vrid: 52, priority, advertIntervalMs: 1000, vips: [VIP],
      auth: { type: 'pass', password },
    };
    const r = await OurRouter.start('ours', lan.a.ns, [spec]);
    running.push(r);
    return r;
  };
  const keepalived = (priority: number): KeepalivedRouter => {
    const r = KeepalivedRouter.start('kb2', lan.b.ns, keepalivedConf(2, 'kb2', [{
      name: 'VI_2', interface: lan.b.dev, vrid: 52, priority, advertInt: 1, vips: [`${VIP}/32`], authPass: 's3cret',
    }]));
    running.push(r);
    return r;
  };

  beforeAll(async () => {
    assertInLab();
    lan = await vrrpLan('v2k', 2);
  });
  afterEach(async () => {
    for (const r of running.splice(0)) await r.kill();
    for (const n of [lan.a, lan.b]) await n.ns.ip('addr', 'del', `${VIP}/32`, 'dev', n.dev).catch(() => undefined);
  });
  afterAll(async () => {
    await lan?.destroy();
  });

  it('the same password: ours (higher) takes over, and keepalived takes back when ours dies', async () => {
    const k = keepalived(100);
    await k.waitState('VI_2', 'MASTER', 10_000);
    await waitVip(lan, VIP, 'b', 5000);

    const started = Date.now();
    const o = await ours(150, 's3cret');
    await o.waitState('VI_2', 'MASTER', 8000);
    await k.waitState('VI_2', 'BACKUP', 5000, started);
    await waitVip(lan, VIP, 'a', 5000);

    const killed = await o.kill();
    const kMaster = await k.waitState('VI_2', 'MASTER', 8000, killed);
    console.log(`v2/PASS: keepalived took over ${kMaster.t - killed} ms after ours was killed`);
    await lan.a.ns.ip('addr', 'del', `${VIP}/32`, 'dev', lan.a.dev);
    await waitVip(lan, VIP, 'b', 3000);
  });

  it('a wrong password: ours ignores keepalived (counting auth-mismatch) and becomes master although lower', async () => {
    const k = keepalived(100);
    await k.waitState('VI_2', 'MASTER', 10_000);
    const o = await ours(50, 'wrong');
    await o.waitState('VI_2', 'MASTER', 8000);
    const { status } = await o.status();
    const counters = status[0]!.counters as { dropped: Record<string, number>; advertsReceived: number };
    expect(counters.dropped['auth-mismatch']).toBeGreaterThan(0);
    expect(counters.advertsReceived).toBe(0);
  });
});
