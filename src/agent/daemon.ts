// `lvs-operator agent`: the agent loop wired to the real kernel, a source (the API server, or
// manifest files for standalone directors), status reporting, Events and metrics.
import type { Logger } from 'pino';
import { EventRecorder, KubeHttp, MetricsServer, NodeHeartbeat, makeClients } from '../kube/index.js';
import type { ClusterAccess } from '../kube/config.js';
import { Agent } from './agent.js';
import { ApiSource } from './api-source.js';
import { openKernel, type KernelHandles } from './kernel.js';
import { HealthChecker } from '../health/index.js';
import { AgentMetrics } from './metrics.js';
import { StatusReporter } from './reporter.js';
import { probeSchedulers } from './schedulers.js';
import { FileSource, type SnapshotSource } from './source.js';
import { logManifests } from './standalone-report.js';
import { liveTable } from './live-table.js';
import { registerIpvsMetrics } from './ipvs-metrics.js';
import { cachedFor } from '../util/cached.js';
import { resolve } from '../model/index.js';
import type { VipLeadership } from './compile.js';
import type { Node } from '../kube/types.js';
import { RtLinkClient } from '../link/index.js';
import { NetlinkLinkMonitor, PacketAnnouncer, SerialLinkClient } from '../vrrp/runtime/index.js';
import { VrrpLeadership } from './vrrp-leadership.js';
import { secretKeyReader } from './vrrp-secrets.js';
import { apiSecretDataReader, type SecretDataReader } from './health-secrets.js';
import { agentRemoval, type Removal } from './uninstall.js';
import { emptyDesired } from './compile.js';
import { BgpAnnouncer } from './bgp-announcer.js';
import { BirdDaemon, type BirdMode } from '../bgp/runtime/bird-daemon.js';
import { join } from 'node:path';

export interface AgentDaemonOptions {
  node: string;
  stateDir: string;
  /** The API server; or `manifests` for a standalone agent. */
  access?: ClusterAccess;
  manifests?: { files: string[]; nodes: Node[] };
  metrics?: { port: number; host?: string };
  resyncMs?: number;
  /** Status writes per second at most (both kinds together). */
  statusQps?: number;
  /** Namespace of this agent's heartbeat Lease (`lvs-agent-<node>`), which the controller watches. */
  leaseNamespace?: string;
  /** Overrides VRRP (tests); by default VRRP elects the holder in groups with two or more directors. */
  leadership?: VipLeadership;
  /** BIRD for groups that announce over BGP: its directory (default stateDir/bird), socket, binaries, and who runs it. */
  bird?: { dir?: string; socket?: string; birdBin?: string; birdcBin?: string; mode?: BirdMode };
  /** Tests: a kernel of fakes instead of netlink and /proc/sys. */
  kernel?: KernelHandles;
  log: Logger;
}

export interface AgentDaemon {
  agent: Agent;
  kernel: KernelHandles;
  metrics: AgentMetrics;
  reporter: StatusReporter | undefined;
  vrrp: VrrpLeadership | undefined;
  metricsPort: number | undefined;
  /**
   * Whether this agent's DaemonSet was removed (see uninstall.ts); `pod` is this agent's pod
   * (`namespace/name`, from the downward API). Without the API server or a pod: not removed.
   */
  removal(pod: { namespace: string; name: string } | undefined): Promise<Removal>;
  /** Stops; with `cleanup` (an uninstall) first removes every piece of kernel state this agent created. */
  stop(o?: { cleanup?: boolean }): Promise<void>;
}

export async function startAgentDaemon(o: AgentDaemonOptions): Promise<AgentDaemon> {
  // /healthz and /metrics first: the list below takes as long as the API server makes it, and
  // kubelet must not kill a live agent for that. /readyz says what it still waits for.
  const checker = new HealthChecker();
  const metrics = new AgentMetrics(checker);
  const ready: { agent?: Agent; waiting: string } = { waiting: 'starting' };
  let server: MetricsServer | undefined;
  let metricsPort: number | undefined;
  if (o.metrics && o.metrics.port >= 0) {
    server = new MetricsServer({ registry: metrics.registry, port: o.metrics.port, ...(o.metrics.host ? { host: o.metrics.host } : {}), healthz: () => undefined, readyz: () => (ready.agent?.lastPass ? undefined : ready.waiting) });
    metricsPort = await server.listen();
  }
  try {
    return await startAgent(o, { checker, metrics, ready, server, metricsPort });
  } catch (err) {
    await server?.close();
    throw err;
  }
}

