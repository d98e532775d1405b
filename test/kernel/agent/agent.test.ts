import type { ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Agent } from '../../../src/agent/agent.js';
import { emptyDesired } from '../../../src/agent/compile.js';
import { openKernel, type KernelHandles } from '../../../src/agent/kernel.js';
import { FileSource } from '../../../src/agent/source.js';
import type { HealthChange } from '../../../src/health/index.js';
import { startNodeAgent, toNodes, waitFor, type LabNode } from '../../lab/agents.js';
import { assertInLab, run } from '../../lab/inside.js';
import { rootNs } from '../../lab/netns.js';
import { startHttpServer, steadyLoad, tallyConnections, type HttpServer, type RunningServer } from '../../lab/servers.js';
import { drLab, natLab, type LvsLab } from '../packets/topologies.js';

// The agent loop end to end on the lab kernel: manifests in, IPVS/VIP/RS side out, health checks
// driving the table, and an agent restart under load that drops nothing.
const nodes: LabNode[] = [{ name: 'd1', labels: { 'lvs.dev/director': 'g1' } }, { name: 'rs-1' }, { name: 'rs-2' }];

function manifests(o: { iface: string; vip: string; method: 'NAT' | 'DR'; rs: { address: string; port?: number; weight: number; node?: string }[]; check: string }): string {
  return [
    `apiVersion: lvs.dev/v1alpha1\nkind: DirectorGroup\nmetadata: {name: g1}\nspec:\n  nodeSelector: {matchLabels: {lvs.dev/director: g1}}\n  interface: ${o.iface}`,
    `apiVersion: lvs.dev/v1alpha1\nkind: VirtualService\nmetadata: {name: web, namespace: t}\nspec:\n  vip: ${o.vip}\n  port: 80\n  protocol: TCP\n  scheduler: wrr\n  forwarding: {method: ${o.method}}\n  backends: {realServerSelector: {matchLabels: {app: web}}}\n  healthCheck: ${o.check}\n  directorGroup: g1`,
    ...o.rs.map((r, i) => `apiVersion: lvs.dev/v1alpha1\nkind: RealServer\nmetadata: {name: rs${i + 1}, namespace: t, labels: {app: web}}\nspec: {address: ${r.address}, weight: ${r.weight}${r.port ? `, port: ${r.port}` : ''}${r.node ? `, nodeName: ${r.node}` : ''}}`),
  ].join('\n---\n');
}

