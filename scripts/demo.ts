// `npm run demo`: lvs-operator end to end on one machine. A real kube-apiserver (built from Go
// modules, cached), the controller, two director nodes that are real Linux kernels with IPVS
// (User-Mode Linux) running the agent, three real servers with their own agents and a client on
// the LAN 192.168.10.0/24 of the seed articles' classic LVS-DR setup. It applies examples/,
// shows what `kubectl get lvsvs` and `ipvsadm -Ln` show, sends traffic, kills the VRRP master
// director and shows the failover, then removes everything. The last line is the verdict.
import type { ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { waitFor } from '../test/lab/agents.js';
import { LabCluster, type LabNodeHandle } from '../test/lab/cluster.js';
import { labKernel } from '../test/lab/kernel.js';
import type { Netns } from '../test/lab/netns.js';
import { startLvsOperator } from '../test/lab/programs.js';
import { startNameServer, tallyConnections, type RunningServer } from '../test/lab/servers.js';
import { projectRoot } from '../test/lab/paths.js';
import { Report, spread } from './demo/report.js';

const subnet = '192.168.10';
const vip = `${subnet}.100`;
const report = new Report();
const children: ChildProcess[] = [];
const servers: RunningServer[] = [];
let lab: LabCluster | undefined;

interface Vs { status?: { master?: string; conditions?: { type: string; status: string }[]; backends?: { healthy: number; total: number } } }

async function kubectl(args: string[], input?: string): Promise<string> {
  const r = await lab!.api.kubectl(args, input === undefined ? {} : { input });
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr.trim()}`);
  return r.stdout;
}
const webVs = async (): Promise<Vs> => JSON.parse(await kubectl(['get', 'virtualservice', 'web', '-n', 'lvs-demo', '-o', 'json'])) as Vs;
const indent = (text: string): string => text.trimEnd().split('\n').map((l) => `      ${l}`).join('\n');

try {
  report.step('Lab: a real API server and a LAN 192.168.10.0/24 in a network namespace');
  const kernel = labKernel();
  report.info(`lab kernel: Linux ${kernel.release} (User-Mode Linux built by scripts/lab-kernel/build.sh, ${kernel.dir})`);
  lab = await LabCluster.create({ name: 'demo', subnet, progress: (l) => report.info(l.replace(/^lab: /, '')) });
  const logs = join(lab.dir, 'logs');
  mkdirSync(logs, { recursive: true });
  await kubectl(['apply', '-f', join(projectRoot, 'examples/00-namespaces.yaml')]);
  children.push(await startLvsOperator(['controller', '--kubeconfig', lab.api.kubeconfigPath, '--metrics-port', '0', '--leader-election-namespace', 'lvs-system'], undefined, join(logs, 'controller.log')));
  report.info('controller running (leader election through a Lease in lvs-system)');

  report.step('Nodes: directors d1 and d2 (Linux kernels with IPVS), real servers rs-1..3, a client');
  const nodeObjs = [
    ...['d1', 'd2'].map((n) => ({ apiVersion: 'v1', kind: 'Node', metadata: { name: n, labels: { 'lvs.dev/director': 'edge' } } })),
    ...['rs-1', 'rs-2', 'rs-3'].map((n) => ({ apiVersion: 'v1', kind: 'Node', metadata: { name: n } })),
  ];
  await kubectl(['apply', '-f', '-'], nodeObjs.map((o) => JSON.stringify(o)).join('\n'));
  const directors: LabNodeHandle[] = await Promise.all([lab.node('d1', `${subnet}.11`), lab.node('d2', `${subnet}.12`)]);
  const rsHosts: Netns[] = [];
  for (const i of [1, 2, 3]) {
    const ns = await lab.host(`rs${i}`, `${subnet}.${100 + i}`);
    servers.push(await startNameServer(ns, '0.0.0.0', 80, `rs-${i}`));
    children.push(await startLvsOperator(['agent', '--node', `rs-${i}`, '--kubeconfig', lab.labKubeconfig, '--state-dir', join(lab.dir, `state-rs-${i}`), '--metrics-port', '0', '--resync', '5s'], ns, join(logs, `agent-rs-${i}.log`)));
    rsHosts.push(ns);
  }
  const client = await lab.host('client', `${subnet}.50`);
  report.info(`d1 ${subnet}.11, d2 ${subnet}.12, rs-1..3 ${subnet}.101-103 (web servers on :80), client ${subnet}.50`);

  report.step('kubectl apply -f examples/  (the classic DR web service, NAT via a Service, UDP DNS, fwmark)');
  report.info(indent(await kubectl(['apply', '-f', join(projectRoot, 'examples')])));
  // The example's real servers are "other machines"; here they are nodes with agents, and a third joins.
  await kubectl(['patch', 'realserver', 'web-1', '-n', 'lvs-demo', '--type', 'merge', '-p', '{"spec":{"nodeName":"rs-1"}}']);
  await kubectl(['patch', 'realserver', 'web-2', '-n', 'lvs-demo', '--type', 'merge', '-p', '{"spec":{"nodeName":"rs-2"}}']);
  await kubectl(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'lvs.dev/v1alpha1', kind: 'RealServer', metadata: { name: 'web-3', namespace: 'lvs-demo', labels: { app: 'web' } }, spec: { address: `${subnet}.103`, weight: 1, nodeName: 'rs-3' } }));
  report.info('RealServers web-1, web-2 now name their nodes; web-3 (weight 1) joins');

  report.step('VRRP elects a master, agents program IPVS and the real-server side, status says so');
  const ready = await waitFor(async () => {
    const s = await webVs();
    return !!s.status?.master && s.status.backends?.healthy === 3 && s.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;
  }, 120_000);
  report.check('web is Ready with a VRRP master and 3 healthy real servers', ready);
  report.info(`kubectl get lvsvs -A:\n${indent(await kubectl(['get', 'lvsvs', '-A']))}`);
  const master = (await webVs()).status?.master ?? '';
  const masterNode = directors.find((d) => d.name === master);
  const backup = directors.find((d) => d.name !== master)!;
  if (!masterNode) throw new Error(`no master reported (got ${JSON.stringify(master)})`);
  report.info(`ipvsadm -Ln on ${master}:\n${indent(await masterNode.exec('ipvsadm -Ln'))}`);
  report.check(`VIP ${vip} on ${master}'s eth0 only`, (await masterNode.exec('ip -o addr show dev eth0')).includes(`${vip}/32`) && !(await backup.exec('ip -o addr show dev eth0')).includes(`${vip}/32`));
  const lo = (await rsHosts[0]!.ip('-o', 'addr', 'show', 'dev', 'lo')).stdout;
  report.check('rs-1 agent: VIP on lo, arp_ignore=1, arp_announce=2', lo.includes(`${vip}/32`) && (await rsHosts[0]!.exec('sysctl', ['-n', 'net.ipv4.conf.all.arp_ignore', 'net.ipv4.conf.all.arp_announce'])).stdout.split('\n').slice(0, 2).join() === '1,2');

  report.step('Client: 40 connections to the VIP (wrr, weights 1:2:1)');
  const t1 = await tallyConnections(client, vip, 80, 40);
  report.check('spread by weight', t1['rs-1'] === 10 && t1['rs-2'] === 20 && t1['rs-3'] === 10, spread(t1));

  report.step(`Failover: the master director ${master} dies (its kernel is killed)`);
  const killedAt = Date.now();
  masterNode.crash();
  let servedAgain = 0;
  const back = await waitFor(async () => {
    const t = await tallyConnections(client, vip, 80, 1).catch(() => ({} as Record<string, number>));
    if (Object.keys(t).some((k) => k.startsWith('rs-'))) servedAgain = Date.now();
    return servedAgain > 0;
  }, 60_000);
  report.check(`the VIP serves again from ${backup.name}`, back, `${((servedAgain - killedAt) / 1000).toFixed(1)} s after the kill, VRRP v2 1 s adverts`);
  const t2 = await tallyConnections(client, vip, 80, 40);
  report.check('spread by weight through the new master', t2['rs-1'] === 10 && t2['rs-2'] === 20 && t2['rs-3'] === 10, spread(t2));
  report.check('status names the new master', await waitFor(async () => (await webVs()).status?.master === backup.name, 60_000));

  report.step('Cleanup: kubectl delete -f examples/; the agents remove exactly what they created');
  await kubectl(['delete', '-f', join(projectRoot, 'examples'), '--ignore-not-found', '--wait=false']);
  await kubectl(['delete', 'realserver', 'web-3', '-n', 'lvs-demo', '--ignore-not-found']);
  const clean = await waitFor(async () => (await backup.exec('ipvsadm -Sn')).trim() === '' && !(await backup.exec('ip -o addr show dev eth0')).includes(vip), 60_000);
  report.check(`${backup.name}: IPVS table empty, VIP released`, clean);
  report.check('rs-1: VIP gone from lo', await waitFor(async () => !(await rsHosts[0]!.ip('-o', 'addr', 'show', 'dev', 'lo')).stdout.includes(vip), 30_000));
} catch (e) {
  report.fail((e as Error).message);
} finally {
  for (const c of children) c.kill('SIGTERM');
  for (const s of servers) await s.stop().catch(() => undefined);
  await lab?.destroy().catch(() => undefined);
}
console.log(`\n${report.verdict()}`);
process.exit(report.passed ? 0 : 1);
