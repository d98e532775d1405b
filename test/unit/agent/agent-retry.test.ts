// The agent comes back by itself for a service that failed transiently, without waiting for
// another change or the resync; a terminal failure does not bring it back.
import { afterEach, describe, expect, it } from 'vitest';
import { Agent } from '../../../src/agent/agent.js';
import { MemoryOwnershipStore } from '../../../src/agent/ownership.js';
import { Reconciler } from '../../../src/agent/reconciler.js';
import { ServiceRetry } from '../../../src/agent/service-retry.js';
import { FakeIpvsClient } from '../../../src/ipvs/fake.js';
import { FakeLinkClient } from '../../../src/link/fake.js';
import { FakeSysctl } from '../../../src/link/sysctl.js';
import { dg, node, rs, snapshot, web } from '../model/fixtures.js';

const snap = snapshot({
  directorGroups: [dg('g1')],
  virtualServices: [web('shop', 'web', '192.168.10.100', { forwarding: { method: 'DR' }, healthCheck: { type: 'None' } }), web('shop', 'odd', '192.168.10.101', { forwarding: { method: 'DR' }, scheduler: 'twos', healthCheck: { type: 'None' } })],
  realServers: [rs('shop', 'web-1', { address: '10.1.0.1' }, { app: 'web' })],
  nodes: [node('d1', { 'lvs.dev/director': 'g1' })],
});

let agent: Agent | undefined;
afterEach(async () => {
  await agent?.stop();
  agent = undefined;
});

describe('Agent retries', () => {
  it('retries a transient failure on its own after the backoff; a terminal one stays put', async () => {
    const ipvs = new FakeIpvsClient({ schedulers: ['wlc', 'wrr', 'rr'] });
    ipvs.injectError((op) => op.op === 'add-service' && 'addr' in op.service.key && op.service.key.addr === '192.168.10.100', 'ENOMEM', { once: true });
    const reconciler = new Reconciler({ ipvs, link: new FakeLinkClient(), sysctl: new FakeSysctl(), store: new MemoryOwnershipStore() }, new ServiceRetry({ baseDelayMs: 50 }));
    const passes: { errors: string[] }[] = [];
    agent = new Agent({
      node: 'd1', source: { snapshot: () => snap, onChange: () => () => undefined }, reconciler, resyncMs: 3_600_000,
      onPass: (p) => passes.push({ errors: p.result.errors.map((e) => `${e.services.join()} ${e.reason ?? 'transient'}`) }),
    });
    await agent.start();
    expect([...new Set(passes[0]?.errors)].sort()).toEqual(['shop/odd UnsupportedScheduler', 'shop/web transient']); // add-service, and add-dest after it
    // No change, no health check, no resync: only the backoff brings the agent back.
    await new Promise((r) => setTimeout(r, 300));
    expect(passes.length).toBe(2);
    expect(passes.at(-1)?.errors).toEqual(['shop/odd UnsupportedScheduler']);
    const services = (await ipvs.listServicesWithDests({ stats: false })).map((s) => ('addr' in s.key ? s.key.addr : ''));
    expect(services).toEqual(['192.168.10.100']);
  });
});
