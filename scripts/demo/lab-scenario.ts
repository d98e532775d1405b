// The demo scenario, run inside the lab kernel: the classic LVS-DR setup of the seed articles
// driven by lvs-operator agents from manifests. The lab kernel's root namespace is the director
// (its LAN bridge is called eth0, as in the manifests); a client and two real servers live in
// namespaces on that LAN, each real server with its own agent doing the real-server side.
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Agent } from '../../src/agent/agent.js';
import { emptyDesired } from '../../src/agent/compile.js';
import { openKernel } from '../../src/agent/kernel.js';
import { FileSource } from '../../src/agent/source.js';
import { formatIpvsTable } from '../../src/ipvs/format.js';
import { startNodeAgent, toNodes, waitFor, type LabNode } from '../../test/lab/agents.js';
import { Topology, rootNs, type Netns } from '../../test/lab/netns.js';
import { startNameServer, tallyConnections, type RunningServer } from '../../test/lab/servers.js';
import { projectRoot } from '../../test/lab/paths.js';
import { Report, spread } from './report.js';

const manifest = join(projectRoot, 'scripts/demo/manifests.yaml');
const stateRoot = join(projectRoot, '.lab/demo-state');
const vip = '192.168.10.100';
const report = new Report();
const step = (t: string): void => report.step(t);
const check = (what: string, ok: boolean, detail = ''): boolean => report.check(what, ok, detail);
const labNodes: LabNode[] = [{ name: 'director-1', labels: { 'lvs.dev/director': 'edge' } }, { name: 'rs-1' }, { name: 'rs-2' }];

const topo = new Topology('demo');
const servers: RunningServer[] = [];
const children: ChildProcess[] = [];
let exitCode = 1;
try {
  rmSync(stateRoot, { recursive: true, force: true });
  mkdirSync(stateRoot, { recursive: true });

  step('Building the lab LAN: director (eth0), client, real servers rs-1 and rs-2');
  await topo.bridge(rootNs, 'eth0');
  await rootNs.addr('eth0', '192.168.10.2/24');
  const client = await topo.ns('client');
  await topo.veth(rootNs, 'demo-hc', client, 'demo-c0', 'eth0');
  await topo.attach(rootNs, 'demo-hc', 'eth0');
  await client.addr('eth0', '192.168.10.50/24');
  const rs: Netns[] = [];
  for (const i of [1, 2]) {
    const ns = await topo.ns(`rs${i}`);
    await topo.veth(rootNs, `demo-h${i}`, ns, `demo-r${i}`, 'eth0');
    await topo.attach(rootNs, `demo-h${i}`, 'eth0');
    await ns.addr('eth0', `192.168.10.10${i}/24`);
    servers.push(await startNameServer(ns, '0.0.0.0', 80, `rs-${i}`));
    rs.push(ns);
  }
  console.log('    client 192.168.10.50, director 192.168.10.2, rs-1 192.168.10.101, rs-2 192.168.10.102, VIP 192.168.10.100');

  step('Real-server agents apply the RS side of DR from the RealServer objects (nodeName rs-1, rs-2)');
  for (const [i, ns] of rs.entries()) children.push(await startNodeAgent(ns, `rs-${i + 1}`, manifest, join(stateRoot, `rs-${i + 1}`), labNodes));
  for (const [i, ns] of rs.entries()) {
    const lo = (await ns.ip('-o', 'addr', 'show', 'dev', 'lo')).stdout;
    const ignore = (await ns.exec('sysctl', ['-n', 'net.ipv4.conf.all.arp_ignore'])).stdout.trim();
    const announce = (await ns.exec('sysctl', ['-n', 'net.ipv4.conf.all.arp_announce'])).stdout.trim();
    check(`rs-${i + 1}: VIP on lo, arp_ignore=1, arp_announce=2`, lo.includes(`${vip}/32`) && ignore === '1' && announce === '2');
  }

  step('Director agent (node director-1, label lvs.dev/director=edge) programs IPVS and the VIP');
  const kernel = await openKernel(join(stateRoot, 'director-1'));
  const source = new FileSource([manifest], toNodes(labNodes));
  await source.reload();
  const agent = new Agent({ node: 'director-1', source, reconciler: kernel.reconciler, resyncMs: 5000, debounceMs: 10 });
  await agent.start();
  const healthyCount = (): number => agent.lastPass?.desired.services[0]?.healthy ?? 0;
  check('both real servers pass their TCP check', await waitFor(() => healthyCount() === 2, 15_000), `${healthyCount()}/2 healthy`);
  console.log(`\n${formatIpvsTable(await kernel.ipvs.listServicesWithDests())}`);
  const vipOnEth0 = (await rootNs.ip('-o', 'addr', 'show', 'dev', 'eth0')).stdout.includes(`${vip}/32`);
  check('VIP held by the director on eth0', vipOnEth0);

  step('Client sends 30 connections to the VIP: wrr with weights 1 and 2');
  const t1 = await tallyConnections(client, vip, 80, 30);
  check('spread 1:2 across real servers', t1['rs-1'] === 10 && t1['rs-2'] === 20, spread(t1));

  step('rs-2 fails (its server is killed): the TCP check takes it out after fall=2 checks');
  await servers[1]!.stop();
  check('rs-2 leaves the table', await waitFor(() => healthyCount() === 1 && agent.lastPass!.desired.services[0]!.ipvs.dests.length === 1, 15_000));
  const t2 = await tallyConnections(client, vip, 80, 10);
  check('every connection answered by rs-1', t2['rs-1'] === 10, spread(t2));

  step('rs-2 comes back: it returns after rise=1 check');
  servers[1] = await startNameServer(rs[1]!, '0.0.0.0', 80, 'rs-2');
  check('rs-2 back in the table', await waitFor(() => healthyCount() === 2, 15_000));
  const t3 = await tallyConnections(client, vip, 80, 30);
  check('spread 1:2 again', t3['rs-1'] === 10 && t3['rs-2'] === 20, spread(t3));

  step('Cleanup: the VirtualService goes away; the agents remove exactly what they created');
  await agent.stop();
  await kernel.reconciler.reconcile(emptyDesired());
  const left = await kernel.ipvs.listServicesWithDests();
  check('IPVS table empty, VIP released', left.length === 0 && !(await rootNs.ip('-o', 'addr', 'show', 'dev', 'eth0')).stdout.includes(`${vip}/32`));
  kernel.close();
  exitCode = report.passed ? 0 : 1;
} catch (e) {
  report.fail((e as Error).message);
} finally {
  for (const c of children) c.kill('SIGTERM');
  for (const s of servers) await s.stop();
  await topo.destroy();
}
console.log(`\n${report.verdict('demo:standalone')}`);
process.exit(exitCode);
