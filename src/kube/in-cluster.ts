// The in-cluster path every Kubernetes client takes in a pod (client-go's rest.InClusterConfig):
// the API server from KUBERNETES_SERVICE_HOST/PORT, the service account's CA and token from their
// projected files. Done here so an agent or controller pod never loads @kubernetes/client-node
// (most of the production dependencies; seconds to import in the lab kernel).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ClusterAccess } from './config.js';

export const serviceAccountDir = '/var/run/secrets/kubernetes.io/serviceaccount';

/** The kubelet rotates projected tokens; client-go re-reads the file once a minute. */
const tokenRereadMs = 60_000;

export interface InClusterOptions {
  env?: NodeJS.ProcessEnv;
  dir?: string;
  now?: () => number;
}

/** Whether this process runs in a pod with a service account mounted (KUBERNETES_SERVICE_HOST set). */
export function inCluster(env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(env.KUBERNETES_SERVICE_HOST && env.KUBERNETES_SERVICE_PORT);
}

export function inClusterAccess(o: InClusterOptions = {}): ClusterAccess {
  const env = o.env ?? process.env;
  const dir = o.dir ?? serviceAccountDir;
  const now = o.now ?? Date.now;
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT;
  if (!host || !port) throw new Error('in-cluster: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be set (not running in a pod?)');
  const read = (file: string): Buffer => {
    try {
      return readFileSync(join(dir, file));
    } catch (err) {
      throw new Error(`in-cluster: cannot read the service account's ${file} in ${dir}: ${(err as Error).message}`);
    }
  };
  const ca = read('ca.crt');
  let namespace: string | undefined;
  try {
    namespace = readFileSync(join(dir, 'namespace'), 'utf8').trim() || undefined;
  } catch {
    namespace = undefined; // optional, as in client-go
  }
  let token = { text: '', readAt: -Infinity };
  const currentToken = (): string => {
    if (now() - token.readAt >= tokenRereadMs) {
      const text = read('token').toString('utf8').trim();
      if (!text) throw new Error(`in-cluster: the service account token in ${dir} is empty`);
      token = { text, readAt: now() };
    }
    return token.text;
  };
  currentToken();
  return {
    server: `https://${host.includes(':') ? `[${host}]` : host}:${port}`,
    source: 'in-cluster',
    namespace,
    requestOptions: () => Promise.resolve({ ca, headers: { Authorization: `Bearer ${currentToken()}` } }),
  };
}
