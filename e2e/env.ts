// The e2e environment: the lab cluster with the controller, director nodes (UML kernels running
// agents), real servers with their own agents (host namespaces: real-server side only, no
// ip_vs there) and a client. Everything the suite asserts goes through the API server, the
// kernels' own tools (ipvsadm, ip) and real TCP.
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LabCluster, labSubnet, type LabNodeHandle } from '../test/lab/cluster.js';
import type { Netns } from '../test/lab/netns.js';
import { startNameServer, type RunningServer } from '../test/lab/servers.js';
import { startLvsOperator } from '../test/lab/programs.js';
import { startDelayProxy, type DelayProxy } from '../test/lab/delay-proxy.js';

export const vip = `${labSubnet}.100`;

/** Whether a director's kernel has `address` on its LAN interface. */
export const holdsVip = async (n: LabNodeHandle, address = vip): Promise<boolean> => (await n.exec('ip -o addr show dev eth0')).includes(`${address}/32`);

/** The directors that hold `address` now (a dead kernel holds nothing). */
export async function vipHolders(directors: LabNodeHandle[], address = vip): Promise<string[]> {
  const out: string[] = [];
  for (const n of directors) if (await holdsVip(n, address).catch(() => false)) out.push(n.name);
  return out;
}

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
  /** With `apiDelayProxy`: the proxy every program reaches the API server through. */
  apiProxy: DelayProxy | undefined;
  apply(objects: object[]): Promise<void>;
  getJson<T>(args: string[]): Promise<T>;
  /** Brings a real server's TCP server down or back. */
  setServer(rs: RealServerHost, up: boolean): Promise<void>;
  destroy(): Promise<void>;
}

export interface EnvOptions {
  /** The controller and every agent reach the API server through a delay proxy (fault drills). */
  apiDelayProxy?: boolean;
  /** More arguments for the directors' agents (the last of a repeated flag wins). */
  directorArgs?: string[];
}

export async function createEnv(name: string, directorCount: number, progress: (l: string) => void, opts: EnvOptions = {}): Promise<E2eEnv> {
  const lab = await LabCluster.create({ name, progress });
  const programs: ChildProcess[] = [];
  let proxy: DelayProxy | undefined;
  try {
    if (opts.apiDelayProxy) proxy = await startDelayProxy(lab.api.server, lab.hostAddress);
    return await populate(lab, directorCount, progress, programs, proxy, opts.directorArgs ?? []);
  } catch (err) {
    for (const p of programs) p.kill('SIGTERM');
    await proxy?.close();
    await lab.destroy();
    throw err;
  }
}

/** The lab kubeconfig (reachable from host and kernels) with the proxy as its server. */
function kubeconfigVia(lab: LabCluster, proxy: DelayProxy): string {
  const path = join(lab.dir, 'kubeconfig-via-proxy');
  writeFileSync(path, readFileSync(lab.labKubeconfig, 'utf8').replaceAll(new URL(lab.labServer).host, new URL(proxy.url).host), { mode: 0o600 });
  return path;
}

async function populate(lab: LabCluster, directorCount: number, progress: (l: string) => void, programs: ChildProcess[], proxy: DelayProxy | undefined, directorArgs: string[]): Promise<E2eEnv> {
  const kubeconfig = proxy ? kubeconfigVia(lab, proxy) : lab.labKubeconfig;
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
  const controller = await startLvsOperator(['controller', '--kubeconfig', proxy ? kubeconfig : lab.api.kubeconfigPath, '--metrics-port', '0', '--leader-election-namespace', 'lvs-system'], undefined, join(logs, 'controller.log'));
  programs.push(controller);

  const nodes: object[] = [];
  const directors: LabNodeHandle[] = [];
  for (let i = 1; i <= directorCount; i++) nodes.push({ apiVersion: 'v1', kind: 'Node', metadata: { name: `d${i}`, labels: { 'lvs.dev/director': 'edge' } } });
  for (let i = 1; i <= 3; i++) nodes.push({ apiVersion: 'v1', kind: 'Node', metadata: { name: `rs-${i}` } });
  await apply(nodes);
  const agentArgs = [...(proxy ? ['--kubeconfig', kubeconfig] : []), ...directorArgs];
  for (let i = 1; i <= directorCount; i++) directors.push(await lab.node(`d${i}`, `${labSubnet}.${10 + i}`, { agentArgs }));

  const realServers: RealServerHost[] = [];
  for (let i = 1; i <= 3; i++) {
    const address = `${labSubnet}.${20 + i}`;
    const ns = await lab.host(`rs${i}`, address);
    const server = await startNameServer(ns, '0.0.0.0', 80, `rs-${i}`);
    progress(`lab: real server rs-${i} (${address}) with its agent`);
    const agent = await startLvsOperator(['agent', '--node', `rs-${i}`, '--kubeconfig', kubeconfig, '--state-dir', join(lab.dir, `state-rs-${i}`), '--metrics-port', '0', '--resync', '5s'], ns, join(logs, `agent-rs-${i}.log`));
    programs.push(agent);
    realServers.push({ name: `rs-${i}`, address, ns, server, agent });
  }
  const client = await lab.host('client', `${labSubnet}.50`);

  return {
    lab, directors, realServers, client, controller, apiProxy: proxy, apply, getJson,
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
      await proxy?.close();
      await lab.destroy();
    },
  };
}
