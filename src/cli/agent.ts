import { hostname } from 'node:os';
import { parseArgs } from 'node:util';
import { logger, rootLogger } from '../util/log.js';
import { type Subcommand, UsageError } from './command.js';
import { duration, parseLogLevel, parsePort, untilSignalled } from './flags.js';

const usage = `Usage: lvs-operator agent [flags]

Runs on every director and real-server node (privileged DaemonSet, hostNetwork). Reconciles
the node's kernel to the cluster's VirtualServices: IPVS services and destinations, VIPs,
sysctls, health checks; the real-server side of DR/TUN for RealServers naming this node.
Touches only the kernel state it created (recorded under --state-dir) and adopts it after a
restart without flushing, so no connection drops. Keeps serving when the API server is gone.

Flags (environment variable in brackets):
  --node NAME              this node's name [NODE_NAME] (default: the host name)
  --state-dir DIR          where the ownership record lives (default /var/lib/lvs-operator)
  --kubeconfig PATH        kubeconfig file [KUBECONFIG]; default: in-cluster service account
  --context NAME           kubeconfig context to use
  --manifests FILE         standalone mode: read lvs.dev manifests from FILE instead of the API
                           server (repeatable); no status is written
  --node-label KEY=VALUE   standalone mode: a label of this node, for DirectorGroup nodeSelectors
                           (repeatable)
  --lease-namespace NS     namespace of this agent's heartbeat Lease lvs-agent-<node>, and of
                           its pod [POD_NAMESPACE] (default lvs-system)
  On SIGTERM the kernel state stays (a restarted agent adopts it), unless the agent's pod
  [POD_NAME] belongs to a DaemonSet that is gone or being deleted: an uninstall, which removes
  everything this agent created.
  --metrics-port N         port of /metrics, /healthz, /readyz; 0 picks a free one
                           [LVS_METRICS_PORT] (default 9477)
  --metrics-host ADDR      address to bind the metrics port (default :: and 0.0.0.0: both
                           address families; 0.0.0.0 alone without IPv6)
  --resync D               re-read the whole kernel state at least this often, healing drift
                           (default 30s)
  --status-qps N           status writes per second to the API server, at most (default 50)
  --bird MODE              who runs BIRD for DirectorGroups that announce over BGP: child (the
                           agent starts it) or sidecar (another container of the pod runs it
                           on the socket in --bird-dir once bird.conf exists) (default child)
  --bird-dir DIR           bird.conf and the control socket bird.ctl (default <state-dir>/bird)
  --log-level LEVEL        trace, debug, info, warn, error [LOG_LEVEL] (default info)
  -h, --help               show this help`;

function labels(pairs: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of pairs) {
    const i = p.indexOf('=');
    if (i <= 0) throw new UsageError(`--node-label takes KEY=VALUE, not ${JSON.stringify(p)}`);
    out[p.slice(0, i)] = p.slice(i + 1);
  }
  return out;
}

export const agentCommand: Subcommand = {
  name: 'agent',
  summary: 'Run the node agent (IPVS, VIPs, health checks, real-server side)',
  usage,
  async run(args) {
    const { values } = parseArgs({
      args,
      strict: true,
      options: {
        node: { type: 'string', default: process.env.NODE_NAME ?? hostname() },
        'state-dir': { type: 'string', default: '/var/lib/lvs-operator' },
        kubeconfig: { type: 'string' },
        context: { type: 'string' },
        manifests: { type: 'string', multiple: true },
        'node-label': { type: 'string', multiple: true },
        'lease-namespace': { type: 'string', default: process.env.POD_NAMESPACE ?? 'lvs-system' },
        'metrics-port': { type: 'string', default: process.env.LVS_METRICS_PORT ?? '9477' },
        'metrics-host': { type: 'string' },
        resync: { type: 'string', default: '30s' },
        'status-qps': { type: 'string', default: '50' },
        bird: { type: 'string', default: 'child' },
        'bird-dir': { type: 'string' },
        'log-level': { type: 'string', default: process.env.LOG_LEVEL ?? 'info' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    if (values.help) {
      process.stdout.write(`${usage}\n`);
      return 0;
    }
    rootLogger.level = parseLogLevel('log-level', values['log-level']);
    const log = logger('agent');
    const port = parsePort('metrics-port', values['metrics-port']);
    const resyncMs = duration('resync', values.resync);
    const statusQps = Number(values['status-qps']);
    if (!Number.isInteger(statusQps) || statusQps < 1) throw new UsageError(`--status-qps takes a whole number of at least 1, not ${JSON.stringify(values['status-qps'])}`);
    const birdMode = values.bird;
    if (birdMode !== 'child' && birdMode !== 'sidecar') throw new UsageError(`--bird takes child or sidecar, not ${JSON.stringify(birdMode)}`);
    const manifests = values.manifests ?? [];
    if (manifests.length === 0 && values['node-label']?.length) throw new UsageError('--node-label only goes with --manifests');
    const [{ startAgentDaemon }, { loadClusterAccess }] = await Promise.all([import('../agent/daemon.js'), import('../kube/config.js')]);
    const daemon = await startAgentDaemon({
      node: values.node,
      stateDir: values['state-dir'],
      resyncMs,
      statusQps,
      leaseNamespace: values['lease-namespace'],
      metrics: { port, ...(values['metrics-host'] ? { host: values['metrics-host'] } : {}) },
      bird: { mode: birdMode, ...(values['bird-dir'] ? { dir: values['bird-dir'] } : {}) },
      log,
      ...(manifests.length
        ? { manifests: { files: manifests, nodes: [{ apiVersion: 'v1', kind: 'Node', metadata: { name: values.node, labels: labels(values['node-label'] ?? []) } }] } }
        : { access: await loadClusterAccess({ kubeconfig: values.kubeconfig, context: values.context }) }),
    });
    await untilSignalled((signal) => log.info({ signal }, 'shutting down'));
    const pod = process.env.POD_NAME ? { namespace: values['lease-namespace'], name: process.env.POD_NAME } : undefined;
    const removal = await daemon.removal(pod);
    log.info({ why: removal.why }, removal.removed ? 'uninstalled: removing the kernel state this agent created' : 'restarting: the kernel state stays');
    await daemon.stop({ cleanup: removal.removed });
    return 0;
  },
};