describe('agent on the lab kernel', () => {
  let dir: string;
  let lab: LvsLab | undefined;
  let kernel: KernelHandles | undefined;
  let agent: Agent | undefined;
  const children: ChildProcess[] = [];
  const servers: RunningServer[] = [];

  beforeAll(() => {
    assertInLab();
    dir = mkdtempSync('/tmp/lvs-agent-test-');
  });
  afterEach(async () => {
    await agent?.stop();
    // Removal is level-based: nothing desired -> the agent takes back exactly what it made.
    await kernel?.reconciler.reconcile(emptyDesired());
    kernel?.close();
    for (const c of children.splice(0)) c.kill('SIGTERM');
    for (const s of servers.splice(0)) await s.stop();
    await lab?.destroy();
    agent = undefined;
    kernel = undefined;
    lab = undefined;
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function startDirector(manifest: string, state = join(dir, `d1-${Date.now()}`)): Promise<Agent> {
    const file = join(dir, `m-${Date.now()}.yaml`);
    writeFileSync(file, manifest);
    mkdirSync(state, { recursive: true });
    const source = new FileSource([file], toNodes(nodes));
    await source.reload();
    kernel = await openKernel(state);
    agent = new Agent({ node: 'd1', source, reconciler: kernel.reconciler, resyncMs: 2000, debounceMs: 5 });
    await agent.start();
    return agent;
  }
  const destCount = (): number => agent?.lastPass?.desired.services[0]?.ipvs.dests.length ?? -1;

  it('classic DR as resources: table matches, RS side configured by the RS agents, spread 1:2', async () => {
    lab = await drLab(); // servers answer on :80 in rs namespaces; drLab already set the RS side by hand...
    for (const r of lab.realServers) {
      await r.ns.ip('addr', 'del', `${lab.vip}/32`, 'dev', 'lo'); // ...so undo it: the agents must do it
      await r.ns.sysctl('net.ipv4.conf.all.arp_ignore', 0);
      await r.ns.sysctl('net.ipv4.conf.all.arp_announce', 0);
    }
    const m = manifests({ iface: 'dr-br', vip: lab.vip, method: 'DR', check: '{type: TCP, intervalSeconds: 2, timeoutSeconds: 1}',
      rs: lab.realServers.map((r, i) => ({ address: r.address, weight: i + 1, node: `rs-${i + 1}` })) });
    const file = join(dir, 'classic.yaml');
    writeFileSync(file, m);
    for (const [i, r] of lab.realServers.entries()) children.push(await startNodeAgent(r.ns, `rs-${i + 1}`, file, join(dir, `rs-${i + 1}`), nodes));
    for (const r of lab.realServers) {
      expect((await r.ns.ip('-o', 'addr', 'show', 'dev', 'lo')).stdout).toContain(`${lab.vip}/32`);
      expect((await r.ns.exec('sysctl', ['-n', 'net.ipv4.conf.all.arp_ignore', 'net.ipv4.conf.all.arp_announce'])).stdout.split('\n').slice(0, 2)).toEqual(['1', '2']);
    }
    await startDirector(m);
    expect(await waitFor(() => destCount() === 2, 20_000)).toBe(true);
    const save = (await run('ipvsadm', ['-S', '-n'])).stdout;
    expect(save).toContain(`-A -t ${lab.vip}:80 -s wrr`);
    expect(save).toContain(`-a -t ${lab.vip}:80 -r ${lab.realServers[0]!.address}:80 -g -w 1`);
    expect(save).toContain(`-a -t ${lab.vip}:80 -r ${lab.realServers[1]!.address}:80 -g -w 2`);
    expect((await rootNs.ip('-o', 'addr', 'show', 'dev', 'dr-br')).stdout).toContain(`${lab.vip}/32`);
    expect(await tallyConnections(lab.client, lab.vip, 80, 30)).toEqual({ rs1: 10, rs2: 20 });

    // Drift: somebody flushes the table and deletes the VIP; the next resync (2 s here) heals both.
    await run('ipvsadm', ['-C']);
    await rootNs.ip('addr', 'del', `${lab.vip}/32`, 'dev', 'dr-br');
    const { vip, realServers } = lab;
    const healed = async (): Promise<boolean> =>
      (await run('ipvsadm', ['-S', '-n'])).stdout.includes(`-r ${realServers[1]!.address}:80 -g -w 2`) &&
      (await rootNs.ip('-o', 'addr', 'show', 'dev', 'dr-br')).stdout.includes(`${vip}/32`);
    expect(await waitFor(healed, 10_000)).toBe(true);
    expect(await tallyConnections(lab.client, lab.vip, 80, 30)).toEqual({ rs1: 10, rs2: 20 });
  });

  it('NAT with a real server killed: it leaves after fall failed checks and returns after rise', async () => {
    lab = await natLab();
    const changes: HealthChange[] = [];
    await startDirector(manifests({ iface: 'nat-d0', vip: lab.vip, method: 'NAT', check: '{type: TCP, intervalSeconds: 2, timeoutSeconds: 1, rise: 2, fall: 2}',
      rs: lab.realServers.map((r) => ({ address: r.address, port: 8080, weight: 1 })) }));
    agent!.checker.on('change', (c: HealthChange) => changes.push(c));
    expect(await waitFor(() => destCount() === 2, 20_000)).toBe(true);
    await lab.servers[1]!.stop();
    expect(await waitFor(() => destCount() === 1, 20_000)).toBe(true);
    expect(changes.find((c) => !c.healthy)).toMatchObject({ healthy: false, consecutive: 2, target: { address: lab.realServers[1]!.address } });
    expect(await tallyConnections(lab.client, lab.vip, 80, 4)).toEqual({ rs1: 4 });
    const { startNameServer } = await import('../../lab/servers.js');
    servers.push(await startNameServer(lab.realServers[1]!.ns, '0.0.0.0', 8080, 'rs2'));
    expect(await waitFor(() => destCount() === 2, 20_000)).toBe(true);
    expect(changes.filter((c) => c.healthy).at(-1)).toMatchObject({ healthy: true, consecutive: 2 });
  });

  it('HTTP check: a wrong status takes the server out, the right one brings it back', async () => {
    lab = await natLab();
    const web: HttpServer[] = [];
    for (const r of lab.realServers) web.push(await startHttpServer(r.ns, 'http', '0.0.0.0', 8081, r.name));
    servers.push(...web);
    await startDirector(manifests({ iface: 'nat-d0', vip: lab.vip, method: 'NAT', check: '{type: HTTP, port: 8081, intervalSeconds: 2, timeoutSeconds: 1, fall: 1, http: {path: /health, expectedStatus: [200]}}',
      rs: lab.realServers.map((r) => ({ address: r.address, port: 8080, weight: 1 })) }));
    expect(await waitFor(() => destCount() === 2, 20_000)).toBe(true);
    web[0]!.setStatus(503);
    expect(await waitFor(() => destCount() === 1, 20_000)).toBe(true);
    expect(agent!.lastPass!.desired.services[0]!.ipvs.dests[0]!.addr).toBe(lab.realServers[1]!.address);
    web[0]!.setStatus(200);
    expect(await waitFor(() => destCount() === 2, 20_000)).toBe(true);
  });

  it('HTTPS check against a self-signed server (no verification, like SSL_GET)', async () => {
    lab = await natLab();
    const certDir = join(dir, 'tls');
    mkdirSync(certDir, { recursive: true });
    await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(certDir, 'key.pem'), '-out', join(certDir, 'cert.pem'), '-days', '1', '-subj', '/CN=rs']);
    for (const r of lab.realServers) servers.push(await startHttpServer(r.ns, 'https', '0.0.0.0', 8443, r.name, certDir));
    await startDirector(manifests({ iface: 'nat-d0', vip: lab.vip, method: 'NAT', check: '{type: HTTPS, port: 8443, intervalSeconds: 2, timeoutSeconds: 1, fall: 1}',
      rs: lab.realServers.map((r) => ({ address: r.address, port: 8080, weight: 1 })) }));
    expect(await waitFor(() => destCount() === 2, 20_000)).toBe(true);
    await servers[0]!.stop();
    expect(await waitFor(() => destCount() === 1, 20_000)).toBe(true);
  });

  it('an agent restart in the middle of steady client load fails no request', async () => {
    lab = await natLab();
    const m = manifests({ iface: 'nat-d0', vip: lab.vip, method: 'NAT', check: '{type: TCP, intervalSeconds: 2, timeoutSeconds: 1}',
      rs: lab.realServers.map((r) => ({ address: r.address, port: 8080, weight: 1 })) });
    const state = join(dir, 'restart-state');
    await startDirector(m, state);
    expect(await waitFor(() => destCount() === 2, 20_000)).toBe(true);
    const load = steadyLoad(lab.client, lab.vip, 80, 6000);
    await new Promise((r) => setTimeout(r, 1500));
    // The old agent goes away without cleanup (as a pod replaced by an upgrade would) ...
    await agent!.stop();
    kernel!.close();
    // ... and the new one adopts the kernel state it finds, with its real servers healthy from the start.
    await startDirector(m, state);
    expect(agent!.lastPass!.result.ipvsOps).toBe(0);
    const tally = await load;
    expect(Object.keys(tally).filter((k) => k.startsWith('error:'))).toEqual([]);
    expect((tally.rs1 ?? 0) + (tally.rs2 ?? 0)).toBeGreaterThan(10);
  });
});
