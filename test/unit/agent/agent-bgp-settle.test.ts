// A director joining an active-active group announces a VIP only once every real server of it has
// a health verdict, so its mh table matches the other directors' when the routers send it flows.
import { afterEach, describe, expect, it } from 'vitest';
import { Agent, type PassBgp } from '../../../src/agent/agent.js';
import { MemoryOwnershipStore } from '../../../src/agent/ownership.js';
import { Reconciler } from '../../../src/agent/reconciler.js';
import { HealthChecker } from '../../../src/health/index.js';
import type { ProbeResult, ProbeTarget } from '../../../src/health/types.js';
import { FakeIpvsClient } from '../../../src/ipvs/fake.js';
import { FakeLinkClient } from '../../../src/link/fake.js';
import { FakeSysctl } from '../../../src/link/sysctl.js';
import { dg, node, rs, snapshot, web } from '../model/fixtures.js';

const VIP = '10.100.0.10';
const snap = snapshot({
  directorGroups: [dg('g1', { announce: 'BGP', bgp: { localASN: 65011, peers: [{ address: '10.0.0.1', asn: 65000 }] } } as never)],
  virtualServices: [web('shop', 'web', VIP, { scheduler: 'mh', forwarding: { method: 'DR' }, healthCheck: { type: 'TCP', port: 80, intervalSeconds: 2, timeoutSeconds: 1, rise: 1, fall: 1 } })],
  realServers: ['1', '2', '3'].map((i) => rs('shop', `web-${i}`, { address: `10.0.0.2${i}` }, { app: 'web' })),
  nodes: [node('d1', { 'lvs.dev/director': 'g1' })],
});

class RecordingBgp implements PassBgp {
  readonly serving: string[][] = [];
  readonly draining = false;
  async update(_s: unknown, _m: unknown, desired: { bgp?: { serving: string[] }[] }): Promise<void> {
    this.serving.push(desired.bgp?.[0]?.serving ?? []);
  }
  async drain(): Promise<void> {}
  announcing(): ReadonlySet<string> {
    return new Set(this.serving.at(-1) ?? []);
  }
  exported(): ReadonlySet<string> {
    return this.announcing();
  }
}

let agent: Agent | undefined;
afterEach(async () => {
  await agent?.stop();
  agent = undefined;
});

const waitFor = async (what: string, fn: () => boolean, ms = 5000): Promise<void> => {
  const end = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe('Agent: the first BGP announcement of a VIP waits for every health verdict', () => {
  it('holds the VIP while a real server is unchecked, though another is already up; a failed probe is a verdict', async () => {
    let release: ((r: ProbeResult) => void) | undefined;
    const probe = (t: ProbeTarget): Promise<ProbeResult> => {
      if (t.address === '10.0.0.21') return Promise.resolve({ ok: true, latencyMs: 1 });
      if (t.address === '10.0.0.23') return Promise.resolve({ ok: true, latencyMs: 1 });
      // 10.0.0.22: its first probe hangs until the test lets it fail.
      return new Promise((r) => { release ??= r; });
    };
    const checker = new HealthChecker({ probe, random: () => 0 });
    const bgp = new RecordingBgp();
    let lastAnnounced: ReadonlySet<string> | undefined;
    const ipvs = new FakeIpvsClient({ schedulers: ['mh', 'wlc'] });
    agent = new Agent({
      node: 'd1', source: { snapshot: () => snap, onChange: () => () => undefined }, checker, bgp, resyncMs: 3_600_000,
      onPass: (p) => { lastAnnounced = p.announced; },
      reconciler: new Reconciler({ ipvs, link: new FakeLinkClient(), sysctl: new FakeSysctl(), store: new MemoryOwnershipStore() }),
    });
    await agent.start();
    // Two servers up and in the table, one unchecked: the table serves, the route waits.
    await waitFor('two servers up in IPVS', () => bgp.serving.length > 0 && checker.snapshot().filter((s) => s.healthy).length === 2);
    await agent.pass();
    expect(bgp.serving.at(-1)).toEqual([]);
    expect(bgp.serving.every((s) => s.length === 0)).toBe(true);
    expect([...lastAnnounced!]).toEqual([]); // what the status entry's `announced` reads
    await new Promise((r) => setTimeout(r, 300)); // no pass pending any more
    // The third one's first probe fails: no health change (it started down), so no pass of its
    // own; the agent looks again while a VIP waits, and announces it.
    release!({ ok: false, latencyMs: 1, reason: 'connect ECONNREFUSED' });
    await waitFor('the VIP announced', () => bgp.serving.at(-1)?.join() === VIP, 5000);
    expect([...lastAnnounced!]).toEqual([VIP]);
  });
});
