// Profiling aid (not a benchmark against a peer): the agent's pass for one weight change at
// N VirtualServices x M RealServers, on the host with the fake kernel, so the JavaScript cost of a
// pass shows apart from netlink and the lab kernel. Usage:
//   node --import tsx [--cpu-prof --cpu-prof-dir DIR] bench/agent-pass.ts [N] [M] [changes]
import { Agent } from '../src/agent/agent.js';
import { MemoryOwnershipStore } from '../src/agent/ownership.js';
import { Reconciler } from '../src/agent/reconciler.js';
import { StatusReporter } from '../src/agent/reporter.js';
import type { SnapshotSource } from '../src/agent/source.js';
import { HealthChecker } from '../src/health/index.js';
import { FakeIpvsClient } from '../src/ipvs/fake.js';
import { FakeLinkClient, FakeSysctl } from '../src/link/index.js';
import { ParsedKinds } from '../src/model/index.js';
import type { Snapshot } from '../src/model/types.js';
import { logger } from '../src/util/log.js';

const [n = 1000, m = 10, changes = 200] = process.argv.slice(2).map(Number);
const vipOf = (i: number): string => `10.252.0.${(i % 50) + 1}`;
const rsOf = (k: number): string => `10.${128 + Math.floor(k / 62_500)}.${Math.floor(k / 250) % 250}.${(k % 250) + 1}`;
const meta = (name: string, extra: object = {}) => ({ name, namespace: 'bench', generation: 1, uid: name, resourceVersion: '1', creationTimestamp: '2026-01-01T00:00:00Z', ...extra });
const realServers: unknown[] = [];
const virtualServices: unknown[] = [];
for (let i = 0; i < n; i++) {
  virtualServices.push({ apiVersion: 'lvs.dev/v1alpha1', kind: 'VirtualService', metadata: meta(`vs-${i}`), spec: { vip: vipOf(i), port: 1000 + i, protocol: 'TCP', scheduler: 'wrr', forwarding: { method: 'DR' }, healthCheck: { type: 'None' }, backends: { realServerSelector: { matchLabels: { vs: `vs-${i}` } } }, directorGroup: 'bench' } });
  for (let j = 0; j < m; j++) realServers.push({ apiVersion: 'lvs.dev/v1alpha1', kind: 'RealServer', metadata: meta(`rs-${i}-${j}`, { labels: { vs: `vs-${i}` } }), spec: { address: rsOf(i * m + j), weight: 1 } });
}
const raw = {
  directorGroups: [{ apiVersion: 'lvs.dev/v1alpha1', kind: 'DirectorGroup', metadata: { name: 'bench', generation: 1, uid: 'g', creationTimestamp: '2026-01-01T00:00:00Z' }, spec: { nodeSelector: { matchLabels: { 'lvs.dev/director': 'bench' } }, interface: 'eth0' } }],
  virtualServices, realServers, services: [], endpointSlices: [],
  nodes: [{ apiVersion: 'v1', kind: 'Node', metadata: { name: 'd1', labels: { 'lvs.dev/director': 'bench' } } }] as never[],
};

// Like ApiSource: objects parsed as their (informer) events arrive, one snapshot per change.
class ArraySource implements SnapshotSource {
  private listeners: (() => void)[] = [];
  private cached: Snapshot | undefined;
  private readonly parsed = new ParsedKinds();
  constructor() {
    for (const obj of raw.directorGroups) this.parsed.directorGroups.apply({ type: 'added', obj });
    for (const obj of virtualServices) this.parsed.virtualServices.apply({ type: 'added', obj });
    for (const obj of realServers) this.parsed.realServers.apply({ type: 'added', obj });
  }
  snapshot(): Snapshot { return (this.cached ??= { ...this.parsed.lists(), services: [], endpointSlices: [], nodes: raw.nodes }); }
  onChange(l: () => void): () => void { this.listeners.push(l); return () => undefined; }
  changed(realServer: unknown): void { this.parsed.realServers.apply({ type: 'updated', obj: realServer }); this.cached = undefined; for (const l of this.listeners) l(); }
}

const source = new ArraySource();
const ipvs = new FakeIpvsClient();
const reconciler = new Reconciler({ ipvs, link: new FakeLinkClient(['lo', 'eth0']), sysctl: new FakeSysctl(), store: new MemoryOwnershipStore() });
const reporter = new StatusReporter({ node: 'd1', virtualServices: { applyStatus: async () => undefined }, log: logger('bench'), writesPerSecond: 100_000, minIntervalMs: 0 });
const passMs: number[] = [];
const agent = new Agent({ node: 'd1', source, reconciler, checker: new HealthChecker({ probe: async () => ({ ok: true, latencyMs: 1 }) }), onPass: (p) => { passMs.push(p.result.durationMs); reporter.report(p); } });
const t0 = performance.now();
await agent.start();
const key = { af: 'IPv4', protocol: 'tcp', addr: vipOf(0), port: 1000 } as const;
const weight = async (): Promise<number | undefined> => (await ipvs.listDests(key, { stats: false })).find((d) => d.addr === rsOf(0))?.weight;
while ((await weight()) === undefined) await new Promise((r) => setTimeout(r, 10));
console.error(`first convergence ${Math.round(performance.now() - t0)} ms`);
await reporter.flush(60_000);
const lat: number[] = [];
for (let k = 1; k <= changes; k++) {
  const w = 1 + k;
  const old = realServers[0] as { metadata: { resourceVersion: string }; spec: object };
  realServers[0] = { ...old, metadata: { ...old.metadata, generation: 1 + k, resourceVersion: String(1 + k) }, spec: { ...old.spec, weight: w } };
  const sent = performance.now();
  source.changed(realServers[0]);
  while ((await weight()) !== w) await new Promise((r) => setImmediate(r));
  lat.push(performance.now() - sent);
  await new Promise((r) => setTimeout(r, 30));
}
// Passes nothing asked for (a resync step's fixed part: every walk of the table, no change).
const idle: number[] = [];
for (let k = 0; k < 100; k++) {
  const t = performance.now();
  await agent.pass();
  idle.push(performance.now() - t);
}
idle.sort((a, b) => a - b);
lat.sort((a, b) => a - b);
const q = (p: number) => Math.round(lat[Math.min(lat.length - 1, Math.ceil(p * lat.length) - 1)]! * 10) / 10;
console.log(JSON.stringify({ virtualservices: n, backends: m, changes, p50_ms: q(0.5), p99_ms: q(0.99), max_ms: q(1), debounce_ms: 20, pass_ms_p50: passMs.slice(-changes - idle.length, -idle.length).sort((a, b) => a - b)[Math.floor(changes / 2)], idle_pass_ms_p50: Math.round(idle[50]! * 10) / 10 }));
await agent.stop();
reporter.close();
agent.checker.close();
