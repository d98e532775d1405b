// The lab cluster as bench:converge needs it: API server, controller, one director kernel.
import { spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { LabCluster, type LabNodeHandle } from '../test/lab/cluster.js';
import { startLvsOperator } from '../test/lab/programs.js';
import { projectRoot } from '../test/lab/paths.js';
import { controllerNodeFlags, freePort } from './controller-process.js';

export interface BenchEnv {
  director: LabNodeHandle;
  kubeconfig: string;
  /** The kubeconfig as seen from inside the lab kernels. */
  labKubeconfig: string;
  controllerPid: number;
  /** The controller's Prometheus endpoint on 127.0.0.1. */
  controllerMetricsPort: number;
  dir: string;
  projectRoot: string;
  /** The Kubernetes binaries of the lab (kube-apiserver, kube-proxy, ...). */
  binDir: string;
  destroy(): Promise<void>;
}

export interface BenchEnvOptions {
  /** Lab name and LAN (default 'bench', '10.249.0'): another pair lets two benchmarks run side by side. */
  name?: string;
  subnet?: string;
  /** The API server's Service CIDR (default 10.96.0.0/24: too small for 1,000 Services). */
  serviceClusterIpRange?: string;
  /** The director kernel's memory (default 2048 MB; 100,000 destinations and their objects need more). */
  directorMemMb?: number;
}

export async function createEnvForBench(log: (s: string) => void, o: BenchEnvOptions = {}): Promise<BenchEnv> {
  // Its own LAN, so it can run next to an e2e lab (which uses the default one).
  const lab = await LabCluster.create({ name: o.name ?? 'bench', subnet: o.subnet ?? '10.249.0', progress: log, ...(o.serviceClusterIpRange ? { serviceClusterIpRange: o.serviceClusterIpRange } : {}) });
  let controller: ChildProcess | undefined;
  try {
    return await populate(lab, log, (c) => { controller = c; }, o.directorMemMb ?? 2048);
  } catch (err) {
    controller?.kill('SIGTERM');
    await lab.destroy();
    throw err;
  }
}

async function populate(lab: LabCluster, log: (s: string) => void, started: (c: ChildProcess) => void, memMb: number): Promise<BenchEnv> {
  const logs = join(lab.dir, 'logs');
  mkdirSync(logs, { recursive: true });
  const objs = [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'lvs-system' } },
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'bench' } },
    { apiVersion: 'v1', kind: 'Node', metadata: { name: 'd1', labels: { 'lvs.dev/director': 'bench' } } },
    { apiVersion: 'lvs.dev/v1alpha1', kind: 'DirectorGroup', metadata: { name: 'bench' }, spec: { nodeSelector: { matchLabels: { 'lvs.dev/director': 'bench' } }, interface: 'eth0' } },
  ];
  const r = await lab.api.kubectl(['apply', '-f', '-'], { input: objs.map((o) => JSON.stringify(o)).join('\n') });
  if (r.code !== 0) throw new Error(r.stderr);
  // Controller and agent run compiled, as in the image (the bundle, the chart's controller V8
  // flags): their start-up and memory are what users get, not tsx's.
  log('building dist/ (npm run build)');
  const build = spawnSync('npm', ['run', 'build'], { cwd: projectRoot, stdio: ['ignore', 'ignore', 'inherit'] });
  if (build.status !== 0) throw new Error('npm run build failed');
  const metricsPort = await freePort();
  const controller: ChildProcess = await startLvsOperator(
    ['controller', '--kubeconfig', lab.api.kubeconfigPath, '--metrics-port', String(metricsPort), '--metrics-host', '127.0.0.1', '--leader-election-namespace', 'lvs-system'],
    undefined, join(logs, 'controller.log'), { compiled: true, nodeFlags: controllerNodeFlags() },
  );
  started(controller);
  // The agent's default resync (the lab's tests use 10 s to see drift healed sooner).
  const director = await lab.node('d1', `${lab.subnet}.11`, { compiled: true, memMb, agentArgs: ['--resync', '30s'], env: { LOG_LEVEL: process.env.LVS_AGENT_LOG_LEVEL ?? 'info' }, nodeFlags: (process.env.LVS_AGENT_NODE_FLAGS ?? '').split(' ').filter(Boolean) });
  return {
    director, kubeconfig: lab.api.kubeconfigPath, labKubeconfig: lab.labKubeconfig, controllerPid: controller.pid!, controllerMetricsPort: metricsPort, dir: lab.dir, projectRoot, binDir: lab.api.binDir,
    async destroy() {
      controller.kill('SIGTERM');
      await lab.destroy();
    },
  };
}
