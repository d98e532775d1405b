// The Helm e2e suite's view of a cluster, built from a cluster file (e2e/cluster-config.ts) only:
// kubectl and helm with its kubeconfig, the nodes' kernels read through privileged host-network
// pods the suite runs itself (the product image has ipvsadm and ip), traffic from the client
// namespace, and the fault commands. The same code runs on the lab's real-node cluster and on
// any other cluster.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { ensureK8sBins, runTool, type KubectlResult } from '../test/api/harness.js';
import { waitFor } from '../test/lab/agents.js';
import { sh } from '../test/lab/inside.js';
import { releaseArgs } from '../test/lab/kube-install.js';
import { Netns } from '../test/lab/netns.js';
import { hostServerDaemonSet, serverPod, workloadConfigMap } from '../test/lab/workloads/manifests.js';
import { releaseValues, type ClusterConfig } from './cluster-config.js';

export const echoPort = 7000;
export const release = { name: 'lvs-operator', namespace: 'lvs-system' };
const nodeShellNs = 'lvs-e2e-node-shell';
const labels = { director: 'lvs.dev/director', web: 'lvs.dev/web' };

export interface ClusterEnv {
  config: ClusterConfig;
  client: Netns;
  image: string;
  /** kubectl, helm and the rest of the Kubernetes binaries the suite runs. */
  binDir: string;
  kubectl(args: string[], input?: string): Promise<string>;
  kubectlRaw(args: string[], input?: string): Promise<KubectlResult>;
  helm(args: string[]): Promise<string>;
  /** `helm install|upgrade --wait` of charts/lvs-operator with the cluster's values and `values`. */
  install(values?: Record<string, unknown>, verb?: 'install' | 'upgrade'): Promise<void>;
  /** Runs a shell script in `node`'s host network namespace, as root, through the suite's own pod there. */
  onNode(node: string, script: string): Promise<string>;
  /** The VRRP master of the directors, as the DR VirtualService's status names it. */
  master(): Promise<string>;
  apply(objects: object[]): Promise<void>;
  getJson<T>(args: string[]): Promise<T>;
  /** The routers' route to the BGP VIP, as the cluster file's bgp.routeCommand prints it. */
  routerRoute(): Promise<string>;
  /** Runs a fault command of the cluster file; undefined when the file has none. */
  fault(what: 'apiDown' | 'apiUp' | { crash: string }): Promise<void> | undefined;
  /** Removes what the suite added (its namespaces, node labels); the product is the tests' to remove. */
  destroy(): Promise<void>;
}