interface Early {
  checker: HealthChecker;
  metrics: AgentMetrics;
  ready: { agent?: Agent; waiting: string };
  server: MetricsServer | undefined;
  metricsPort: number | undefined;
}

async function startAgent(o: AgentDaemonOptions, { checker, metrics, ready, server, metricsPort }: Early): Promise<AgentDaemon> {
  const started = performance.now();
  const since = (): number => Math.round(performance.now() - started);
  let listedAt: number | undefined;
  const kernel = o.kernel ?? (await openKernel(o.stateDir, o.log));
  let source: SnapshotSource;
  let reporter: StatusReporter | undefined;
  let events: EventRecorder | undefined;
  let vrrp: VrrpLeadership | undefined;
  let stopSource: () => Promise<void> = async () => undefined;
  let heartbeat: NodeHeartbeat | undefined;
  let readSecretData: SecretDataReader | undefined;
  let http: KubeHttp | undefined;
  if (o.access) {
    const kube = new KubeHttp(o.access);
    http = kube;
    const clients = makeClients(kube);
    readSecretData = apiSecretDataReader(kube);
    const api = new ApiSource(clients, o.log, { node: o.node });
    api.start();
    // Never reconcile from an empty cache: that would remove everything the node serves.
    o.log.info('waiting for the API server to list the cluster state');
    ready.waiting = 'waiting for the API server to list the cluster state';
    await api.waitForSync();
    ready.waiting = 'no reconcile pass yet';
    o.log.info({ ms: since() }, 'cluster state listed');
    listedAt = performance.now();
    source = api;
    stopSource = () => api.stop();
    heartbeat = new NodeHeartbeat({ leases: clients.leases, namespace: o.leaseNamespace ?? 'lvs-system', node: o.node, log: o.log.child({ component: 'heartbeat' }) });
    heartbeat.start();
    events = new EventRecorder({ events: clients.events, controller: 'lvs.dev/agent', instance: o.node, log: o.log.child({ component: 'events' }) });
    reporter = new StatusReporter({ node: o.node, virtualServices: clients.virtualServices, stored: (key) => api.storedDirectorEntry(key, o.node), directorGroups: clients.directorGroups, events, vrrpState: (group, vips) => vrrp?.stateOf(group, vips), ...(o.statusQps ? { writesPerSecond: o.statusQps } : {}), log: o.log.child({ component: 'status' }) });
  } else if (o.manifests) {
    const files = new FileSource(o.manifests.files, o.manifests.nodes);
    await files.reload();
    // No API server to carry conditions: every refused or degraded object is said in the log.
    logManifests(o.log, files.snapshot(), resolve(files.snapshot()));
    source = files;
    readSecretData = files.readSecretData;
  } else {
    throw new Error('agent needs the API server or manifest files');
  }

  // VRRP: one link client (serialised) for every instance of this process; the reconciler keeps its own.
  let vrrpLink: SerialLinkClient | undefined;
  let announcer: PacketAnnouncer | undefined;
  let links: NetlinkLinkMonitor | undefined;
  if (!o.leadership) {
    vrrpLink = new SerialLinkClient(new RtLinkClient());
    announcer = new PacketAnnouncer(vrrpLink);
    // Link notifications for FAULT and track_interface (keepalived follows RTM_NEWLINK the same way).
    links = await NetlinkLinkMonitor.open(o.log.child({ component: 'vrrp-links' }));
    vrrp = new VrrpLeadership({ node: o.node, link: vrrpLink, announcer, record: kernel.reconciler.record, events, registry: metrics.registry, readSecret: secretKeyReader(readSecretData), links, log: o.log.child({ component: 'vrrp' }) });
  }
  // BGP groups: BIRD runs only while this node directs one; started by the first pass that needs it.
  const bgp = new BgpAnnouncer({
    node: o.node, registry: metrics.registry, readSecret: readSecretData ? secretKeyReader(readSecretData) : undefined, log: o.log.child({ component: 'bgp' }),
    onStatus: (s) => reporter?.reportBgp(s),
    daemon: new BirdDaemon({ ...o.bird, dir: o.bird?.dir ?? join(o.stateDir, 'bird'), log: o.log.child({ component: 'bird' }) }),
  });
  // VRRP is a step of the agent's passes (it starts no instance before the first one) and stops with it.
  const agent = new Agent({
    bgp,
    node: o.node, source, reconciler: kernel.reconciler, log: o.log,
    probeSchedulers: () => probeSchedulers(),
    ...(o.resyncMs ? { resyncMs: o.resyncMs } : {}),
    ...(o.leadership ? { leadership: o.leadership } : {}),
    ...(vrrp ? { vrrp } : {}),
    checker,
    readSecretData, secretNamespace: o.leaseNamespace ?? 'lvs-system',
    onPass: (pass) => {
      metrics.observe(pass);
      reporter?.report(pass);
    },
  });
  ready.agent = agent;
  // The live table (ipvsadm -Ln --stats), read on demand through a second IPVS socket.
  const readLive = cachedFor(1000, async () => liveTable(o.node, new Date(), await kernel.observer.listServicesWithDests({ stats: true }), agent.lastPass?.desired, vrrp?.status() ?? []));
  server?.serveJson('/ipvs', readLive);
  registerIpvsMetrics(metrics.registry, readLive);
  if (reporter) metrics.watchStatus(() => reporter!.pending());
  if (reporter) agent.checker.on('change', (c) => reporter!.healthEvent(c));
  ready.waiting = 'no reconcile pass yet';
  const firstPass = performance.now();
  await agent.start();
  const lost = kernel.ownership?.unreadable; // read by the first pass
  if (lost) void events?.record({ apiVersion: 'v1', kind: 'Node', name: o.node }, 'Warning', 'OwnershipRecordUnreadable', `${o.node}: the ownership record could not be read (${lost.why}); set aside as ${lost.keptAs}. The agent claims nothing it finds in the kernel: services already there stay as they are, reported as held by somebody else`);
  // Where a start's time goes: process start (module loading) to here, listing, the first pass.
  o.log.info({ node: o.node, services: agent.lastPass?.desired.services.length, metricsPort, ms: since(), loadMs: Math.round(started), listMs: listedAt === undefined ? undefined : Math.round(listedAt - started), firstPassMs: Math.round(performance.now() - firstPass), kernelMs: Math.round(agent.lastPass?.result.durationMs ?? 0) }, 'agent started');
  return {
    agent, kernel, metrics, reporter, vrrp, metricsPort,
    async removal(pod) {
      if (!http || !pod) return { removed: false, why: http ? 'this agent does not know its pod (POD_NAME unset)' : 'standalone agent' };
      return agentRemoval(http, pod.namespace, pod.name);
    },
    async stop(opts = {}) {
      // First the VRRP handover (priority 0: a backup takes over within Skew_Time, the sync
      // daemon has given it the connections). A restart hands each VIP over without a gap; an
      // uninstall takes everything down at once. Other kernel state stays: a restarted agent
      // adopts it, unless this is an uninstall.
      await agent.stop({ handover: !opts.cleanup });
      announcer?.close();
      vrrpLink?.close();
      links?.close();
      if (opts.cleanup) {
        const result = await kernel.reconciler.reconcile(emptyDesired(), { full: true });
        o.log.info({ ipvsOps: result.ipvsOps, addressOps: result.addressOps, sysctlOps: result.sysctlOps, nftOps: result.nftOps, errors: result.errors.length }, 'uninstalled: removed the kernel state this agent created');
        for (const e of result.errors) o.log.warn({ error: e }, 'could not remove a piece of kernel state');
      }
      heartbeat?.stop();
      await reporter?.flush(2000);
      reporter?.close();
      await stopSource();
      await server?.close();
      kernel.close();
    },
  };
}
