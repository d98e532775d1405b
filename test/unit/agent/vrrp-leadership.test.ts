import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { desiredSync, nodePriority, vrrpGroups, vrrpInstanceSpecs, VrrpLeadership, type VrrpLeadershipOptions } from '../../../src/agent/vrrp-leadership.js';
import { FakeIpvsClient } from '../../../src/ipvs/fake.js';
import { FakeLinkClient } from '../../../src/link/index.js';
import { resolve } from '../../../src/model/index.js';
import type { Snapshot } from '../../../src/model/types.js';
import { FakeClock } from '../../../src/vrrp/fake-clock.js';
import { VrrpSpeaker } from '../../../src/vrrp/runtime/index.js';
import { FakeLan } from '../vrrp/fake-channels.js';
import { silent } from '../vrrp/wire.js';
import { dg, node, snapshot, web } from '../model/fixtures.js';

const vip1 = '192.168.10.100';
const vip2 = '192.168.10.200';

function twoDirectors(o: { vips?: string[]; vrrp?: object; sync?: object; annotations?: Record<string, string>; directors?: number } = {}): Snapshot {
  const vips = o.vips ?? [vip1, vip2];
  const snap = snapshot({
    directorGroups: [dg('g1', { vrrp: { advertIntervalMs: 100, ...o.vrrp }, sync: { ...o.sync } }, { vrids: vips.map((v) => ({ vip: v, interface: 'eth0', vrid: v === vip1 ? 51 : 52 })) })],
    virtualServices: vips.map((v, i) => web('shop', `web-${i}`, v)),
    nodes: [node('d1', { 'lvs.dev/director': 'g1' }), ...(o.directors === 1 ? [] : [node('d2', { 'lvs.dev/director': 'g1' })])],
  });
  if (o.annotations) snap.nodes[0]!.metadata.annotations = o.annotations;
  return snap;
}

describe('vrrpInstanceSpecs (model -> VRRP instances)', () => {
  it('makes one instance per VIP with the allocated router id and the group settings', () => {
    const specs = vrrpInstanceSpecs(resolve(twoDirectors({ vrrp: { preempt: false, garpRepeat: 3, garpIntervalMs: 20, unicastPeers: ['192.168.10.2'] } })), 'd1');
    expect(specs.map((s) => [s.group, s.vip, s.iface])).toEqual([['g1', vip1, 'eth0'], ['g1', vip2, 'eth0']]);
    expect(specs[0]!.spec).toEqual({
      name: `g1/eth0/${vip1}`, interface: 'eth0', version: 3, vrid: 51, priority: 100, advertIntervalMs: 100,
      vips: [vip1], preempt: false, preemptDelayMs: 0, unicastPeers: ['192.168.10.2'], garpRepeat: 3, garpIntervalMs: 20,
    });
    expect(specs[1]!.spec.vrid).toBe(52);
  });

  it('is stable: the same model gives equal specs, in name order', () => {
    const a = vrrpInstanceSpecs(resolve(twoDirectors()), 'd1');
    const b = vrrpInstanceSpecs(resolve(twoDirectors()), 'd1');
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
    expect(a.map((s) => s.spec.name)).toEqual([...a.map((s) => s.spec.name)].sort());
  });

  it('drops the instance of a VIP that goes away and keeps the other unchanged', () => {
    const before = vrrpInstanceSpecs(resolve(twoDirectors()), 'd1');
    const after = vrrpInstanceSpecs(resolve(twoDirectors({ vips: [vip2] })), 'd1');
    expect(after.map((s) => s.vip)).toEqual([vip2]);
    expect(after[0]!.spec).toEqual(before[1]!.spec);
  });

  it('runs no VRRP for a sole director or on a node that directs nothing', () => {
    expect(vrrpInstanceSpecs(resolve(twoDirectors({ directors: 1 })), 'd1')).toEqual([]);
    expect(vrrpGroups(resolve(twoDirectors()), 'rs-1')).toEqual([]);
  });

  it('takes the priority from the group, a valid Node annotation overrides it; v2 PASS from a given password', () => {
    expect(vrrpInstanceSpecs(resolve(twoDirectors({ vrrp: { priority: 120 } })), 'd1')[0]!.spec.priority).toBe(120);
    const snap = twoDirectors({ annotations: { 'lvs.dev/vrrp-priority': '150' } });
    expect(nodePriority(snap, 'd1')).toBe(150);
    expect(nodePriority(twoDirectors({ annotations: { 'lvs.dev/vrrp-priority': '255' } }), 'd1')).toBeUndefined();
    expect(vrrpInstanceSpecs(resolve(snap), 'd1', { priority: nodePriority(snap, 'd1') })[0]!.spec.priority).toBe(150);
    const v2 = resolve(twoDirectors({ vrrp: { version: 2, advertIntervalMs: 1000, authSecretRef: { name: 's', namespace: 'lvs-system' } } }));
    expect(vrrpInstanceSpecs(v2, 'd1', { passwords: new Map([['g1', 'secret']]) })[0]!.spec.auth).toEqual({ type: 'pass', password: 'secret' });
    expect(vrrpInstanceSpecs(v2, 'd1')[0]!.spec.auth).toBeUndefined();
  });

  it('runs the sync daemon of a VRRP-managed group with sync on, on its sync interface', () => {
    expect(desiredSync(resolve(twoDirectors()), 'd1')).toBeUndefined();
    expect(desiredSync(resolve(twoDirectors({ sync: { enabled: true, syncId: 7, interface: 'eth1' } })), 'd1')).toEqual({ group: 'g1', mcastIfn: 'eth1', syncId: 7 });
    expect(desiredSync(resolve(twoDirectors({ directors: 1, sync: { enabled: true } })), 'd1')).toBeUndefined();
  });
});

