// Migrating a live director (issue 12 item 4, kernel part): keepalived programs a NAT service and
// carries long-lived connections, then stops with --dont-release-ipvs so its IPVS rules stay; our
// agent leaves the service alone as foreign until the VirtualService says adopt, then edits it
// to match (a weight, nothing recreated) and every connection lives on.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { holdConnections, sleep, startEchoServer, type EchoServer } from '../../../bench/failover-traffic.js';
import { Agent } from '../../../src/agent/agent.js';
import { emptyDesired } from '../../../src/agent/compile.js';
import { openKernel, type KernelHandles } from '../../../src/agent/kernel.js';
import { FileSource } from '../../../src/agent/source.js';
import { toNodes, waitFor } from '../../lab/agents.js';
import { assertInLab, run } from '../../lab/inside.js';
import { rootNs } from '../../lab/netns.js';
import { labDir, projectRoot } from '../../lab/paths.js';
import { spawnTracked, tempDir, track } from '../../lab/reaper.js';
import { natLab, type LvsLab } from '../packets/topologies.js';

const port = 7000;

describe('adopting the IPVS service of a keepalived that stopped with --dont-release-ipvs', () => {
  let dir: string;
  let lab: LvsLab;
  const echo: EchoServer[] = [];
  let kernel: KernelHandles | undefined;
  let agent: Agent | undefined;

  beforeAll(async () => {
    assertInLab();
    dir = mkdtempSync('/tmp/lvs-adopt-');
    lab = await natLab();
    for (const r of lab.realServers) echo.push(await startEchoServer(r.ns, port, r.name));
  });
  afterAll(async () => {
    await agent?.stop();
    await kernel?.reconciler.reconcile(emptyDesired());
    kernel?.close();
    await run('ipvsadm', ['-D', '-t', `${lab.vip}:${port}`]).catch(() => undefined);
    for (const e of echo) await e.stop();
    await lab?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  const weights = async (): Promise<string[]> =>
    (await run('ipvsadm', ['-S', '-n'])).stdout.split('\n').filter((l) => l.startsWith(`-a -t ${lab.vip}:${port}`)).map((l) => l.replace(/\s+/g, ' ').trim()).sort();

  it('leaves it alone without adopt; with adopt edits only the weight, and no held connection is lost', async () => {
    const [rs1, rs2] = lab.realServers.map((r) => r.address);
    // keepalived's checker process programs the service (rr, NAT, weight 1 each).
    const kdir = labDir('keepalived', 'adopt');
    rmSync(kdir, { recursive: true, force: true });
    mkdirSync(kdir, { recursive: true });
    track(tempDir(kdir));
    const realServer = (a: string): string => `  real_server ${a} ${port} {\n    weight 1\n    TCP_CHECK {\n      connect_timeout 1\n    }\n  }\n`;
    writeFileSync(join(kdir, 'keepalived.conf'), `virtual_server ${lab.vip} ${port} {\n  delay_loop 2\n  lb_algo rr\n  lb_kind NAT\n  protocol TCP\n${realServer(rs1!)}${realServer(rs2!)}}\n`);
    const [cmd, ...args] = rootNs.command('keepalived', ['-n', '-l', '-D', '-C', '-I', '--no-syslog', '-f', join(kdir, 'keepalived.conf'),
      '-p', join(kdir, 'keepalived.pid'), '-c', join(kdir, 'checkers.pid'), '-r', join(kdir, 'vrrp.pid'), '-i', 'adopt']);
    const keepalived = spawnTracked(cmd!, args, { name: 'keepalived adopt', cwd: projectRoot, stdio: ['ignore', 'ignore', 'ignore'] });
    expect(await waitFor(async () => (await weights()).length === 2, 30_000)).toBe(true);
    const held = holdConnections(lab.client, lab.vip, port, 10, 200);
    await held.ready;
    // keepalived goes; with --dont-release-ipvs its table stays and keeps serving.
    await keepalived.stop();
    expect(await weights()).toEqual([`-a -t ${lab.vip}:${port} -r ${rs1}:${port} -m -w 1`, `-a -t ${lab.vip}:${port} -r ${rs2}:${port} -m -w 1`]);

    const manifest = (adopt: boolean): string => [
      'apiVersion: lvs.dev/v1alpha1\nkind: DirectorGroup\nmetadata: {name: g1}\nspec:\n  nodeSelector: {matchLabels: {lvs.dev/director: g1}}\n  interface: nat-d0',
      `apiVersion: lvs.dev/v1alpha1\nkind: VirtualService\nmetadata: {name: web, namespace: t}\nspec:\n  vip: ${lab.vip}\n  port: ${port}\n  protocol: TCP\n  scheduler: rr\n  forwarding: {method: NAT}\n  adopt: ${adopt}\n  backends: {realServerSelector: {matchLabels: {app: web}}}\n  healthCheck: {type: TCP, intervalSeconds: 2, timeoutSeconds: 1}\n  directorGroup: g1`,
      `apiVersion: lvs.dev/v1alpha1\nkind: RealServer\nmetadata: {name: rs1, namespace: t, labels: {app: web}}\nspec: {address: ${rs1}, weight: 1}`,
      `apiVersion: lvs.dev/v1alpha1\nkind: RealServer\nmetadata: {name: rs2, namespace: t, labels: {app: web}}\nspec: {address: ${rs2}, weight: 3}`,
    ].join('\n---\n');
    const file = join(dir, 'm.yaml');
    writeFileSync(file, manifest(false));
    const source = new FileSource([file], toNodes([{ name: 'd1', labels: { 'lvs.dev/director': 'g1' } }]));
    await source.reload();
    kernel = await openKernel(join(dir, 'state'));
    agent = new Agent({ node: 'd1', source, reconciler: kernel.reconciler, resyncMs: 2000, debounceMs: 5 });
    await agent.start();
    // Without adopt: foreign, reported, untouched.
    expect(await waitFor(() => (agent!.lastPass?.result.foreign ?? []).length === 1, 20_000)).toBe(true);
    await sleep(2500);
    expect(await weights()).toEqual([`-a -t ${lab.vip}:${port} -r ${rs1}:${port} -m -w 1`, `-a -t ${lab.vip}:${port} -r ${rs2}:${port} -m -w 1`]);

    writeFileSync(file, manifest(true));
    await source.reload();
    // The servers keepalived left serving start healthy: the weight is edited in place at once,
    // and no sample of the table in between misses a server.
    const want = [`-a -t ${lab.vip}:${port} -r ${rs1}:${port} -m -w 1`, `-a -t ${lab.vip}:${port} -r ${rs2}:${port} -m -w 3`].join();
    const samples: string[][] = [];
    expect(await waitFor(async () => {
      samples.push(await weights());
      return samples.at(-1)!.join() === want;
    }, 30_000)).toBe(true);
    expect(samples.filter((t) => t.length !== 2)).toEqual([]);
    expect(agent.lastPass?.result.foreign).toEqual([]);
    await sleep(1500);
    const report = await held.report();
    await held.stop();
    console.log(`adopt: ${JSON.stringify({ held: report.established, lost: report.lost, lostDetail: report.lostDetail, maxGapMs: report.maxGapMs })}`);
    expect(report.established).toBe(10);
    expect(report.lost).toBe(0);
    // New connections after the takeover.
    const fresh = holdConnections(lab.client, lab.vip, port, 4, 200);
    await fresh.ready;
    await fresh.stop();
    // Ours now: a VirtualService deleted takes it away, as for any service the agent made.
    writeFileSync(file, manifest(true).split('\n---\n').filter((d) => !d.includes('kind: VirtualService')).join('\n---\n'));
    await source.reload();
    expect(await waitFor(async () => (await weights()).length === 0, 20_000)).toBe(true);
  });
});
