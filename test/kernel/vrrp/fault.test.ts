import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { NetlinkLinkMonitor, type VrrpInstanceSpec } from '../../../src/vrrp/runtime/index.js';
import { assertInLab, sh } from '../../lab/inside.js';
import { hasAddress, ipIn, vrrpLan, waitVip, type LanNode, type VrrpLan } from './lan.js';
import { KeepalivedRouter, keepalivedConf, OurRouter, waitUntil, type KeepalivedInstance, type RouterState } from './routers.js';

// FAULT, track_interface and vrrp_sync_group with real links: two routers (namespaces a and b)
// each run a sync group of two instances, VI_1 on the LAN and VI_2 on a second segment, both
// tracking a dummy interface trk0. Ours against ours, and ours against keepalived 2.2.7 configured
// alike (VRRPv3, 100 ms adverts). Failover times are printed, never asserted.
describe('FAULT, track_interface and sync groups on real links', () => {
  let lan: VrrpLan;
  const running: (OurRouter | KeepalivedRouter)[] = [];
  const VIP1 = '10.224.0.101';
  const VIP2 = '10.214.0.102';
  const seg2 = (node: 'a' | 'b'): string => `vf-${node}1`;
  const ADVERT_MS = 100;

  type Kind = 'ours' | 'keepalived';
  interface Track { name: string; weight?: number }
  type Router = OurRouter | KeepalivedRouter;

  const ours = async (node: 'a' | 'b', priority: number, track: Track[] = [{ name: 'trk0' }], extra: Partial<VrrpInstanceSpec> = {}): Promise<OurRouter> => {
    const n = lan[node];
    const spec = (name: string, vrid: number, iface: string, vip: string): VrrpInstanceSpec => ({
      name, interface: iface, version: 3, vrid, priority, advertIntervalMs: ADVERT_MS, vips: [vip],
      syncGroup: 'G', trackInterfaces: track.map((t) => ({ name: t.name, weight: t.weight ?? 0 })), ...extra,
    });
    const r = await OurRouter.start(`ours-${node}`, n.ns, [spec('VI_1', 61, n.dev, VIP1), spec('VI_2', 62, seg2(node), VIP2)]);
    running.push(r);
    return r;
  };
  const keepalived = (node: 'a' | 'b', priority: number, track: Track[] = [{ name: 'trk0' }]): KeepalivedRouter => {
    const n = lan[node];
    const inst = (name: string, vrid: number, iface: string, vip: string): KeepalivedInstance => ({
      name, interface: iface, vrid, priority, advertInt: ADVERT_MS / 1000, vips: [`${vip}/32`], trackInterfaces: track,
    });
    const weighted = track.some((t) => t.weight !== undefined);
    const r = KeepalivedRouter.start(`k${node}`, n.ns, keepalivedConf(3, `k${node}`,
      [inst('VI_1', 61, n.dev, VIP1), inst('VI_2', 62, seg2(node), VIP2)],
      [{ name: 'G', members: ['VI_1', 'VI_2'], trackingWeight: weighted }]));
    running.push(r);
    return r;
  };
  const start = (kind: Kind, node: 'a' | 'b', priority: number, track?: Track[]): Promise<Router> =>
    kind === 'ours' ? ours(node, priority, track) : Promise.resolve(keepalived(node, priority, track));
  const link = (node: LanNode, dev: string, state: 'up' | 'down'): Promise<unknown> => ipIn(node.ns, 'link', 'set', dev, state);
  /** Both instances of `r` report `state` at or after `since`; resolves with the later report time. */
  const both = async (r: Router, state: RouterState, since: number, timeoutMs = 10_000): Promise<number> =>
    Math.max((await r.waitState('VI_1', state, timeoutMs, since)).t, (await r.waitState('VI_2', state, timeoutMs, since)).t);
  const holdsBoth = async (node: 'a' | 'b'): Promise<void> => {
    await waitVip(lan, VIP1, node, 5000);
    await waitUntil(`${VIP2} on ${node}`, async () => (await hasAddress({ ...lan[node], dev: seg2(node) }, VIP2))
      && !(await hasAddress({ ...lan[node === 'a' ? 'b' : 'a'], dev: seg2(node === 'a' ? 'b' : 'a') }, VIP2)), 5000);
  };
  const figure = (what: string, ms: number): void => {
    console.log(`vrrp-fault-figures ${what}: ${ms} ms`);
  };

  beforeAll(async () => {
    assertInLab();
    lan = await vrrpLan('vf', 4);
    // The second segment (VI_2) and the tracked dummy interface of each router.
    await sh([
      'set -e',
      'ip link del vf-br2 2>/dev/null || true',
      'ip link add vf-br2 type bridge mcast_snooping 0',
      'ip link set vf-br2 up',
      ...(['a', 'b'] as const).flatMap((x, i) => [
        `ip link add vf-${x}1 type veth peer name vf-h${x}1`,
        `ip link set vf-${x}1 netns vf-${x}`,
        `ip link set vf-h${x}1 master vf-br2 up`,
        `ip -n vf-${x} link set vf-${x}1 up`,
        `ip -n vf-${x} addr add 10.214.0.${i + 1}/24 dev vf-${x}1`,
        `ip -n vf-${x} link add trk0 type dummy`,
        `ip -n vf-${x} link set trk0 up`,
      ]),
    ].join('\n'));
  });
  afterEach(async () => {
    for (const r of running.splice(0)) await r.kill();
    for (const x of ['a', 'b'] as const) {
      const n = lan[x];
      await sh(`ip -n vf-${x} link set trk0 up; ip -n vf-${x} link set vf-${x}1 up; ip -n vf-${x} addr del ${VIP1}/32 dev ${n.dev}; ip -n vf-${x} addr del ${VIP2}/32 dev vf-${x}1; true`);
    }
  });
  afterAll(async () => {
    await sh('ip link del vf-br2').catch(() => undefined);
    await lan?.destroy();
  });

  it('NetlinkLinkMonitor sees a link go down and up at once, and a deleted link as down', async () => {
    // The lab's root namespace: make a dummy there, watch it.
    const mon = await NetlinkLinkMonitor.open();
    try {
      await sh('ip link del vf-mon 2>/dev/null; ip link add vf-mon type dummy; ip link set vf-mon up');
      await mon.refresh();
      expect(mon.isUp('vf-mon')).toBe(true);
      // Refreshes asked for while one runs (every agent pass asks, without waiting) all succeed:
      // two dumps on one socket would be refused with EBUSY.
      await Promise.all(Array.from({ length: 5 }, () => mon.refresh()));
      const seen: [string, boolean][] = [];
      mon.subscribe((name, up) => { if (name === 'vf-mon') seen.push([name, up]); });
      await sh('ip link set vf-mon down');
      await waitUntil('down notification', () => seen.length === 1, 5000);
      await sh('ip link set vf-mon up');
      await waitUntil('up notification', () => seen.length === 2, 5000);
      await sh('ip link del vf-mon');
      await waitUntil('delete notification', () => seen.length === 3, 5000);
      expect(seen).toEqual([['vf-mon', false], ['vf-mon', true], ['vf-mon', false]]);
      expect(mon.isUp('vf-mon')).toBe(false);
      expect(mon.isUp('no-such-link')).toBe(false);
    } finally {
      mon.close();
    }
  });

  // The same steps, with ours or keepalived on either side: who is master after each step must agree.
  for (const [masterKind, backupKind] of [['ours', 'ours'], ['ours', 'keepalived'], ['keepalived', 'ours']] as const) {
    it(`${masterKind} master (a, 200) / ${backupKind} backup (b, 100): tracked interface down -> a FAULT, b master of both; up -> a BACKUP, then preempts`, async () => {
      const a = await start(masterKind, 'a', 200);
      await both(a, 'MASTER', 0);
      const b = await start(backupKind, 'b', 100);
      await both(b, 'BACKUP', 0);
      await holdsBoth('a');

      const cut = Date.now();
      await link(lan.a, 'trk0', 'down');
      const faulted = await both(a, 'FAULT', cut);
      const tookOver = await both(b, 'MASTER', cut);
      figure(`${masterKind}->${backupKind} trk0 down: master FAULT after`, faulted - cut);
      figure(`${masterKind}->${backupKind} trk0 down: peer MASTER of both after`, tookOver - cut);
      await holdsBoth('b');
      if (a instanceof OurRouter) {
        // In FAULT nothing is sent: the advert counters stand still while b runs the group.
        const sent = async (): Promise<number[]> => (await a.status()).status.map((s) => (s.counters as { advertsSent: number }).advertsSent);
        const before = await sent();
        await b.waitState('VI_1', 'MASTER', 1000, cut);
        await waitUntil('b adverts heard by a client', async () => (await hasAddress(lan.b, VIP1)), 3000);
        expect(await sent()).toEqual(before);
        expect((await a.status()).status.map((s) => [s.state, s.faultCauses])).toEqual([['fault', ['trk0 down']], ['fault', ['trk0 down']]]);
      }

      const up = Date.now();
      await link(lan.a, 'trk0', 'up');
      const backup = await both(a, 'BACKUP', up);
      const back = await both(a, 'MASTER', up);
      await both(b, 'BACKUP', up);
      figure(`${masterKind}->${backupKind} trk0 up: a BACKUP after`, backup - up);
      figure(`${masterKind}->${backupKind} trk0 up: a MASTER again (preempt) after`, back - up);
      await holdsBoth('a');
    });
  }

  it('ours: one member\'s own interface down takes the whole sync group to FAULT and both VIPs move; keepalived as the backup does the same', async () => {
    for (const backupKind of ['ours', 'keepalived'] as const) {
      const a = await ours('a', 200);
      await both(a, 'MASTER', 0);
      const b = await start(backupKind, 'b', 100);
      await both(b, 'BACKUP', 0);
      await holdsBoth('a');
      const cut = Date.now();
      await link(lan.a, seg2('a'), 'down');
      await both(a, 'FAULT', cut);
      const tookOver = await both(b, 'MASTER', cut);
      // VI_1's priority 0 still goes out; VI_2's cannot (its link is down): b's group waits for
      // its VI_2 Master_Down_Interval (vrrp_sync_can_goto_master).
      figure(`ours->${backupKind} VI_2 interface down: peer MASTER of both after`, tookOver - cut);
      await waitVip(lan, VIP1, 'b', 5000);
      expect(await hasAddress(lan.a, VIP1)).toBe(false);
      const up = Date.now();
      await link(lan.a, seg2('a'), 'up');
      await both(a, 'MASTER', up);
      await both(b, 'BACKUP', up);
      await waitVip(lan, VIP1, 'a', 5000);
      for (const r of running.splice(0)) await r.kill();
    }
  });

  it('weighted track_interface (weight -150): the priority drops while it is down, the backup preempts, and the master returns; keepalived (sync_group_tracking_weight) alike', async () => {
    for (const masterKind of ['ours', 'keepalived'] as const) {
      const a = await start(masterKind, 'a', 200, [{ name: 'trk0', weight: -150 }]);
      await both(a, 'MASTER', 0);
      const b = await start(masterKind === 'ours' ? 'keepalived' : 'ours', 'b', 100, [{ name: 'trk0', weight: -150 }]);
      await both(b, 'BACKUP', 0);
      const cut = Date.now();
      await link(lan.a, 'trk0', 'down');
      // No FAULT with a weight: a goes BACKUP (priority 50 < 100).
      await both(a, 'BACKUP', cut);
      const tookOver = await both(b, 'MASTER', cut);
      figure(`${masterKind} weighted trk0 down: peer MASTER after`, tookOver - cut);
      expect(a.changes.some((c) => c.state === 'FAULT')).toBe(false);
      if (a instanceof OurRouter) expect((await a.status()).status.map((s) => s.priority)).toEqual([50, 50]);
      await holdsBoth('b');
      const up = Date.now();
      await link(lan.a, 'trk0', 'up');
      const back = await both(a, 'MASTER', up);
      figure(`${masterKind} weighted trk0 up: MASTER again after`, back - up);
      await holdsBoth('a');
      for (const r of running.splice(0)) await r.kill();
      await sh(`ip -n vf-a addr del ${VIP1}/32 dev ${lan.a.dev}; ip -n vf-a addr del ${VIP2}/32 dev vf-a1; ip -n vf-b addr del ${VIP1}/32 dev ${lan.b.dev}; ip -n vf-b addr del ${VIP2}/32 dev vf-b1; true`);
    }
  });
});
