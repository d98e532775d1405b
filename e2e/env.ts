// The e2e environment: the lab cluster with the controller, director nodes (UML kernels running
// agents), real servers with their own agents (host namespaces: real-server side only, no
// ip_vs there) and a client. Everything the suite asserts goes through the API server, the
// kernels' own tools (ipvsadm, ip) and real TCP.
import type { ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { LabCluster, labSubnet, type LabNodeHandle } from '../test/lab/cluster.js';
import type { Netns } from '../test/lab/netns.js';
import { startNameServer, type RunningServer } from '../test/lab/servers.js';
import { startLvsOperator } from '../test/lab/programs.js';

export const vip = `${labSubnet}.100`;

export interface RealServerHost {
  name: string;
  address: string;
  ns: Netns;
  server: RunningServer | undefined;
  agent: ChildProcess;
}

export interface E2eEnv {
  lab: LabCluster;
  directors: LabNodeHandle[];
  realServers: RealServerHost[];
  client: Netns;
  controller: ChildProcess;
  apply(objects: object[]): Promise<void>;
  getJson<T>(args: string[]): Promise<T>;
  /** Brings a real server's TCP server down or back. */
  setServer(rs: RealServerHost, up: boolean): Promise<void>;
  destroy(): Promise<void>;
}

export async function createEnv(name: string, directorCount: number, progress: (l: string) => void): Promise<E2eEnv> {
  const lab = await LabCluster.create({ name, progress });
  const programs: ChildProcess[] = [];
  try {
    return await populate(lab, directorCount, progress, programs);
  } catch (err) {
    for (const p of programs) p.kill('SIGTERM');
    await lab.destroy();
    throw err;
  }
}

async function populate(lab: LabCluster, directorCount: number, progress: (l: string) => void, programs: ChildProcess[]): Promise<E2eEnv> {
  const logs = join(lab.dir, 'logs');
  mkdirSync(logs, { recursive: true });
  const kubectl = async (args: string[], input?: string): Promise<string> => {
    const r = await lab.api.kubectl(args, input === undefined ? {} : { input });
    if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr.trim()}`);
    return r.stdout;
  };
  const apply = async (objects: object[]): Promise<void> => { await kubectl(['apply', '-f', '-'], objects.map((o) => JSON.stringify(o)).join('\n')); };
  const getJson = async <T>(args: string[]): Promise<T> => JSON.parse(await kubectl([...args, '-o', 'json'])) as T;

  await apply([{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'lvs-system' } }]);
  progress('lab: controller starting (leader election on)');
  const controller = await startLvsOperator(['controller', '--kubeconfig', lab.api.kubeconfigPath, '--metrics-port', '0', '--leader-election-namespace', 'lvs-system'], undefined, join(logs, 'controller.log'));
  programs.push(controller);

  const nodes: object[] = [];
  const directors: LabNodeHandle[] = [];
  for (let i = 1; i <= directorCount; i++) nodes.push({ apiVersion: 'v1', kind: 'Node', metadata: { name: `d${i}`, labels: { 'lvs.dev/director': 'edge' } } });
  for (let i = 1; i <= 3; i++) nodes.push({ apiVersion: 'v1', kind: 'Node', metadata: { name: `rs-${i}` } });
  await apply(nodes);
  for (let i = 1; i <= directorCount; i++) directors.push(await lab.node(`d${i}`, `${labSubnet}.${10 + i}`));

  const realServers: RealServerHost[] = [];
  for (let i = 1; i <= 3; i++) {
    const address = `${labSubnet}.${20 + i}`;
    const ns = await lab.host(`rs${i}`, address);
    const server = await startNameServer(ns, '0.0.0.0', 80, `rs-${i}`);
    progress(`lab: real server rs-${i} (${address}) with its agent`);
    const agent = await startLvsOperator(['agent', '--node', `rs-${i}`, '--kubeconfig', lab.labKubeconfig, '--state-dir', join(lab.dir, `state-rs-${i}`), '--metrics-port', '0', '--resync', '5s'], ns, join(logs, `agent-rs-${i}.log`));
    programs.push(agent);
    realServers.push({ name: `rs-${i}`, address, ns, server, agent });
  }
  const client = await lab.host('client', `${labSubnet}.50`);

  return {
    lab, directors, realServers, client, controller, apply, getJson,
    async setServer(rs, up) {
      if (up && !rs.server) rs.server = await startNameServer(rs.ns, '0.0.0.0', 80, rs.name);
      if (!up && rs.server) {
        await rs.server.stop();
        rs.server = undefined;
      }
    },
    async destroy() {
      for (const rs of realServers) {
        rs.agent.kill('SIGTERM');
        await rs.server?.stop();
      }
      controller.kill('SIGTERM');
      await lab.destroy();
    },
  };
}
