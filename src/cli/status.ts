import { parseArgs } from 'node:util';
import type { LiveTable } from '../agent/live-table.js';
import { type Subcommand, UsageError } from './command.js';
import { formatLiveTable } from './live-table-format.js';

const usage = `Usage: lvs-operator status [flags]     (as a kubectl plugin: kubectl lvs status)

Shows each director's live IPVS table like \`ipvsadm -Ln --stats --rate\` (connections,
packets, bytes, rates, active and inactive connections per destination) with the VRRP state
of its VIPs, read from every agent through the API server's pod proxy: no exec into the
privileged pods. Needs get on pods/proxy and list on pods in the agents' namespace.

Flags:
  --kubeconfig PATH    kubeconfig file [KUBECONFIG]; default: ~/.kube/config, in-cluster
  --context NAME       kubeconfig context to use
  -n, --namespace NS   the agents' namespace (default lvs-system)
  -l, --selector SEL   label selector of the agent pods (default app.kubernetes.io/component=agent)
  --node NAME          only the agent on this node
  -o, --output FORMAT  table (default) or json
  -h, --help           show this help`;

interface PodList {
  items: { metadata: { name: string }; spec: { nodeName?: string; containers: { ports?: { name?: string; containerPort: number }[] }[] }; status?: { phase?: string } }[];
}

export const statusCommand: Subcommand = {
  name: 'status',
  summary: "Show every director's live IPVS table and VRRP state (ipvsadm -Ln --stats --rate)",
  usage,
  async run(args) {
    const { values } = parseArgs({
      args, strict: true, allowPositionals: false,
      options: {
        kubeconfig: { type: 'string' },
        context: { type: 'string' },
        namespace: { type: 'string', short: 'n', default: 'lvs-system' },
        selector: { type: 'string', short: 'l', default: 'app.kubernetes.io/component=agent' },
        node: { type: 'string' },
        output: { type: 'string', short: 'o', default: 'table' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    if (values.help) {
      process.stdout.write(`${usage}\n`);
      return 0;
    }
    if (values.output !== 'table' && values.output !== 'json') throw new UsageError(`--output takes table or json, not ${JSON.stringify(values.output)}`);
    const [{ loadClusterAccess }, { KubeHttp }] = await Promise.all([import('../kube/config.js'), import('../kube/http.js')]);
    const http = new KubeHttp(await loadClusterAccess({ kubeconfig: values.kubeconfig, context: values.context }));
    const ns = encodeURIComponent(values.namespace);
    const pods = await http.request<PodList>('GET', `/api/v1/namespaces/${ns}/pods`, { query: { labelSelector: values.selector } });
    const running = pods.items
      .filter((p) => p.status?.phase === 'Running' && (!values.node || p.spec.nodeName === values.node))
      .sort((a, b) => (a.spec.nodeName ?? '').localeCompare(b.spec.nodeName ?? ''));
    if (running.length === 0) {
      process.stderr.write(`lvs-operator status: no running agent pods in ${values.namespace} match ${values.selector}${values.node ? ` on node ${values.node}` : ''}\n`);
      return 1;
    }
    let failed = 0;
    const tables: { pod: string; table?: LiveTable; error?: string }[] = await Promise.all(running.map(async (p) => {
      const ports = p.spec.containers.flatMap((c) => c.ports ?? []);
      const port = (ports.find((q) => q.name === 'metrics') ?? ports[0])?.containerPort;
      if (port === undefined) return { pod: p.metadata.name, error: 'the pod declares no metrics port' };
      try {
        const table = await http.request<LiveTable>('GET', `/api/v1/namespaces/${ns}/pods/${encodeURIComponent(`${p.metadata.name}:${port}`)}/proxy/ipvs`);
        return { pod: p.metadata.name, table };
      } catch (err) {
        return { pod: p.metadata.name, error: (err as Error).message };
      }
    }));
    if (values.output === 'json') process.stdout.write(`${JSON.stringify(tables, null, 2)}\n`);
    for (const t of tables) {
      if (t.error !== undefined) {
        failed++;
        process.stderr.write(`lvs-operator status: pod ${t.pod}: ${t.error}\n`);
      } else if (values.output === 'table') {
        process.stdout.write(`${formatLiveTable(t.table!, t.pod)}\n\n`);
      }
    }
    return failed ? 1 : 0;
  },
};
