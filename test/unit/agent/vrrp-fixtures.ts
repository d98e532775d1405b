// A DirectorGroup g1 with two directors (d1, d2) on eth0 and one VirtualService per VIP, and
// directors running VrrpLeadership on an in-memory LAN.
import { MemoryOwnershipStore } from '../../../src/agent/ownership.js';
import { Reconciler } from '../../../src/agent/reconciler.js';
import { VrrpLeadership, type VrrpLeadershipOptions } from '../../../src/agent/vrrp-leadership.js';
import { FakeIpvsClient } from '../../../src/ipvs/fake.js';
import { FakeLinkClient, FakeSysctl } from '../../../src/link/index.js';
import type { Snapshot } from '../../../src/model/types.js';
import { FakeClock } from '../../../src/vrrp/fake-clock.js';
import { VrrpSpeaker } from '../../../src/vrrp/runtime/index.js';
import { dg, node, snapshot, web } from '../model/fixtures.js';
import { FakeLan } from '../vrrp/fake-channels.js';
import { silent } from '../vrrp/wire.js';

export const vip1 = '192.168.10.100';
export const vip2 = '192.168.10.200';

export function twoDirectors(o: { vips?: string[]; vrrp?: object; sync?: object; annotations?: Record<string, string>; directors?: number; gatewayAddresses?: { address: string; interface: string; unicastPeers?: string[] }[] } = {}): Snapshot {
  const vips = o.vips ?? [vip1, vip2];
  const snap = snapshot({
    directorGroups: [dg('g1', { vrrp: { advertIntervalMs: 100, ...o.vrrp }, sync: { ...o.sync }, ...(o.gatewayAddresses ? { gatewayAddresses: o.gatewayAddresses } : {}) }, { vrids: vips.map((v) => ({ vip: v, interface: 'eth0', vrid: v === vip1 ? 51 : 52 })) })],
    virtualServices: vips.map((v, i) => web('shop', `web-${i}`, v)),
    nodes: [node('d1', { 'lvs.dev/director': 'g1' }), ...(o.directors === 1 ? [] : [node('d2', { 'lvs.dev/director': 'g1' })])],
  });
  if (o.annotations) snap.nodes[0]!.metadata.annotations = o.annotations;
  return snap;
}

/** Lets the takeover actions and record writes run. */
export const flush = async (): Promise<void> => {
  for (let i = 0; i < 3; i++) await new Promise((r) => setTimeout(r, 1));
};

export interface LabDirector {
  name: string;
  link: FakeLinkClient;
  ipvs: FakeIpvsClient;
  store: MemoryOwnershipStore;
  /** Owns the ownership record the leadership shares. */
  reconciler: Reconciler;
  leadership: VrrpLeadership;
  /** Whether it holds `vip` (default vip1) on eth0. */
  holds(vip?: string): Promise<boolean>;
}

/** Directors on an in-memory LAN, each with its own fake link, IPVS and ownership record. */
export function vrrpLab() {
  const clock = new FakeClock();
  const lan = new FakeLan(clock);
  const director = (name: string, address: string, o: { before?: (d: Omit<LabDirector, 'leadership'>) => void; store?: MemoryOwnershipStore; extra?: Partial<VrrpLeadershipOptions> } = {}): LabDirector => {
    const link = new FakeLinkClient(['lo', 'eth0']);
    void link.addAddress('eth0', address, 24);
    const ipvs = new FakeIpvsClient();
    const store = o.store ?? new MemoryOwnershipStore();
    const reconciler = new Reconciler({ ipvs, link, sysctl: new FakeSysctl(), store });
    const holds = async (vip = vip1): Promise<boolean> => (await link.listAddresses('eth0')).some((a) => a.address === vip);
    o.before?.({ name, link, ipvs, store, reconciler, holds });
    const leadership = new VrrpLeadership({
      node: name, link, record: reconciler.record, clock, log: silent,
      announcer: { announce: async () => undefined, close: () => undefined },
      speaker: (s) => new VrrpSpeaker({ ...s, channels: lan.factory(name, [address]) }),
      ...o.extra,
    });
    return { name, link, ipvs, store, reconciler, leadership, holds };
  };
  /** Moves the LAN's time on by `ms`, 10 ms at a time, letting everything run in between. */
  const run = async (ms: number): Promise<void> => {
    for (let t = 0; t < ms; t += 10) {
      clock.advance(10);
      await flush();
    }
  };
  return { director, run, clock };
}
