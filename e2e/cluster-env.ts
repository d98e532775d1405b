// The e2e site of real nodes (test/lab/kube-site.ts) with lvs-operator installed by Helm from the
// image built here, the workloads the suite's services balance, and the client's tools. What the
// suite reads from the nodes' kernels it reads as a user would: `kubectl exec` into the agent pod
// of that node (the image has ipvsadm and ip), so the same checks work on any cluster.
import { waitFor } from '../test/lab/agents.js';
import { helmInstall, labValues } from '../test/lab/kube-install.js';
import { createSite, type Site } from '../test/lab/kube-site.js';
import type { SiteNode } from '../test/lab/kube-site.js';
import { hostServerDaemonSet, serverPod, workloadConfigMap } from '../test/lab/workloads/manifests.js';

export const subnet = '192.168.30';
export const drVip = `${subnet}.100`;
export const natVip = `${subnet}.200`;
export const clientAddress = `${subnet}.50`;
export const echoPort = 7000;

export interface ClusterEnv {
  site: Site;
  /** Runs a command in the agent pod of `node` (its kernel: hostNetwork). */
  onNode(node: string, cmd: string[]): Promise<string>;
  agentPod(node: string): Promise<string>;
  /** The VRRP master of the edge group, as the DR VirtualService's status names it. */
  master(): Promise<string>;
  apply(objects: object[]): Promise<void>;
  getJson<T>(args: string[]): Promise<T>;
  destroy(): Promise<void>;
}

const rs = (i: number): SiteNode => ({
  name: `rs-${i}`, host: 20 + i, labels: { 'lvs.dev/web': 'true' },
  // The classic LVS-NAT route, for the pods' replies only: back through the directors' VIP.
  // (DR replies leave from the VIP on lo straight to the client: a director would drop them.)
  setup: [`ip rule add from 10.244.0.0/16 to ${clientAddress}/32 lookup 100`, `ip route add ${clientAddress}/32 via ${natVip} dev eth0 table 100`],
});

export const nodes: SiteNode[] = [
  { name: 'd1', host: 11, labels: { 'lvs.dev/director': 'edge' } },
  { name: 'd2', host: 12, labels: { 'lvs.dev/director': 'edge' } },
  rs(1), rs(2), rs(3),
];

export const releaseValues = (site: Site, extra: Record<string, unknown> = {}): Record<string, unknown> =>
  labValues(site.image, { agent: { privileged: true, resync: '5s' }, logLevel: 'debug', ...extra });

/** The services under test: DR web and echo on the real-server nodes, NAT to pods behind a Service. */
export function testObjects(image: string): object[] {
  const ns = 'e2e';
  return [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } },
    workloadConfigMap(ns),
    hostServerDaemonSet('web', ns, 'lvs.dev/web', { image, args: ['http', '80'], readiness: { port: 80, scheme: 'HTTP' } }),
    hostServerDaemonSet('echo', ns, 'lvs.dev/web', { image, args: ['echo', String(echoPort)] }),
    {
      apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'app', namespace: ns },
      spec: {
        replicas: 3, selector: { matchLabels: { app: 'app' } },
        template: serverPod({ image, args: ['http', '8080'], nameFrom: 'metadata.name', readiness: { port: 8080, scheme: 'HTTP' } }, { app: 'app' }, { nodeSelector: { 'lvs.dev/web': 'true' } }),
      },
    },
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'app', namespace: ns }, spec: { selector: { app: 'app' }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] } },
    {
      apiVersion: 'lvs.dev/v1alpha1', kind: 'DirectorGroup', metadata: { name: 'edge' },
      spec: { nodeSelector: { matchLabels: { 'lvs.dev/director': 'edge' } }, interface: 'eth0', vrrp: { version: 2, advertIntervalMs: 1000, preempt: true }, sync: { enabled: true, syncId: 30 } },
    },
    ...(['www', 'echo'] as const).map((name) => ({
      apiVersion: 'lvs.dev/v1alpha1', kind: 'VirtualService', metadata: { name, namespace: ns },
      spec: {
        vip: drVip, port: name === 'www' ? 80 : echoPort, protocol: 'TCP', scheduler: 'wrr', forwarding: { method: 'DR' },
        backends: { realServerSelector: { matchLabels: { app: 'web' } } },
        healthCheck: { type: 'TCP', intervalSeconds: 2, timeoutSeconds: 1, rise: 1, fall: 2 },
        directorGroup: 'edge',
      },
    })),
    ...[1, 2, 3].map((i) => ({
      apiVersion: 'lvs.dev/v1alpha1', kind: 'RealServer', metadata: { name: `rs-${i}`, namespace: ns, labels: { app: 'web' } },
      spec: { address: `${subnet}.${20 + i}`, weight: i === 3 ? 2 : 1, nodeName: `rs-${i}` },
    })),
    {
      apiVersion: 'lvs.dev/v1alpha1', kind: 'VirtualService', metadata: { name: 'app', namespace: ns },
      spec: {
        vip: natVip, port: 80, protocol: 'TCP', scheduler: 'rr', forwarding: { method: 'NAT' },
        backends: { service: { name: 'app', port: 'http' } },
        healthCheck: { type: 'HTTP', intervalSeconds: 2, timeoutSeconds: 1, rise: 1, fall: 2, http: { path: '/' } },
        directorGroup: 'edge',
      },
    },
  ];
}

export async function createClusterEnv(name: string, progress: (l: string) => void): Promise<ClusterEnv> {
  const site = await createSite({ name, subnet, nodes, client: 50, progress });
  try {
    const t0 = Date.now();
    await helmInstall(site, releaseValues(site));
    progress(`e2e: helm install to all Ready in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    const apply = async (objects: object[]): Promise<void> => { await site.kubectl(['apply', '-f', '-'], objects.map((o) => JSON.stringify(o)).join('\n')); };
    const getJson = async <T>(args: string[]): Promise<T> => JSON.parse(await site.kubectl([...args, '-o', 'json'])) as T;
    const agentPod = async (node: string): Promise<string> => {
      let pod = '';
      await waitFor(async () => {
        const out = await site.kubectl(['get', 'pods', '-n', 'lvs-system', '-l', 'app.kubernetes.io/component=agent', '--field-selector', `spec.nodeName=${node},status.phase=Running`, '-o', 'name']);
        pod = out.trim().split('\n').filter(Boolean)[0] ?? '';
        return pod !== '';
      }, 120_000);
      if (!pod) throw new Error(`no running agent pod on ${node}`);
      return pod;
    };
    return {
      site, apply, getJson, agentPod,
      async onNode(node, cmd) {
        return site.kubectl(['exec', '-n', 'lvs-system', await agentPod(node), '--', ...cmd]);
      },
      async master() {
        const vs = await getJson<{ status?: { master?: string } }>(['get', 'virtualservice', 'www', '-n', 'e2e']);
        return vs.status?.master ?? '';
      },
      destroy: () => site.destroy(),
    };
  } catch (err) {
    await site.destroy();
    throw err;
  }
}
