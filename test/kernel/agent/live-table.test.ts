// The live table (/ipvs) and the lvs_ipvs_* metrics of a real agent daemon on the lab kernel,
// checked against what ipvsadm reads from the same kernel: the counters are the kernel's own.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAgentDaemon, type AgentDaemon } from '../../../src/agent/daemon.js';
import type { LiveTable } from '../../../src/agent/live-table.js';
import { toNodes, waitFor } from '../../lab/agents.js';
import { assertInLab, run } from '../../lab/inside.js';
import { tallyConnections } from '../../lab/servers.js';
import { natLab, type LvsLab } from '../packets/topologies.js';

describe('the live table of a real agent', () => {
  let dir: string;
  let lab: LvsLab;
  let daemon: AgentDaemon | undefined;

  beforeAll(async () => {
    assertInLab();
    dir = mkdtempSync('/tmp/lvs-live-');
    lab = await natLab();
  });
  afterAll(async () => {
    await daemon?.stop({ cleanup: true });
    await run('ipvsadm', ['-D', '-t', '10.201.1.100:81']).catch(() => undefined);
    await lab?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves the kernel table with its counters at /ipvs and as metrics, our service named, a foreign one not', async () => {
    const file = join(dir, 'm.yaml');
    writeFileSync(file, [
      'apiVersion: lvs.dev/v1alpha1\nkind: DirectorGroup\nmetadata: {name: g1}\nspec:\n  nodeSelector: {matchLabels: {lvs.dev/director: g1}}\n  interface: nat-d0',
      `apiVersion: lvs.dev/v1alpha1\nkind: VirtualService\nmetadata: {name: web, namespace: t}\nspec:\n  vip: ${lab.vip}\n  port: 80\n  protocol: TCP\n  scheduler: rr\n  forwarding: {method: NAT}\n  backends: {realServerSelector: {matchLabels: {app: web}}}\n  healthCheck: {type: TCP, intervalSeconds: 2, timeoutSeconds: 1}\n  directorGroup: g1`,
      ...lab.realServers.map((r, i) => `apiVersion: lvs.dev/v1alpha1\nkind: RealServer\nmetadata: {name: rs${i + 1}, namespace: t, labels: {app: web}}\nspec: {address: ${r.address}, port: 8080}`),
    ].join('\n---\n'));
    // Someone else's service beside ours: shown, but not named and not in the metrics.
    await run('ipvsadm', ['-A', '-t', `${lab.vip}:81`, '-s', 'rr']);
    daemon = await startAgentDaemon({
      node: 'd1', stateDir: dir, manifests: { files: [file], nodes: toNodes([{ name: 'd1', labels: { 'lvs.dev/director': 'g1' } }]) },
      metrics: { port: 0, host: '127.0.0.1' }, log: pino({ level: 'warn' }),
    });
    const base = `http://127.0.0.1:${daemon.metricsPort}`;
    const table = async (): Promise<LiveTable> => (await fetch(`${base}/ipvs`)).json() as Promise<LiveTable>;
    expect(await waitFor(async () => (await table()).services.find((s) => s.virtualService === 't/web')?.destinations.length === 2, 20_000)).toBe(true);
    // Counts as differences: the kernel tier shares one kernel between files, and IPVS gives a
    // destination re-added soon after its removal its old counters back (from its trash list);
    // the kernel hands counters out as its estimator last summed them (every 2 s), so the
    // baseline is read after a tick.
    await new Promise((r) => setTimeout(r, 2500));
    const before = (await table()).services.find((s) => s.virtualService === 't/web')!;
    expect(await tallyConnections(lab.client, lab.vip, 80, 10)).toEqual({ rs1: 5, rs2: 5 });
    // The kernel hands out its counters as its estimator last summed them (every 2 s): wait for it.
    const summed = async (): Promise<boolean> => {
      const now = (await table()).services.find((s) => s.virtualService === 't/web')!;
      return now.stats.conns - before.stats.conns >= 10 && now.destinations.every((d, i) => d.stats.conns - before.destinations[i]!.stats.conns >= 5);
    };
    expect(await waitFor(summed, 15_000)).toBe(true);
    const t = await table();
    const web = t.services.find((s) => s.virtualService === 't/web')!;
    expect(t.node).toBe('d1');
    expect(web.service).toBe(`TCP ${lab.vip}:80`);
    expect(web.stats.conns - before.stats.conns).toBe(10);
    expect(web.destinations.map((d, i) => [d.address, d.forward, d.stats.conns - before.destinations[i]!.stats.conns])).toEqual([
      [`${lab.realServers[0]!.address}:8080`, 'Masq', 5], [`${lab.realServers[1]!.address}:8080`, 'Masq', 5],
    ]);
    expect(t.services.find((s) => s.service === `TCP ${lab.vip}:81`)).toMatchObject({ destinations: [] });
    expect(t.services.find((s) => s.service === `TCP ${lab.vip}:81`)!.virtualService).toBeUndefined();
    // ipvsadm reads the same kernel: the same connection and packet counts.
    const stats = (await run('ipvsadm', ['-Ln', '--stats', '--exact', '-t', `${lab.vip}:80`])).stdout;
    const row = stats.split('\n').find((l) => l.startsWith('TCP'))!.trim().split(/\s+/);
    expect([Number(row[2]), Number(row[3]), Number(row[4])]).toEqual([web.stats.conns, web.stats.inPkts, web.stats.outPkts]);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    // The scrape reads the kernel again (no traffic since): the same counts as /ipvs.
    for (const d of web.destinations) {
      expect(metrics).toContain(`lvs_ipvs_destination_connections_total{virtualservice="t/web",service="TCP ${lab.vip}:80",destination="${d.address}"} ${d.stats.conns}\n`);
    }
    expect(metrics).toContain(`lvs_ipvs_connections_total{virtualservice="t/web",service="TCP ${lab.vip}:80"} ${web.stats.conns}\n`);
    expect(metrics).not.toContain(`${lab.vip}:81`);
  });
});
