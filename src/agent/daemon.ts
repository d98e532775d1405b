// `lvs-operator agent`: the agent loop wired to the real kernel, a source (the API server, or
// manifest files for standalone directors), status reporting, Events and metrics.
import type { Logger } from 'pino';
import { EventRecorder, KubeHttp, MetricsServer, makeClients } from '../kube/index.js';
import type { ClusterAccess } from '../kube/config.js';
import { Agent } from './agent.js';
import { ApiSource } from './api-source.js';
import { openKernel, type KernelHandles } from './kernel.js';
import { AgentMetrics } from './metrics.js';
import { StatusReporter } from './reporter.js';
import { FileSource, type SnapshotSource } from './source.js';
import type { VipLeadership } from './compile.js';
import type { Node } from '../kube/types.js';

export interface AgentDaemonOptions {
  node: string;
  stateDir: string;
  /** The API server; or `manifests` for a standalone agent. */
  access?: ClusterAccess;
  manifests?: { files: string[]; nodes: Node[] };
  metrics?: { port: number; host?: string };
  resyncMs?: number;
  leadership?: VipLeadership;
  log: Logger;
}

export interface AgentDaemon {
  agent: Agent;
  kernel: KernelHandles;
  metrics: AgentMetrics;
  reporter: StatusReporter | undefined;
  metricsPort: number | undefined;
  stop(): Promise<void>;
}

export async function startAgentDaemon(o: AgentDaemonOptions): Promise<AgentDaemon> {
  const kernel = await openKernel(o.stateDir);
  let source: SnapshotSource;
  let reporter: StatusReporter | undefined;
  let stopSource: () => Promise<void> = async () => undefined;
  if (o.access) {
    const clients = makeClients(new KubeHttp(o.access));
    const api = new ApiSource(clients, o.log);
    api.start();
    // Never reconcile from an empty cache: that would remove everything the node serves.
    o.log.info('waiting for the API server to list the cluster state');
    await api.waitForSync();
    source = api;
    stopSource = () => api.stop();
    const events = new EventRecorder({ events: clients.events, controller: 'lvs.dev/agent', instance: o.node, log: o.log.child({ component: 'events' }) });
    reporter = new StatusReporter({ node: o.node, virtualServices: clients.virtualServices, realServers: clients.realServers, events, log: o.log.child({ component: 'status' }) });
  } else if (o.manifests) {
    const files = new FileSource(o.manifests.files, o.manifests.nodes);
    await files.reload();
    source = files;
  } else {
    throw new Error('agent needs the API server or manifest files');
  }

  let metrics: AgentMetrics | undefined;
  const agent = new Agent({
    node: o.node, source, reconciler: kernel.reconciler, log: o.log,
    ...(o.resyncMs ? { resyncMs: o.resyncMs } : {}),
    ...(o.leadership ? { leadership: o.leadership } : {}),
    onPass: (pass) => {
      metrics?.observe(pass);
      reporter?.report(pass);
    },
  });
  metrics = new AgentMetrics(agent.checker);
  if (reporter) agent.checker.on('change', (c) => reporter!.healthEvent(c));
  let server: MetricsServer | undefined;
  let metricsPort: number | undefined;
  if (o.metrics && o.metrics.port >= 0) {
    server = new MetricsServer({ registry: metrics.registry, port: o.metrics.port, ...(o.metrics.host ? { host: o.metrics.host } : {}), healthz: () => undefined, readyz: () => (agent.lastPass ? undefined : 'no reconcile pass yet') });
    metricsPort = await server.listen();
  }
  await agent.start();
  o.log.info({ node: o.node, services: agent.lastPass?.desired.services.length, metricsPort }, 'agent started');
  return {
    agent, kernel, metrics, reporter, metricsPort,
    async stop() {
      // Kernel state stays as it is: a restarted agent adopts it, so no connection drops.
      await agent.stop();
      await reporter?.flush(2000);
      reporter?.close();
      await stopSource();
      await server?.close();
      kernel.close();
    },
  };
}
