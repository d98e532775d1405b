import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { assertInLab } from '../../lab/inside.js';
import { hasAddress, vrrpLan, type VrrpLan } from './lan.js';
import { KeepalivedRouter, keepalivedConf, OurRouter, type KeepalivedInstance } from './routers.js';

// unicast_src_ip: our speaker sends its unicast adverts from a chosen address of its interface (the
// agent takes it from the Node annotation lvs.dev/vrrp-unicast-src-ip as the spec's primaryAddress).
// keepalived 2.2.7 in b lists only that address in unicast_peer, with check_unicast_src: it accepts
// our adverts from it and drops those from our interface's first address. (Without
// check_unicast_src keepalived accepts a unicast advert from any source.)
const VIP = '10.226.0.100';
const SRC = '10.226.0.31';

describe('unicast_src_ip: our speaker and keepalived 2.2.7 with unicast_peer { our source }', () => {
  let lan: VrrpLan;
  const running: (OurRouter | KeepalivedRouter)[] = [];
  const keepalived = (extra: Partial<KeepalivedInstance> = {}): KeepalivedRouter => {
    const r = KeepalivedRouter.start('ku', lan.b.ns, keepalivedConf(3, 'ku', [{
      name: 'VI_1', interface: lan.b.dev, vrid: 56, priority: 100, advertInt: 0.1, vips: [`${VIP}/32`],
      // Starts as backup (nopreempt): it becomes master only if it hears no better master.
      nopreempt: true, unicastSrc: lan.b.ipv4, unicastPeers: [SRC], checkUnicastSrc: true, ...extra,
    }]));
    running.push(r);
    return r;
  };
  const ours = async (primaryAddress?: string): Promise<OurRouter> => {
    const r = await OurRouter.start('ours', lan.a.ns, [{
      name: 'VI_1', interface: lan.a.dev, version: 3, vrid: 56, priority: 150, advertIntervalMs: 100, vips: [VIP],
      unicastPeers: [lan.b.ipv4], ...(primaryAddress ? { primaryAddress } : {}),
    }]);
    running.push(r);
    return r;
  };

  beforeAll(async () => {
    assertInLab();
    lan = await vrrpLan('vu', 6);
    await lan.a.ns.ip('addr', 'add', `${SRC}/24`, 'dev', lan.a.dev);
  });
  afterEach(async () => {
    for (const r of running.splice(0)) await r.kill();
    for (const n of [lan.a, lan.b]) await n.ns.ip('addr', 'del', `${VIP}/32`, 'dev', n.dev).catch(() => undefined);
  });
  afterAll(async () => {
    await lan?.destroy();
  });

  it('adverts from the configured source are accepted: keepalived stays backup, ours holds the VIP', async () => {
    const o = await ours(SRC);
    await o.waitState('VI_1', 'MASTER', 5000);
    const k = keepalived();
    await k.waitState('VI_1', 'BACKUP', 10_000);
    // Many times keepalived's Master_Down_Interval (3 x 100 ms + skew): it keeps hearing ours.
    await new Promise((r) => setTimeout(r, 3000));
    expect(k.state('VI_1')).toBe('BACKUP');
    expect(await hasAddress(lan.a, VIP)).toBe(true);
    expect(await hasAddress(lan.b, VIP)).toBe(false);
    const s = await o.status();
    expect((s.status[0] as { primaryAddress: string }).primaryAddress).toBe(SRC);
  }, 60_000);

  it('adverts from the interface\'s first address are dropped by keepalived: it becomes master too', async () => {
    const o = await ours();
    await o.waitState('VI_1', 'MASTER', 5000);
    const k = keepalived();
    await k.waitState('VI_1', 'MASTER', 10_000);
    expect(await hasAddress(lan.b, VIP)).toBe(true);
  }, 60_000);
});