/** Lets the actions run, including the real file writes of vrrp.json. */
const flush = async (): Promise<void> => {
  for (let i = 0; i < 3; i++) await new Promise((r) => setTimeout(r, 1));
};

/** Two agents' leaderships on an in-memory LAN, each with its own fake link and IPVS. */
function lab() {
  const clock = new FakeClock();
  const lan = new FakeLan(clock);
  const dir = mkdtempSync(join(tmpdir(), 'vrrp-leadership-'));
  const director = (name: string, address: string, pre: (link: FakeLinkClient, record: string) => void = () => undefined, extra: Partial<VrrpLeadershipOptions> = {}) => {
    const link = new FakeLinkClient(['lo', 'eth0']);
    void link.addAddress('eth0', address, 24);
    const ipvs = new FakeIpvsClient();
    const recordPath = join(dir, `${name}.json`);
    pre(link, recordPath);
    const leadership = new VrrpLeadership({
      node: name, link, ipvs, recordPath, clock, log: silent,
      announcer: { announce: async () => undefined, close: () => undefined },
      speaker: (o) => new VrrpSpeaker({ ...o, channels: lan.factory(name, [address]) }),
      ...extra,
    });
    const holds = async (): Promise<boolean> => (await link.listAddresses('eth0')).some((a) => a.address === vip1);
    return { name, link, ipvs, leadership, recordPath, holds };
  };
  const run = async (ms: number): Promise<void> => {
    for (let t = 0; t < ms; t += 10) {
      clock.advance(10);
      await flush();
    }
  };
  return { director, run };
}

