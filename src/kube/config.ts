import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { inCluster, inClusterAccess } from './in-cluster.js';
import { staticKubeconfig } from './kubeconfig-file.js';

/**
 * How to reach and authenticate to the API server. In a pod: the service account (in-cluster.ts),
 * without @kubernetes/client-node, and kubeconfig files whose credentials are data (certificates,
 * tokens) too (kubeconfig-file.ts); files with exec or auth-provider plugins are client-node's
 * KubeConfig, loaded only then. Our transport (http.ts)
 * only asks for the TLS material and headers of each request.
 */
export interface ClusterAccess {
  /** `https://host:port`. */
  readonly server: string;
  /** TLS material and headers, asked for each request (tokens may rotate). */
  requestOptions(): Promise<RequestAuth>;
  /** Where this came from, for logs. */
  readonly source: string;
  /** Default namespace of the context (in-cluster: the pod's namespace). */
  readonly namespace?: string | undefined;
}

export interface RequestAuth {
  ca?: Buffer | undefined;
  cert?: Buffer | undefined;
  key?: Buffer | undefined;
  rejectUnauthorized?: boolean | undefined;
  servername?: string | undefined;
  headers: Record<string, string>;
}

/** The part of client-node's KubeConfig the adapter needs. */
interface ClientNodeKubeConfig {
  currentContext: string;
  getCurrentCluster(): { server: string } | null;
  getContextObject(name: string): { namespace?: string } | null;
  applyToHTTPSOptions(opts: object): Promise<void>;
}

/** Adapts a loaded client-node KubeConfig. */
export function fromClientNodeKubeConfig(kc: ClientNodeKubeConfig, source = 'kubeconfig'): ClusterAccess {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error(`${source}: no current cluster`);
  return {
    server: cluster.server,
    source,
    namespace: kc.getContextObject(kc.currentContext)?.namespace,
    async requestOptions() {
      const o: { ca?: Buffer; cert?: Buffer; key?: Buffer; rejectUnauthorized?: boolean; servername?: string; headers?: Record<string, string>; auth?: string } = {};
      await kc.applyToHTTPSOptions(o);
      const headers = { ...(o.headers ?? {}) };
      if (o.auth) headers.Authorization = `Basic ${Buffer.from(o.auth).toString('base64')}`;
      return { ca: o.ca, cert: o.cert, key: o.key, rejectUnauthorized: o.rejectUnauthorized, servername: o.servername, headers };
    },
  };
}

/** client-node, loaded on first use: only kubeconfig files need it. */
const clientNode = () => import('@kubernetes/client-node');

/**
 * One kubeconfig file, optionally with another context than its current one: read directly when
 * its credentials are data (kubeconfig-file.ts), through client-node for plugins.
 */
export async function fromKubeconfigFile(file: string, context?: string): Promise<ClusterAccess> {
  const plain = staticKubeconfig(file, context);
  if (plain) return plain;
  const kc = new (await clientNode()).KubeConfig();
  kc.loadFromFile(file);
  if (context) kc.setCurrentContext(context);
  return fromClientNodeKubeConfig(kc, file);
}

/**
 * An explicit kubeconfig, else client-node's default order: $KUBECONFIG, ~/.kube/config, the
 * in-cluster service account (which alone needs no client-node).
 */
export async function loadClusterAccess(o: { kubeconfig?: string | undefined; context?: string | undefined; serviceAccountDir?: string | undefined } = {}): Promise<ClusterAccess> {
  if (o.kubeconfig) return fromKubeconfigFile(o.kubeconfig, o.context);
  const kubeconfigFound = Boolean(process.env.KUBECONFIG) || existsSync(join(homedir(), '.kube', 'config'));
  if (!kubeconfigFound && !o.context && inCluster()) return inClusterAccess(o.serviceAccountDir ? { dir: o.serviceAccountDir } : {});
  // One file (not a $KUBECONFIG list to merge): read as fromKubeconfigFile does.
  const single = process.env.KUBECONFIG ? (process.env.KUBECONFIG.includes(delimiter) ? undefined : process.env.KUBECONFIG) : join(homedir(), '.kube', 'config');
  if (kubeconfigFound && single && existsSync(single)) return fromKubeconfigFile(single, o.context);
  const kc = new (await clientNode()).KubeConfig();
  kc.loadFromDefault();
  if (o.context) kc.setCurrentContext(o.context);
  if (!kc.getCurrentCluster()) throw new Error('no Kubernetes cluster configured: give --kubeconfig, set KUBECONFIG, or run in a pod');
  return fromClientNodeKubeConfig(kc, inCluster() ? 'in-cluster' : 'default kubeconfig');
}
