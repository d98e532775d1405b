import { parseArgs } from 'node:util';
import { logger, rootLogger } from '../util/log.js';
import { leaseTimingError } from '../kube/lease-timing.js';
import { type Subcommand, UsageError } from './command.js';
import { duration, parseBool, parseLogLevel, parsePort, untilSignalled } from './flags.js';

const usage = `Usage: lvs-operator controller [flags]

Watches DirectorGroups, VirtualServices and RealServers (plus Nodes, Services,
EndpointSlices and Secret metadata), allocates VRRP router ids, resolves backends and
writes status, conditions and Events. Gives Services of type LoadBalancer with
loadBalancerClass lvs.dev/ipvs an address from an AddressPool and derives their
VirtualServices. One replica is active at a time (Lease).

Flags (environment variable in brackets):
  --kubeconfig PATH                 kubeconfig file [KUBECONFIG]; default: in-cluster
                                    service account, then ~/.kube/config
  --context NAME                    kubeconfig context to use
  --metrics-port N                  port of /metrics, /healthz, /readyz; 0 disables
                                    [LVS_METRICS_PORT] (default 8080)
  --metrics-host ADDR               address to bind the metrics port (default :: and 0.0.0.0: both
                                    address families; 0.0.0.0 alone without IPv6)
  --leader-elect true|false         campaign for the Lease before reconciling (default true)
  --leader-election-namespace NS    namespace of the Lease [POD_NAMESPACE] (default lvs-system)
  --leader-election-id NAME         name of the Lease (default lvs-operator-controller)
  --lease-duration D                how long a silent leader keeps the Lease (default 15s)
  --renew-deadline D                leader stops writing D after its last renewal was sent
                                    unless it renewed again (default 10s; must be below
                                    the lease duration and above 1.2 x the retry period)
  --retry-period D                  between Lease attempts and renewals (default 2s)
  --resync D                        full reconcile at least this often (default 10m)
  --claim-default-load-balancers true|false
                                    also serve Services of type LoadBalancer without a
                                    loadBalancerClass (default false: only lvs.dev/ipvs)
  --load-balancer-ip-mode VIP|Proxy ipMode of the addresses in status.loadBalancer.ingress
                                    (default VIP; Proxy where kube-proxy runs in IPVS mode
                                    on the directors)
  --log-level LEVEL                 trace, debug, info, warn, error [LOG_LEVEL] (default info)
  -h, --help                        show this help

Durations take Go syntax: 500ms, 15s, 2m, 1h.`;

export const controllerCommand: Subcommand = {
  name: 'controller',
  summary: 'Run the controller (status, conditions, VRRP router ids, Events)',
  usage,
  async run(args) {
    const { values } = parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: {
        kubeconfig: { type: 'string' },
        context: { type: 'string' },
        'metrics-port': { type: 'string', default: process.env.LVS_METRICS_PORT ?? '8080' },
        'metrics-host': { type: 'string' },
        'leader-elect': { type: 'string', default: 'true' },
        'leader-election-namespace': { type: 'string', default: process.env.POD_NAMESPACE ?? 'lvs-system' },
        'leader-election-id': { type: 'string', default: 'lvs-operator-controller' },
        'lease-duration': { type: 'string', default: '15s' },
        'renew-deadline': { type: 'string', default: '10s' },
        'retry-period': { type: 'string', default: '2s' },
        resync: { type: 'string', default: '10m' },
        'claim-default-load-balancers': { type: 'string', default: 'false' },
        'load-balancer-ip-mode': { type: 'string', default: 'VIP' },
        'log-level': { type: 'string', default: process.env.LOG_LEVEL ?? 'info' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    if (values.help) {
      process.stdout.write(`${usage}\n`);
      return 0;
    }
    rootLogger.level = parseLogLevel('log-level', values['log-level']);
    const log = logger('controller');
    const port = parsePort('metrics-port', values['metrics-port']);
    const leaseDurationMs = duration('lease-duration', values['lease-duration']);
    const renewDeadlineMs = duration('renew-deadline', values['renew-deadline']);
    const retryPeriodMs = duration('retry-period', values['retry-period']);
    const timing = leaseTimingError(leaseDurationMs, renewDeadlineMs, retryPeriodMs);
    if (timing) throw new UsageError(`${timing}: need --lease-duration > --renew-deadline > 1.2 x --retry-period`);
    const resyncMs = duration('resync', values.resync);
    const leaderElect = parseBool('leader-elect', values['leader-elect']);
    const claimClasslessLoadBalancers = parseBool('claim-default-load-balancers', values['claim-default-load-balancers']);
    const loadBalancerIPMode = values['load-balancer-ip-mode'];
    if (loadBalancerIPMode !== 'VIP' && loadBalancerIPMode !== 'Proxy') throw new UsageError(`--load-balancer-ip-mode: expected VIP or Proxy, got ${JSON.stringify(loadBalancerIPMode)}`);
    // Loaded on demand: `lvs-operator version` and `help` need no Kubernetes client.
    const [{ Controller }, { loadClusterAccess }, { defaultIdentity }, { processMetrics }] = await Promise.all([
      import('../controller/controller.js'),
      import('../kube/config.js'),
      import('../kube/leader.js'),
      import('../util/process-metrics.js'),
    ]);
    const access = await loadClusterAccess({ kubeconfig: values.kubeconfig, context: values.context });
    const controller = new Controller({
      access,
      agentLeaseNamespace: values['leader-election-namespace'],
      resyncMs,
      claimClasslessLoadBalancers,
      loadBalancerIPMode,
      ...(port > 0 ? { metrics: { port, ...(values['metrics-host'] ? { host: values['metrics-host'] } : {}) } } : {}),
      ...(leaderElect
        ? {
            leaderElection: {
              namespace: values['leader-election-namespace'],
              name: values['leader-election-id'],
              identity: defaultIdentity(),
              leaseDurationMs,
              renewDeadlineMs,
              retryPeriodMs,
            },
          }
        : {}),
      log,
    });
    processMetrics(controller.metrics.registry);
    await controller.start();
    log.info({ server: access.server, via: access.source, metricsPort: controller.metricsPort }, 'controller started');
    await untilSignalled((signal) => log.info({ signal }, 'shutting down'));
    await controller.stop();
    return 0;
  },
};