describe('VrrpLeadership', () => {
  it('elects one holder of the VIP, switches the sync daemons and leaves VRRP VIPs out of compile', async () => {
    const { director, run } = lab();
    const snap = twoDirectors({ vips: [vip1], sync: { enabled: true, syncId: 3 } });
    const d1 = director('d1', '192.168.10.1');
    const d2 = director('d2', '192.168.10.2');
    for (const d of [d1, d2]) {
      await d.leadership.start();
      await d.leadership.update(snap);
    }
    expect(d1.leadership.leadership('g1', vip1, 'eth0')).toBe(false);
    await run(500);
    // Equal priorities: the higher address wins.
    expect([await d1.holds(), await d2.holds()]).toEqual([false, true]);
    expect(d2.leadership.stateOf('g1', [vip1])).toBe('Master');
    expect(d1.leadership.stateOf('g1', [vip1])).toBe('Backup');
    expect((await d2.ipvs.listDaemons()).map((d) => d.state).sort()).toEqual(['backup', 'master']);
    expect(await d1.ipvs.listDaemons()).toEqual([expect.objectContaining({ state: 'backup', mcastIfn: 'eth0', syncId: 3 })]);
    expect(JSON.parse(readFileSync(d2.recordPath, 'utf8')).masters).toEqual({ [`g1/eth0/${vip1}`]: [vip1] });

    // Graceful stop of the master: priority 0, VIP handed over at once, master daemon stopped.
    await d2.leadership.stop();
    expect(await d2.holds()).toBe(false);
    expect((await d2.ipvs.listDaemons()).map((d) => d.state)).toEqual(['backup']);
    await run(100);
    expect(await d1.holds()).toBe(true);
    expect(d1.leadership.stateOf('g1', [vip1])).toBe('Master');

    // The VIP leaves the model: the instance stops and gives the VIP up.
    await d1.leadership.update(twoDirectors({ vips: [vip2], sync: { enabled: true, syncId: 3 } }));
    expect(await d1.holds()).toBe(false);
    expect(d1.leadership.status().map((s) => s.name)).toEqual([`g1/eth0/${vip2}`]);
  });

  it('VRRPv2 PASS: reads the password from the Secret; peers with the same one elect one master, a wrong one is not heard', async () => {
    const snap = twoDirectors({ vips: [vip1], vrrp: { version: 2, advertIntervalMs: 1000, authSecretRef: { name: 'vrrp', namespace: 'lvs-system', key: 'password' } } });
    const reads: string[] = [];
    const secret = (value: string) => ({ readSecret: async (ns: string, name: string, key: string) => { reads.push(`${ns}/${name}/${key}`); return value; } });
    for (const [p1, p2, holders] of [['1111', '1111', 1], ['1111', '2222', 2]] as const) {
      const { director, run } = lab();
      const d1 = director('d1', '192.168.10.1', undefined, secret(p1));
      const d2 = director('d2', '192.168.10.2', undefined, secret(p2));
      for (const d of [d1, d2]) {
        await d.leadership.start();
        await d.leadership.update(snap);
      }
      await run(5000);
      expect([await d1.holds(), await d2.holds()].filter(Boolean)).toHaveLength(holders);
      for (const d of [d1, d2]) await d.leadership.stop();
    }
    expect(reads).toContain('lvs-system/vrrp/password');
  });

  it('a sole director holds its VIPs through the reconciler, without VRRP', async () => {
    const { director } = lab();
    const d1 = director('d1', '192.168.10.1');
    await d1.leadership.start();
    await d1.leadership.update(twoDirectors({ directors: 1 }));
    expect(d1.leadership.leadership('g1', vip1, 'eth0')).toBe(true);
    expect(d1.leadership.stateOf('g1', [vip1])).toBeUndefined();
    expect(d1.leadership.status()).toEqual([]);
  });

  it('after a restart keeps a VIP it held as master until a master it accepts is heard', async () => {
    const { director, run } = lab();
    const snap = twoDirectors({ vips: [vip1] });
    // d2 (higher address) is master already; d1 crashed while master and restarts holding the VIP.
    const d2 = director('d2', '192.168.10.2');
    await d2.leadership.start();
    await d2.leadership.update(snap);
    await run(500);
    expect(await d2.holds()).toBe(true);
    const d1 = director('d1', '192.168.10.1', (link, record) => {
      void link.addAddress('eth0', vip1, 32);
      writeFileSync(record, JSON.stringify({ version: 1, masters: { [`g1/eth0/${vip1}`]: [vip1] }, daemons: [] }));
    });
    await d1.leadership.start();
    await d1.leadership.update(snap);
    await flush();
    expect(await d1.holds()).toBe(true); // not removed at start
    await run(200);
    expect(await d1.holds()).toBe(false); // d2's adverts won
    expect(JSON.parse(readFileSync(d1.recordPath, 'utf8')).masters).toEqual({});
  });

  it('after a restart alone keeps the VIP throughout and becomes master', async () => {
    const { director, run } = lab();
    const d1 = director('d1', '192.168.10.1', (link, record) => {
      void link.addAddress('eth0', vip1, 32);
      writeFileSync(record, JSON.stringify({ version: 1, masters: { [`g1/eth0/${vip1}`]: [vip1] }, daemons: [] }));
    });
    await d1.leadership.start();
    await d1.leadership.update(twoDirectors({ vips: [vip1] }));
    for (let i = 0; i < 50; i++) {
      await run(10);
      expect(await d1.holds()).toBe(true);
    }
    expect(d1.leadership.stateOf('g1', [vip1])).toBe('Master');
  });
});