export async function createClusterEnv(config: ClusterConfig): Promise<ClusterEnv> {
  const binDir = config.binDir ?? (await ensureK8sBins());
  const image = `${config.image.repository}:${config.image.tag}`;
  const kubectlRaw = (args: string[], input?: string): Promise<KubectlResult> =>
    runTool(join(binDir, 'kubectl'), [`--kubeconfig=${config.kubeconfig}`, ...args], input);
  const kubectl = async (args: string[], input?: string): Promise<string> => {
    const r = await kubectlRaw(args, input);
    if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr.trim()}`);
    return r.stdout;
  };
  const helm = async (args: string[]): Promise<string> => {
    const r = await runTool(join(binDir, 'helm'), [`--kubeconfig=${config.kubeconfig}`, ...args]);
    if (r.code !== 0) throw new Error(`helm ${args.join(' ')}: ${r.stderr.trim() || r.stdout.trim()}`);
    return r.stdout;
  };
  const getJson = async <T>(args: string[]): Promise<T> => JSON.parse(await kubectl([...args, '-o', 'json'])) as T;
  const apply = async (objects: object[]): Promise<void> => { await kubectl(['apply', '-f', '-'], objects.map((o) => JSON.stringify(o)).join('\n')); };

  // The suite's roles for the nodes are labels; it sets them itself so any cluster will do.
  for (const d of config.directors) await kubectl(['label', 'node', d, `${labels.director}=edge`, '--overwrite']);
  for (const r of config.realServers) await kubectl(['label', 'node', r.node, `${labels.web}=true`, '--overwrite']);
  await apply(nodeShell(image));
  const shellPods = new Map<string, string>();
  const shellPod = async (node: string): Promise<string> => {
    const known = shellPods.get(node);
    if (known) return known;
    let pod = '';
    await waitFor(async () => {
      const out = await kubectl(['get', 'pods', '-n', nodeShellNs, '--field-selector', `spec.nodeName=${node},status.phase=Running`, '-o', 'name']);
      pod = out.trim().split('\n').filter(Boolean)[0] ?? '';
      return pod !== '';
    }, 180_000);
    if (!pod) throw new Error(`no node-shell pod running on ${node}`);
    shellPods.set(node, pod);
    return pod;
  };
  const valuesDir = mkdtempSync(join(tmpdir(), 'lvs-e2e-values-'));
  const client = new Netns(config.clientNetns ?? null);
  return {
    config, client, image, binDir, kubectl, kubectlRaw, helm, getJson, apply,
    async install(values = {}, verb = 'install') {
      const file = join(valuesDir, `values-${Date.now()}.yaml`);
      writeFileSync(file, stringify(releaseValues(config, values)));
      await helm(releaseArgs(verb, { release: release.name, namespace: release.namespace }, file));
    },
    async onNode(node, script) {
      return kubectl(['exec', '-n', nodeShellNs, await shellPod(node), '--', 'sh', '-c', script]);
    },
    async master() {
      const vs = await getJson<{ status?: { master?: string } }>(['get', 'virtualservice', 'www', '-n', 'e2e']);
      return vs.status?.master ?? '';
    },
    async routerRoute() {
      if (!config.bgp) throw new Error('the cluster file has no bgp section');
      return (await sh(config.bgp.routeCommand)).stdout;
    },
    fault(what) {
      const cmd = typeof what === 'string' ? config.faults[what] : config.faults.crashNode?.[what.crash];
      if (!cmd) return undefined;
      return sh(cmd).then(() => undefined);
    },
    async destroy() {
      await kubectlRaw(['delete', 'namespace', nodeShellNs, 'e2e', '--wait=false', '--ignore-not-found']);
      for (const d of config.directors) await kubectlRaw(['label', 'node', d, `${labels.director}-`]);
      for (const r of config.realServers) await kubectlRaw(['label', 'node', r.node, `${labels.web}-`]);
    },
  };
}

/** A privileged host-network pod on every node, for reading (and, in drills, changing) its kernel. */
function nodeShell(image: string): object[] {
  return [
    // Privileged pods: Pod Security admission must allow them here.
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: nodeShellNs, labels: { 'pod-security.kubernetes.io/enforce': 'privileged' } } },
    {
      apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: 'node-shell', namespace: nodeShellNs },
      spec: {
        selector: { matchLabels: { app: 'node-shell' } },
        template: {
          metadata: { labels: { app: 'node-shell' } },
          spec: {
            hostNetwork: true,
            tolerations: [{ operator: 'Exists' }],
            terminationGracePeriodSeconds: 1,
            containers: [{
              name: 'shell', image, command: ['sleep', 'infinity'],
              securityContext: { privileged: true, runAsUser: 0, runAsGroup: 0 },
            }],
          },
        },
      },
    },
  ];
}

/** The services under test: DR web and echo on the real-server nodes, NAT to pods behind a Service. */
export function testObjects(c: ClusterConfig, image: string): object[] {
  const ns = 'e2e';
  const webLabel = labels.web;
  return [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } },
    workloadConfigMap(ns),
    hostServerDaemonSet('web', ns, webLabel, { image, args: ['http', '80'], readiness: { port: 80, scheme: 'HTTP' } }),
    hostServerDaemonSet('echo', ns, webLabel, { image, args: ['echo', String(echoPort)] }),
    {
      apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'app', namespace: ns },
      spec: {
        replicas: 3, selector: { matchLabels: { app: 'app' } },
        template: serverPod({ image, args: ['http', '8080'], nameFrom: 'metadata.name', readiness: { port: 8080, scheme: 'HTTP' } }, { app: 'app' }, { nodeSelector: { [webLabel]: 'true' } }),
      },
    },
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'app', namespace: ns }, spec: { selector: { app: 'app' }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] } },
    {
      apiVersion: 'lvs.dev/v1alpha1', kind: 'DirectorGroup', metadata: { name: 'edge' },
      spec: { nodeSelector: { matchLabels: { [labels.director]: 'edge' } }, interface: c.interface, vrrp: { version: 2, advertIntervalMs: 1000, preempt: true }, sync: { enabled: true, syncId: 30 } },
    },
    ...(['www', 'echo'] as const).map((name) => ({
      apiVersion: 'lvs.dev/v1alpha1', kind: 'VirtualService', metadata: { name, namespace: ns },
      spec: {
        vip: c.vips.dr, port: name === 'www' ? 80 : echoPort, protocol: 'TCP', scheduler: 'wrr', forwarding: { method: 'DR' },
        backends: { realServerSelector: { matchLabels: { app: 'web' } } },
        healthCheck: { type: 'TCP', intervalSeconds: 2, timeoutSeconds: 1, rise: 1, fall: 2 },
        directorGroup: 'edge',
      },
    })),
    // The third real server weighs 2: the spread shows wrr by weight.
    ...c.realServers.map((r, i) => ({
      apiVersion: 'lvs.dev/v1alpha1', kind: 'RealServer', metadata: { name: `rs-${i + 1}`, namespace: ns, labels: { app: 'web' } },
      spec: { address: r.address, weight: i === 2 ? 2 : 1, nodeName: r.node },
    })),
    {
      apiVersion: 'lvs.dev/v1alpha1', kind: 'VirtualService', metadata: { name: 'app', namespace: ns },
      spec: {
        vip: c.vips.nat, port: 80, protocol: 'TCP', scheduler: 'rr', forwarding: { method: 'NAT' },
        backends: { service: { name: 'app', port: 'http' } },
        healthCheck: { type: 'HTTP', intervalSeconds: 2, timeoutSeconds: 1, rise: 1, fall: 2, http: { path: '/' } },
        directorGroup: 'edge',
      },
    },
  ];
}

/**
 * Active-active (docs/bgp.md): a BGP DirectorGroup on the same two directors, announcing its VIP
 * to the cluster file's routers, and the web and echo services on it by DR, to the same real
 * servers. The scheduler is left to the group's default (mh with mh-port). BFD at 0.5 s x 5, as
 * the lab's router (e2e/lab-cluster.ts).
 */
export function bgpObjects(c: ClusterConfig): object[] {
  const b = c.bgp;
  if (!b) return [];
  return [
    {
      apiVersion: 'lvs.dev/v1alpha1', kind: 'DirectorGroup', metadata: { name: 'edge-bgp' },
      spec: {
        nodeSelector: { matchLabels: { [labels.director]: 'edge' } }, interface: c.interface, announce: 'BGP',
        bgp: { localASN: b.localASN, peers: b.peers, bfd: { intervalMs: 500, multiplier: 5 } },
      },
    },
    ...([['www-bgp', 80], ['echo-bgp', echoPort]] as const).map(([name, port]) => ({
      apiVersion: 'lvs.dev/v1alpha1', kind: 'VirtualService', metadata: { name, namespace: 'e2e' },
      spec: {
        vip: b.vip, port, protocol: 'TCP', forwarding: { method: 'DR' },
        backends: { realServerSelector: { matchLabels: { app: 'web' } } },
        healthCheck: { type: 'TCP', intervalSeconds: 2, timeoutSeconds: 1, rise: 1, fall: 2 },
        directorGroup: 'edge-bgp',
      },
    })),
  ];
}
