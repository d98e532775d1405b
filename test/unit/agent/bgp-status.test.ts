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

function bird(info: { now: string }): BirdDaemon {
  return {
    apply: async () => 'started',
    showProtocols: async () => protocols(info.now),
    alive: async () => true,
    stop: async () => undefined,
  } as unknown as BirdDaemon;
}

describe('BGP speaker status', () => {
  it('the announcer tells each change of sessions, routes and drain once, and nothing when nothing changed', async () => {
    const info = { now: 'Active' };
    const told: (BgpStatus | undefined)[] = [];
    const a = new BgpAnnouncer({ node: 'd1', daemon: bird(info), pollMs: 60_000, onStatus: (s) => told.push(s && structuredClone(s)), log: logger('test') });
    await a.update(snap, model, desired);
    expect(told).toEqual([{ group: 'g1', sessions: [{ peer: PEER, state: 'start', info: 'Active' }], announced: [VIP], draining: false }]);
    await a.update(snap, model, desired);
    expect(told).toHaveLength(1);
    info.now = 'Established';
    await a.update(snap, model, desired);
    expect(told.at(-1)).toEqual({ group: 'g1', sessions: [{ peer: PEER, state: 'up', info: 'Established' }], announced: [VIP], draining: false });
    await a.drain();
    // Routes withdrawn while it drains, then no speaker at all.
    expect(told.slice(-2)).toEqual([{ group: 'g1', sessions: [{ peer: PEER, state: 'up', info: 'Established' }], announced: [], draining: true }, undefined]);
  });

  it("the reporter writes this node's entry of the group's status.bgp, and releases it", async () => {
    const writes: { body: ApplyBody; manager: string }[] = [];
    const target = { applyStatus: async (body: ApplyBody, o: { fieldManager: string }) => { writes.push({ body, manager: o.fieldManager }); } };
    const none = { applyStatus: async () => undefined };
    const rep = new StatusReporter({ node: 'd1', virtualServices: none, realServers: none, directorGroups: target, log: logger('test'), minIntervalMs: 0, writesPerSecond: 1000 });
    rep.reportBgp({ group: 'g1', sessions: [{ peer: PEER, state: 'up', info: 'Established' }], announced: [VIP, '10.100.0.9'], draining: false });
    await rep.flush(2000);
    expect(writes).toEqual([{
      manager: 'lvs-agent/d1',
      body: { metadata: { name: 'g1' }, status: { bgp: [{ node: 'd1', sessions: [{ peer: PEER, state: 'up', info: 'Established', established: true }], announced: [VIP, '10.100.0.9'] }] } },
    }]);
    rep.reportBgp({ group: 'g1', sessions: [{ peer: PEER, state: 'start', info: 'Connect' }], announced: [], draining: true });
    await rep.flush(2000);
    expect(writes.at(-1)!.body.status).toEqual({ bgp: [{ node: 'd1', sessions: [{ peer: PEER, state: 'start', info: 'Connect', established: false }], announced: [], draining: true }] });
    // BIRD's info can be a long error text: cut to the schema's 256 characters, not refused.
    rep.reportBgp({ group: 'g1', sessions: [{ peer: PEER, state: 'start', info: `Error: ${'x'.repeat(400)}` }], announced: [], draining: false });
    await rep.flush(2000);
    const long = (writes.at(-1)!.body.status as { bgp: { sessions: { info: string }[] }[] }).bgp[0]!.sessions[0]!.info;
    expect(long).toHaveLength(256);
    expect(BgpDirectorView.safeParse((writes.at(-1)!.body.status as { bgp: unknown[] }).bgp[0]).success).toBe(true);
    rep.reportBgp(undefined);
    await rep.flush(2000);
    expect(writes.at(-1)!.body).toEqual({ metadata: { name: 'g1' }, status: {} });
    rep.close();
  });
});
