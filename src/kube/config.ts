import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, dirname, isAbsolute, join } from 'node:path';
import { parse } from 'yaml';

/**
 * How to reach and authenticate to the API server. This is ours rather than
 * @kubernetes/client-node's KubeConfig because client-node 2.x cannot even be imported on
 * Node 20 (its undici 8 needs Node >= 22.19); `fromClientNodeKubeConfig` adapts a
 * KubeConfig for whoever runs on a newer Node and needs its extra auth providers.
 */
export interface ClusterAccess {
  /** `https://host:port`. */
  readonly server: string;
  /** TLS material (fixed for the life of the process) and headers (may rotate: tokens). */
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

interface KubeconfigExec {
  apiVersion?: string;
  command: string;
  args?: string[];
  env?: { name: string; value: string }[] | null;
}

interface KubeconfigUser {
  'client-certificate'?: string;
  'client-certificate-data'?: string;
  'client-key'?: string;
  'client-key-data'?: string;
  token?: string;
  tokenFile?: string;
  username?: string;
  password?: string;
  exec?: KubeconfigExec;
  'auth-provider'?: unknown;
}

interface KubeconfigCluster {
  server: string;
  'certificate-authority'?: string;
  'certificate-authority-data'?: string;
  'insecure-skip-tls-verify'?: boolean;
  'tls-server-name'?: string;
}

interface Named<T> {
  name: string;
  /** Directory of the file it came from: relative paths inside resolve against it. */
  dir: string;
  value: T;
}

interface Merged {
  clusters: Named<KubeconfigCluster>[];
  users: Named<KubeconfigUser>[];
  contexts: Named<{ cluster: string; user: string; namespace?: string }>[];
  currentContext: string | undefined;
  files: string[];
}

/** KUBECONFIG semantics: several files, the first to define a name or the current context wins. */
function readKubeconfigs(files: string[]): Merged {
  const m: Merged = { clusters: [], users: [], contexts: [], currentContext: undefined, files };
  for (const file of files) {
    const doc = (parse(readFileSync(file, 'utf8')) ?? {}) as {
      clusters?: { name: string; cluster: KubeconfigCluster }[] | null;
      users?: { name: string; user: KubeconfigUser }[] | null;
      contexts?: { name: string; context: { cluster: string; user: string; namespace?: string } }[] | null;
      'current-context'?: string;
    };
    const dir = dirname(file);
    for (const c of doc.clusters ?? []) if (!m.clusters.some((x) => x.name === c.name)) m.clusters.push({ name: c.name, dir, value: c.cluster });
    for (const u of doc.users ?? []) if (!m.users.some((x) => x.name === u.name)) m.users.push({ name: u.name, dir, value: u.user ?? {} });
    for (const c of doc.contexts ?? []) if (!m.contexts.some((x) => x.name === c.name)) m.contexts.push({ name: c.name, dir, value: c.context });
    m.currentContext ??= doc['current-context'] || undefined;
  }
  return m;
}

function fileOrData(dir: string, file: string | undefined, data: string | undefined): Buffer | undefined {
  if (data) return Buffer.from(data, 'base64');
  if (file) return readFileSync(isAbsolute(file) ? file : join(dir, file));
  return undefined;
}

/** A token read from a file, re-read at most once a minute (kubelet rotates projected tokens). */
function tokenFromFile(path: string): () => string {
  let cached = '';
  let readAt = 0;
  return () => {
    if (Date.now() - readAt > 60_000) {
      cached = readFileSync(path, 'utf8').trim();
      readAt = Date.now();
    }
    return cached;
  };
}

/** client.authentication.k8s.io exec plugins (EKS, GKE, OIDC helpers): token credentials, cached until they expire. */
function tokenFromExec(exec: KubeconfigExec, dir: string): () => Promise<string> {
  let cached: { token: string; until: number } | undefined;
  return async () => {
    if (cached && Date.now() < cached.until) return cached.token;
    const apiVersion = exec.apiVersion ?? 'client.authentication.k8s.io/v1';
    const env: NodeJS.ProcessEnv = { ...process.env, KUBERNETES_EXEC_INFO: JSON.stringify({ apiVersion, kind: 'ExecCredential', spec: { interactive: false } }) };
    for (const e of exec.env ?? []) env[e.name] = e.value;
    const command = exec.command.includes('/') && !isAbsolute(exec.command) ? join(dir, exec.command) : exec.command;
    const stdout = await new Promise<string>((resolve, reject) =>
      execFile(command, exec.args ?? [], { env, timeout: 60_000 }, (err, out) => (err ? reject(err) : resolve(out))),
    );
    const cred = JSON.parse(stdout) as { status?: { token?: string; expirationTimestamp?: string } };
    const token = cred.status?.token;
    if (!token) throw new Error(`exec credential plugin ${exec.command} returned no token (client certificates from exec are not supported)`);
    const expires = cred.status?.expirationTimestamp ? Date.parse(cred.status.expirationTimestamp) - 30_000 : Infinity;
    cached = { token, until: expires };
    return token;
  };
}

/** Access described by one kubeconfig context. */
export function fromKubeconfigFiles(files: string[], context?: string): ClusterAccess {
  const m = readKubeconfigs(files);
  const ctxName = context ?? m.currentContext;
  const ctx = m.contexts.find((c) => c.name === ctxName);
  if (!ctx) throw new Error(`kubeconfig ${files.join(delimiter)}: context ${JSON.stringify(ctxName)} not found`);
  const cluster = m.clusters.find((c) => c.name === ctx.value.cluster);
  if (!cluster) throw new Error(`kubeconfig: cluster ${JSON.stringify(ctx.value.cluster)} of context ${ctxName} not found`);
  const user = m.users.find((u) => u.name === ctx.value.user);
  const u = user?.value ?? {};
  if (u['auth-provider']) throw new Error('kubeconfig: legacy auth-provider users are not supported; use an exec credential plugin');
  const c = cluster.value;
  const tls = {
    ca: fileOrData(cluster.dir, c['certificate-authority'], c['certificate-authority-data']),
    cert: fileOrData(user?.dir ?? '', u['client-certificate'], u['client-certificate-data']),
    key: fileOrData(user?.dir ?? '', u['client-key'], u['client-key-data']),
    rejectUnauthorized: c['insecure-skip-tls-verify'] ? false : undefined,
    servername: c['tls-server-name'],
  };
  const fileToken = u.tokenFile ? tokenFromFile(isAbsolute(u.tokenFile) ? u.tokenFile : join(user?.dir ?? '', u.tokenFile)) : undefined;
  const execToken = u.exec ? tokenFromExec(u.exec, user?.dir ?? '') : undefined;
  return {
    server: c.server,
    source: `kubeconfig ${files.join(delimiter)} (context ${ctxName})`,
    namespace: ctx.value.namespace,
    async requestOptions() {
      const headers: Record<string, string> = {};
      const token = u.token ?? fileToken?.() ?? (execToken ? await execToken() : undefined);
      if (token) headers.Authorization = `Bearer ${token}`;
      else if (u.username !== undefined) headers.Authorization = `Basic ${Buffer.from(`${u.username}:${u.password ?? ''}`).toString('base64')}`;
      return { ...tls, headers };
    },
  };
}

const serviceAccountDir = '/var/run/secrets/kubernetes.io/serviceaccount';

/** The pod's service account, as client-go's InClusterConfig. */
export function inCluster(dir = serviceAccountDir): ClusterAccess {
  const host = process.env.KUBERNETES_SERVICE_HOST;
  const port = process.env.KUBERNETES_SERVICE_PORT;
  if (!host || !port) throw new Error('not running in a cluster: KUBERNETES_SERVICE_HOST/PORT are not set');
  const ca = readFileSync(join(dir, 'ca.crt'));
  const token = tokenFromFile(join(dir, 'token'));
  const nsFile = join(dir, 'namespace');
  return {
    server: `https://${host.includes(':') ? `[${host}]` : host}:${port}`,
    source: 'in-cluster service account',
    namespace: existsSync(nsFile) ? readFileSync(nsFile, 'utf8').trim() : undefined,
    async requestOptions() {
      return { ca, headers: { Authorization: `Bearer ${token()}` } };
    },
  };
}

/**
 * client-go's loading order: an explicit kubeconfig, else $KUBECONFIG, else the in-cluster
 * service account when running in a pod, else ~/.kube/config.
 */
export function loadClusterAccess(o: { kubeconfig?: string | undefined; context?: string | undefined } = {}): ClusterAccess {
  if (o.kubeconfig) return fromKubeconfigFiles([o.kubeconfig], o.context);
  const env = (process.env.KUBECONFIG ?? '').split(delimiter).filter((f) => f !== '' && existsSync(f));
  if (env.length > 0) return fromKubeconfigFiles(env, o.context);
  if (process.env.KUBERNETES_SERVICE_HOST) return inCluster();
  const home = join(homedir(), '.kube', 'config');
  if (existsSync(home)) return fromKubeconfigFiles([home], o.context);
  throw new Error('no Kubernetes cluster configured: give --kubeconfig, set KUBECONFIG, or run in a pod');
}

/** The part of client-node's KubeConfig this adapter needs (a type, so client-node is not loaded here). */
interface ClientNodeKubeConfig {
  getCurrentCluster(): { server: string } | null;
  applyToHTTPSOptions(opts: object): Promise<void>;
}

/** Uses a client-node KubeConfig for authentication (all its auth providers), where client-node loads. */
export function fromClientNodeKubeConfig(kc: ClientNodeKubeConfig): ClusterAccess {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('KubeConfig has no current cluster');
  return {
    server: cluster.server,
    source: 'client-node KubeConfig',
    async requestOptions() {
      const o: { ca?: Buffer; cert?: Buffer; key?: Buffer; rejectUnauthorized?: boolean; servername?: string; headers?: Record<string, string>; auth?: string } = {};
      await kc.applyToHTTPSOptions(o);
      const headers = { ...(o.headers ?? {}) };
      if (o.auth) headers.Authorization = `Basic ${Buffer.from(o.auth).toString('base64')}`;
      return { ca: o.ca, cert: o.cert, key: o.key, rejectUnauthorized: o.rejectUnauthorized, servername: o.servername, headers };
    },
  };
}
