// The metrics both programs serve follow Prometheus' conventions: `promtool check metrics`
// (built from pinned Go modules, K8S_BINS_PROMTOOL=1 scripts/k8s-bins.sh) finds no problem in
// what the real MetricsServer answers on /metrics, and no series carries a label Prometheus
// reserves for the scrape target. The registries are put together as the programs do it.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { AgentPass } from '../../src/agent/agent.js';
import { emptyDesired } from '../../src/agent/compile.js';
import { AgentMetrics } from '../../src/agent/metrics.js';
import { registerIpvsMetrics } from '../../src/agent/ipvs-metrics.js';
import { liveTable } from '../../src/agent/live-table.js';
import type { NodeDesired } from '../../src/agent/compile.js';
import { MemoryOwnershipStore } from '../../src/agent/ownership.js';
import { OwnershipRecord } from '../../src/agent/ownership-record.js';
import { VrrpLeadership } from '../../src/agent/vrrp-leadership.js';
import { HealthChecker } from '../../src/health/index.js';
import { MetricsServer } from '../../src/kube/metrics-server.js';
import { FakeLinkClient } from '../../src/link/index.js';
import { resolve as resolveModel } from '../../src/model/index.js';
import { FakeClock } from '../../src/vrrp/fake-clock.js';
import { VrrpSpeaker } from '../../src/vrrp/runtime/index.js';
import { dg, node, snapshot, web } from '../unit/model/fixtures.js';
import { FakeLan } from '../unit/vrrp/fake-channels.js';
import { silent } from '../unit/vrrp/wire.js';
import { processMetrics } from '../../src/util/process-metrics.js';
import { eventually, installCrds, kit } from './controller-kit.js';
import { runTool } from './harness.js';
import { parse } from 'yaml';

const root = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const k = await kit(inject('kubeconfig'), inject('binDir'), 'metrics-lint');
let promtool = '';
/** The agent's and the controller's scrapes, for the chart's alerts and dashboard. */
const scraped: string[] = [];
const closers: Array<() => unknown> = [];

/** Problems promtool finds, one per line (exit 3 with problems; anything else nonzero is a failure). */
async function lint(text: string): Promise<string[]> {
  const r = await runTool(promtool, ['check', 'metrics'], text);
  const problems = (r.stdout + r.stderr).split('\n').filter((l) => l.trim());
  if (r.code !== 0) expect(problems.length, `promtool exit ${r.code}`).toBeGreaterThan(0);
  return r.code === 0 ? [] : problems;
}

