// The periodic resync walks the table in steps of its own: a change never waits for a run of
// them, and its pass reads back nothing but what changed.
import { afterEach, describe, expect, it } from 'vitest';
import { Agent } from '../../../src/agent/agent.js';
import { MemoryOwnershipStore } from '../../../src/agent/ownership.js';
import { Reconciler, type ReconcileOptions } from '../../../src/agent/reconciler.js';
import type { NodeDesired } from '../../../src/agent/compile.js';
import { FakeIpvsClient } from '../../../src/ipvs/fake.js';
import { FakeLinkClient } from '../../../src/link/fake.js';
import { FakeSysctl } from '../../../src/link/sysctl.js';
import { dg, node, rs, snapshot, web } from '../model/fixtures.js';

const services = 20;
const snap = snapshot({
  directorGroups: [dg('g1')],
  virtualServices: Array.from({ length: services }, (_, i) => web('shop', `web-${i}`, `192.168.10.${i + 1}`, { forwarding: { method: 'DR' }, healthCheck: { type: 'None' } })),
  realServers: [rs('shop', 'web-1', { address: '10.1.0.1' }, { app: 'web' })],
  nodes: [node('d1', { 'lvs.dev/director': 'g1' })],
});

interface Call { full: boolean; verify: string[]; links: boolean }

class RecordingReconciler extends Reconciler {
  readonly calls: Call[] = [];
  override async reconcile(desired: NodeDesired, opts: ReconcileOptions = { full: true }) {
    this.calls.push({ full: opts.full ?? true, verify: [...(opts.verify ?? [])], links: opts.verifyLinks ?? false });
    await new Promise((r) => setTimeout(r, 5)); // a step takes time, as netlink does
    return super.reconcile(desired, opts);
  }
}

let agent: Agent | undefined;
afterEach(async () => {
  await agent?.stop();
  agent = undefined;
});

describe('Agent resync', () => {
  it('walks every service in steps of its own; a change asked for during the walk is served by a pass that takes no step', async () => {
    const reconciler = new RecordingReconciler({ ipvs: new FakeIpvsClient(), link: new FakeLinkClient(), sysctl: new FakeSysctl(), store: new MemoryOwnershipStore() });
    const listeners: (() => void)[] = [];
    let changedAt: number | undefined;
    let steps = 0;
    agent = new Agent({
      node: 'd1', source: { snapshot: () => snap, onChange: (l) => { listeners.push(l); return () => undefined; } },
      // The change's pass waits for its debounce; the next step is due sooner and must not run.
      reconciler, resyncMs: 150, resyncSlice: 4, debounceMs: 50,
      onPass: () => {
        const i = reconciler.calls.length - 1;
        // Right after the second step: a change comes in.
        if (reconciler.calls[i]!.verify.length > 0 && ++steps === 2) {
          changedAt = i;
          for (const l of listeners) l();
        }
      },
    });
    await agent.start();
    const deadline = Date.now() + 5000;
    const walked = () => new Set(reconciler.calls.slice(1).flatMap((c) => c.verify));
    while (walked().size < services && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    const calls = reconciler.calls;
    expect(calls[0]!.full).toBe(true);
    expect(walked().size).toBe(services);
    expect(changedAt).toBeDefined();
    // The pass after that step: the change's, with no step, although the next step was due first.
    expect(calls[changedAt! + 1]!.verify).toEqual([]);
    const stepCalls = calls.filter((c) => c.verify.length > 0);
    expect(stepCalls.every((c) => c.verify.length <= 4 && !c.full)).toBe(true);
    // Links and sysctls are re-read once per resync, at its first step.
    expect(stepCalls[0]!.links).toBe(true);
    expect(stepCalls.slice(1, services / 4).some((c) => c.links)).toBe(false);
  });
});
