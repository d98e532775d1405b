import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { VrrpInstanceSpec } from '../../../src/vrrp/runtime/index.js';
import { assertInLab, run } from '../../lab/inside.js';
import { hasAddress, vrrpLan, waitVip, type VrrpLan } from './lan.js';
import { OurRouter, waitUntil } from './routers.js';

// Two of our speakers on one LAN (VRRPv3, 100 ms adverts).
describe('two of our speakers', () => {
  let lan: VrrpLan;
  const running: OurRouter[] = [];
  const VIP = '10.223.0.100';
  const ADVERT_MS = 100;

  const start = async (node: 'a' | 'b', priority: number): Promise<OurRouter> => {
    const spec: VrrpInstanceSpec = {
      name: 'VI_3', interface: lan[node].dev, version: 3, vrid: 53, priority, advertIntervalMs: ADVERT_MS, vips: [VIP],
    };
    const r = await OurRouter.start(node, lan[node].ns, [spec]);
    running.push(r);
    return r;
  };

  beforeAll(async () => {
    assertInLab();
    lan = await vrrpLan('vp', 3);
  });
  afterEach(async () => {
    for (const r of running.splice(0)) await r.kill();
    for (const n of [lan.a, lan.b]) await n.ns.ip('addr', 'del', `${VIP}/32`, 'dev', n.dev).catch(() => undefined);
    await run('ip', ['link', 'set', lan.b.port, 'up']);
  });
  afterAll(async () => {
    await lan?.destroy();
  });

  it('a partition makes both master; once healed, one master within three adverts', async () => {
    const a = await start('a', 200);
    await a.waitState('VI_3', 'MASTER', 5000);
    const b = await start('b', 100);
    await b.waitState('VI_3', 'BACKUP', 5000);
    await waitVip(lan, VIP, 'a', 3000);

    const cut = Date.now();
    await run('ip', ['link', 'set', lan.b.port, 'down']);
    await b.waitState('VI_3', 'MASTER', 5000, cut);
    expect(a.state('VI_3')).toBe('MASTER');
    await waitUntil('VIP on both sides', async () => (await hasAddress(lan.a, VIP)) && (await hasAddress(lan.b, VIP)), 3000);

    await run('ip', ['link', 'set', lan.b.port, 'up']);
    const healed = Date.now();
    const back = await b.waitState('VI_3', 'BACKUP', 5000, cut);
    console.log(`partition healed: one master again ${back.t - healed} ms after the link came up`);
    expect(back.t - healed).toBeLessThanOrEqual(3 * ADVERT_MS);
    expect(a.state('VI_3')).toBe('MASTER');
    await waitVip(lan, VIP, 'a', 3000);
  });

  it('priority follows health: lowering the master priority hands over, raising it takes back', async () => {
    const a = await start('a', 200);
    await a.waitState('VI_3', 'MASTER', 5000);
    const b = await start('b', 100);
    await b.waitState('VI_3', 'BACKUP', 5000);

    const lowered = Date.now();
    await a.command({ cmd: 'priority', name: 'VI_3', value: 50 });
    await b.waitState('VI_3', 'MASTER', 5000, lowered);
    await a.waitState('VI_3', 'BACKUP', 5000, lowered);
    await waitVip(lan, VIP, 'b', 3000);

    const raised = Date.now();
    await a.command({ cmd: 'priority', name: 'VI_3', value: 200 });
    await a.waitState('VI_3', 'MASTER', 5000, raised);
    await b.waitState('VI_3', 'BACKUP', 5000, raised);
    await waitVip(lan, VIP, 'a', 3000);
  });
});