/** Label names Prometheus sets on every scraped series itself: an exported one is renamed exported_<name>. */
function reservedLabels(text: string): string[] {
  const found = new Set<string>();
  for (const line of text.split('\n')) {
    const labels = /^[a-zA-Z_:][\w:]*\{(.*)\}/.exec(line)?.[1] ?? '';
    for (const m of labels.matchAll(/(?:^|,)([a-zA-Z_]\w*)="/g)) if (['instance', 'job'].includes(m[1]!)) found.add(`${line.split('{')[0]}: ${m[1]}`);
  }
  return [...found];
}

async function scrape(server: MetricsServer): Promise<string> {
  const port = await server.listen();
  closers.push(() => server.close());
  return (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
}

beforeAll(async () => {
  // Cached after the first build; a fresh machine builds promtool here (scripts/setup.sh does it earlier).
  const r = await runTool('env', ['K8S_BINS_PROMTOOL=1', `K8S_BINS_SKIP_HELM=${process.env['K8S_BINS_SKIP_HELM'] ?? ''}`, 'bash', join(root, 'scripts', 'k8s-bins.sh')]);
  expect(r.code, `K8S_BINS_PROMTOOL=1 scripts/k8s-bins.sh failed:\n${r.stderr}`).toBe(0);
  promtool = join(r.stdout.trim().split('\n').pop()!, 'promtool');
  await installCrds(k.api);
});

afterAll(async () => {
  for (const c of closers.splice(0).reverse()) await c();
  await k.stopAll();
  k.close();
});

describe('promtool check metrics', () => {
  it('finds the problems it is meant to find (a gauge named _total, a counter without it)', async () => {
    const bad = '# HELP a_total x\n# TYPE a_total gauge\na_total 1\n# HELP b x\n# TYPE b counter\nb 1\n';
    expect((await lint(bad)).join('\n')).toMatch(/a_total.*non-counter metrics should not have "_total" suffix[\s\S]*b.*counter metrics should have "_total" suffix/);
    expect(reservedLabels('x{vrrp_instance="a",instance="b"} 1\n')).toEqual(['x: instance']);
  });

  it("passes the agent's /metrics: reconcile, health checks with latency, VRRP, status, process", async () => {
    const checker = new HealthChecker({ jitter: 0, probe: async () => ({ ok: true, latencyMs: 2 }) });
    closers.push(() => checker.close());
    checker.set('shop/web/10.1.0.1:80', { target: { address: '10.1.0.1', port: 80 }, spec: { type: 'tcp', timeoutMs: 500 }, intervalMs: 20, rise: 1, fall: 1 });
    const metrics = new AgentMetrics(checker);
    metrics.watchStatus(() => 0);
    // The kernel's counters of our services, as the daemon reads them (live table).
    const ipvsKey = { af: 'IPv4' as const, protocol: 'tcp' as const, addr: '192.168.10.100', port: 80 };
    const counters = { conns: 7, inPkts: 70, outPkts: 60, inBytes: 7000, outBytes: 6000, cps: 1, inPps: 2, outPps: 3, inBps: 4, outBps: 5 };
    registerIpvsMetrics(metrics.registry, async () => liveTable('d1', new Date(), [{
      key: ipvsKey, scheduler: 'wrr', flags: ['hashed'], timeout: 0, netmask: 32, stats: counters,
      dests: [{ addr: '10.1.0.1', port: 80, fwd: 'masq', weight: 1, upperThreshold: 0, lowerThreshold: 0, activeConns: 2, inactConns: 1, stats: counters }],
    }], { services: [{ key: 'shop/web', ipvs: { key: ipvsKey } }] } as unknown as NodeDesired));
    // VRRP on an in-memory LAN, as in the unit tests: one instance per VIP.
    const clock = new FakeClock();
    const lan = new FakeLan(clock);
    const link = new FakeLinkClient(['lo', 'eth0']);
    await link.addAddress('eth0', '192.168.10.1', 24);
    const vrrp = new VrrpLeadership({
      node: 'd1', link, record: new OwnershipRecord(new MemoryOwnershipStore()), registry: metrics.registry, clock, log: silent,
      announcer: { announce: async () => undefined, close: () => undefined },
      speaker: (o) => new VrrpSpeaker({ ...o, channels: lan.factory('d1', ['192.168.10.1']) }),
    });
    closers.push(() => vrrp.stop());
    const snap = snapshot({
      directorGroups: [dg('g1', { vrrp: { advertIntervalMs: 100 } }, { vrids: [{ vip: '192.168.10.100', interface: 'eth0', vrid: 51 }] })],
      virtualServices: [web('shop', 'web', '192.168.10.100')],
      nodes: [node('d1', { 'lvs.dev/director': 'g1' }), node('d2', { 'lvs.dev/director': 'g1' })],
    });
    await vrrp.update(snap);
    for (let t = 0; t < 500; t += 10) {
      clock.advance(10);
      await new Promise((r) => setTimeout(r, 1));
    }
    const pass = {
      model: resolveModel(snap),
      desired: { ...emptyDesired(), services: [{ key: 'shop/web', healthy: 1, ipvs: { dests: [{}] } }] },
      result: { ipvsOps: 2, addressOps: 1, sysctlOps: 0, foreign: [], errors: [], durationMs: 3 },
    } as unknown as AgentPass;
    metrics.observe(pass);
    await eventually(async () => expect(checker.stats().probesTotal).toBeGreaterThan(1));

    const text = await scrape(new MetricsServer({ registry: metrics.registry, port: 0, host: '127.0.0.1' }));
    // What the lint sees: every family of the agent, with samples.
    expect(text).toMatch(/^lvs_agent_healthcheck_latency_seconds_bucket\{le="0.0025",type="tcp"\} [1-9]/m);
    expect(text).toMatch(/^lvs_agent_vrrp_adverts_sent_total\{vrrp_instance="g1\/eth0\/192.168.10.100"\} [1-9]/m);
    expect(text).toMatch(/^lvs_agent_vrrp_state\{vrrp_instance="g1\/eth0\/192.168.10.100",group="g1",vip="192.168.10.100"\} 2$/m);
    expect(text).toMatch(/^process_resident_memory_bytes \d/m);
    expect(text).toMatch(/^lvs_agent_reconcile_total\{result="ok"\} 1$/m);
    expect(text).toMatch(/^lvs_ipvs_destination_active_connections\{virtualservice="shop\/web",service="TCP 192.168.10.100:80",destination="10.1.0.1:80"\} 2$/m);
    expect(text).toMatch(/^lvs_ipvs_bytes_total\{virtualservice="shop\/web",service="TCP 192.168.10.100:80",direction="out"\} 6000$/m);
    expect(await lint(text)).toEqual([]);
    expect(reservedLabels(text)).toEqual([]);
    scraped.push(text);
  });

  it("passes the controller's /metrics, as the controller command sets it up", async () => {
    const c = await k.startController({ metrics: { port: 0, host: '127.0.0.1' } });
    processMetrics(c.metrics.registry); // as src/cli/controller.ts does
    const text = await eventually(async () => {
      const t = await (await fetch(`http://127.0.0.1:${c.metricsPort}/metrics`)).text();
      expect(t).toMatch(/^lvs_controller_reconcile_total\{result="success"\} [1-9]/m);
      return t;
    });
    expect(text).toMatch(/^nodejs_eventloop_lag_seconds \d/m);
    expect(await lint(text)).toEqual([]);
    expect(reservedLabels(text)).toEqual([]);
    scraped.push(text);
  });
});

describe("the chart's alerts and dashboard", () => {
  const files = join(root, 'charts', 'lvs-operator', 'files');
  /** Metric names an expression uses (histogram series by their family name). */
  const used = (expr: string): string[] => [...expr.matchAll(/\b(lvs_[a-z_]+)\b/g)].map((m) => m[1]!.replace(/_(bucket|sum|count)$/, ''));
  /** Families the agent and the controller export, from the scrapes above. */
  const exported = (): Set<string> => new Set(scraped.join('\n').split('\n').filter((l) => l.startsWith('# TYPE ')).map((l) => l.split(' ')[2]!));

  it('promtool accepts the alerts, and every alert uses only metrics the programs export', async () => {
    const r = await runTool(promtool, ['check', 'rules', join(files, 'alerts.yaml')]);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(r.stdout).toMatch(/SUCCESS: 7 rules found/);
    const rules = (parse(readFileSync(join(files, 'alerts.yaml'), 'utf8')) as { groups: { rules: { alert: string; expr: string }[] }[] }).groups.flatMap((g) => g.rules);
    const names = exported();
    expect(names.size).toBeGreaterThan(20);
    for (const rule of rules) for (const m of used(rule.expr)) expect(names, `${rule.alert} uses ${m}`).toContain(m);
  });

  it('every dashboard panel queries metrics the programs export', () => {
    const dash = JSON.parse(readFileSync(join(files, 'dashboard.json'), 'utf8')) as { panels: { title: string; targets: { expr: string }[] }[] };
    const names = exported();
    expect(dash.panels.length).toBeGreaterThan(5);
    for (const p of dash.panels) for (const t of p.targets) {
      expect(used(t.expr).length, p.title).toBeGreaterThan(0);
      for (const m of used(t.expr)) expect(names, `${p.title} uses ${m}`).toContain(m);
    }
  });
});
