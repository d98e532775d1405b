import { describe, expect, it } from 'vitest';
import { BgpAnnouncer, type BgpStatus } from '../../../src/agent/bgp-announcer.js';
import { BgpDirectorView } from '../../../src/api/index.js';
import { compile } from '../../../src/agent/compile.js';
import { StatusReporter } from '../../../src/agent/reporter.js';
import type { BirdDaemon } from '../../../src/bgp/runtime/bird-daemon.js';
import type { ApplyBody } from '../../../src/kube/index.js';
import { resolve } from '../../../src/model/index.js';
import { logger } from '../../../src/util/log.js';
import { dg, node, rs, snapshot, web } from '../model/fixtures.js';

// A director's BGP speaker in its group's status.bgp[]: the announcer tells what changed (sessions
// as BIRD lists them, the routes it was given, the drain), the reporter writes this node's entry.
// BIRD itself is the kernel tier's (test/kernel/bgp); here its control socket is a stand-in.
const VIP = '10.100.0.10';
const PEER = '10.0.0.1';
const snap = snapshot({
  directorGroups: [dg('g1', { announce: 'BGP', bgp: { localASN: 65011, peers: [{ address: PEER, asn: 65000 }], drainSeconds: 0 } } as never)],
  virtualServices: [web('shop', 'web', VIP, { scheduler: 'mh', schedulerFlags: ['mh-port'], forwarding: { method: 'DR' } })],
  realServers: [rs('shop', 'web-1', { address: '10.0.0.21' }, { app: 'web' })],
  nodes: [node('d1', { 'lvs.dev/director': 'g1' })],
});
const model = resolve(snap);
const desired = compile(model, 'd1', () => true, () => false);

const protocols = (info: string): string => [
  'BIRD 2.0.12 ready.',
  'Name       Proto      Table      State  Since         Info',
  'device1    Device     ---        up     1733500000',
  `lvs_peer_10_0_0_1 BGP        ---        ${info === 'Established' ? 'up   ' : 'start'}  1733500000    ${info}`,
].join('\n');

function bird(info: { now: string }, configs: string[] = []): BirdDaemon {
  return {
    apply: async (text: string) => { configs.push(text); return 'started'; },
    showProtocols: async () => protocols(info.now),
    alive: async () => true,
    stop: async () => undefined,
  } as unknown as BirdDaemon;
}

describe('BGP speaker status', () => {
  it('the announcer tells each change of sessions, routes and drain once, and nothing when nothing changed', async () => {
    const info = { now: 'Active' };
    const told: BgpStatus[][] = [];
    const a = new BgpAnnouncer({ node: 'd1', daemon: bird(info), pollMs: 60_000, onStatus: (s) => told.push(structuredClone(s)), log: logger('test') });
    await a.update(snap, model, desired);
    expect(told).toEqual([[{ group: 'g1', sessions: [{ peer: PEER, state: 'start', info: 'Active' }], announced: [VIP], draining: false }]]);
    await a.update(snap, model, desired);
    expect(told).toHaveLength(1);
    info.now = 'Established';
    await a.update(snap, model, desired);
    expect(told.at(-1)).toEqual([{ group: 'g1', sessions: [{ peer: PEER, state: 'up', info: 'Established' }], announced: [VIP], draining: false }]);
    await a.drain();
    // Routes withdrawn while it drains, then no speaker at all.
    expect(told.slice(-2)).toEqual([[{ group: 'g1', sessions: [{ peer: PEER, state: 'up', info: 'Established' }], announced: [], draining: true }], []]);
  });

  it("the reporter writes this node's entry of the group's status.bgp, and releases it", async () => {
    const writes: { body: ApplyBody; manager: string }[] = [];
    const target = { applyStatus: async (body: ApplyBody, o: { fieldManager: string }) => { writes.push({ body, manager: o.fieldManager }); } };
    const none = { applyStatus: async () => undefined };
    const rep = new StatusReporter({ node: 'd1', virtualServices: none, directorGroups: target, log: logger('test'), minIntervalMs: 0, writesPerSecond: 1000 });
    rep.reportBgp([{ group: 'g1', sessions: [{ peer: PEER, state: 'up', info: 'Established' }], announced: [VIP, '10.100.0.9'], draining: false }]);
    await rep.flush(2000);
    expect(writes).toEqual([{
      manager: 'lvs-agent/d1',
      body: { metadata: { name: 'g1' }, status: { bgp: [{ node: 'd1', sessions: [{ peer: PEER, state: 'up', info: 'Established', established: true }], announced: [VIP, '10.100.0.9'] }] } },
    }]);
    rep.reportBgp([{ group: 'g1', sessions: [{ peer: PEER, state: 'start', info: 'Connect' }], announced: [], draining: true }]);
    await rep.flush(2000);
    expect(writes.at(-1)!.body.status).toEqual({ bgp: [{ node: 'd1', sessions: [{ peer: PEER, state: 'start', info: 'Connect', established: false }], announced: [], draining: true }] });
    // BIRD's info can be a long error text: cut to the schema's 256 characters, not refused.
    rep.reportBgp([{ group: 'g1', sessions: [{ peer: PEER, state: 'start', info: `Error: ${'x'.repeat(400)}` }], announced: [], draining: false }]);
    await rep.flush(2000);
    const long = (writes.at(-1)!.body.status as { bgp: { sessions: { info: string }[] }[] }).bgp[0]!.sessions[0]!.info;
    expect(long).toHaveLength(256);
    expect(BgpDirectorView.safeParse((writes.at(-1)!.body.status as { bgp: unknown[] }).bgp[0]).success).toBe(true);
    rep.reportBgp([]);
    await rep.flush(2000);
    expect(writes.at(-1)!.body).toEqual({ metadata: { name: 'g1' }, status: {} });
    rep.close();
  });

  it('one BIRD for two groups: a shared router gets both groups\' routes, a router asked for with other settings stays with the first group and the second is told why', async () => {
    const two = snapshot({
      directorGroups: [
        // In name order g1 first: it keeps 10.0.0.1 with local AS 65011; g2 asks for it as 65012.
        dg('g2', { nodeSelector: { matchLabels: { role: 'director' } }, announce: 'BGP', bgp: { localASN: 65012, peers: [{ address: PEER, asn: 65000 }, { address: '10.0.0.2', asn: 65000 }], drainSeconds: 0, communities: ['65000:2'] } } as never),
        dg('g1', { nodeSelector: { matchLabels: { role: 'director' } }, announce: 'BGP', bgp: { localASN: 65011, peers: [{ address: PEER, asn: 65000 }], drainSeconds: 0 } } as never),
      ],
      virtualServices: [
        web('shop', 'web', VIP, { scheduler: 'mh', schedulerFlags: ['mh-port'], forwarding: { method: 'DR' } }),
        web('shop', 'api', '10.100.0.20', { directorGroup: 'g2', scheduler: 'mh', schedulerFlags: ['mh-port'], forwarding: { method: 'DR' }, backends: { realServerSelector: { matchLabels: { app: 'web' } } } }),
      ],
      realServers: [rs('shop', 'web-1', { address: '10.0.0.21' }, { app: 'web' })],
      nodes: [node('d1', { role: 'director' })],
    });
    const m = resolve(two);
    const want = compile(m, 'd1', () => true, () => false);
    expect(want.bgp?.map((g) => g.group)).toEqual(['g1', 'g2']);
    const told: BgpStatus[][] = [];
    const configs: string[] = [];
    const a = new BgpAnnouncer({ node: 'd1', daemon: bird({ now: 'Established' }, configs), pollMs: 60_000, onStatus: (x) => told.push(structuredClone(x)), log: logger('test') });
    await a.update(two, m, want);
    expect(told.at(-1)).toEqual([
      { group: 'g1', sessions: [{ peer: PEER, state: 'up', info: 'Established' }], announced: [VIP], draining: false },
      { group: 'g2', sessions: [
        { peer: PEER, state: 'conflict', info: 'Error: DirectorGroup g1 peers with this router from this director with other settings' },
        { peer: '10.0.0.2', state: 'absent', info: '' },
      ], announced: ['10.100.0.20'], draining: false },
    ]);
    const text = configs.at(-1)!;
    // g1's router gets g1's VIP only, as AS 65011; g2's own router gets g2's VIP, with g2's community.
    expect(text).toMatch(/protocol bgp lvs_peer_10_0_0_1 \{[^}]*local as 65011;[^}]*export where proto = "lvs_vips4" && net ~ \[ 10\.100\.0\.10\/32 \]; \};/);
    expect(text).toMatch(/protocol bgp lvs_peer_10_0_0_2 \{[^}]*local as 65012;[^}]*export where proto = "lvs_vips4" && net ~ \[ 10\.100\.0\.20\/32 \]; \};/);
    expect(text).toContain('  route 10.100.0.20/32 blackhole { bgp_community.add((65000, 2)); };\n');
    expect(text.match(/protocol bgp /g)).toHaveLength(2);
    // What the VirtualServices' status calls announced: VIPs some router is given.
    expect(a.exported()).toEqual(new Set([VIP, '10.100.0.20']));
    const onlyClash = snapshot({ ...two, directorGroups: two.directorGroups.map((g) => (g.metadata.name === 'g2' ? dg('g2', { ...g.spec, bgp: { ...g.spec.bgp!, peers: [{ address: PEER, asn: 65000 }] } } as never) : g)) });
    const m2 = resolve(onlyClash);
    await a.update(onlyClash, m2, compile(m2, 'd1', () => true, () => false));
    // g2 names only the router g1 has with other settings: its VIP is in BIRD but reaches nobody.
    expect(a.exported()).toEqual(new Set([VIP]));
    expect(a.announcing().has('10.100.0.20')).toBe(true);
    await a.drain();
    expect(told.at(-1)).toEqual([]);

    // The reporter: an entry in each group's status, and the one of a group left released.
    const writes: ApplyBody[] = [];
    const none = { applyStatus: async () => undefined };
    const rep = new StatusReporter({ node: 'd1', virtualServices: none, directorGroups: { applyStatus: async (body: ApplyBody) => { writes.push(body); } }, log: logger('test'), minIntervalMs: 0, writesPerSecond: 1000 });
    rep.reportBgp(told.find((x) => x.length === 2)!);
    await rep.flush(2000);
    expect(writes.map((w) => w.metadata.name).sort()).toEqual(['g1', 'g2']);
    rep.reportBgp(told.find((x) => x.length === 2)!.filter((x) => x.group === 'g1'));
    await rep.flush(2000);
    expect(writes.at(-1)).toEqual({ metadata: { name: 'g2' }, status: {} });
    rep.close();
  });
});
