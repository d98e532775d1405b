// A real etcd + kube-apiserver for the API test tier (and anything else that needs a
// control plane on this machine). The binaries come from scripts/k8s-bins.sh, built
// from Go modules and cached outside the repo. Everything lives in one temp dir that
// stop() removes; the processes die on stop(), on process exit, and (through a shell
// watchdog on their stdin) even when this process is killed outright.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';
import { base64File, createPki, issueClientCert, type CertFiles } from './pki.js';
import { isAlive } from '../lab/reaper.js';

const repoRoot = resolve(fileURLToPath(new URL('../..', import.meta.url)));

export interface ApiServerOptions {
  /** Directory with kube-apiserver, etcd and kubectl; default: build/reuse via scripts/k8s-bins.sh. */
  binDir?: string;
  /** Extra kube-apiserver flags, e.g. ['--feature-gates=...']. */
  apiServerArgs?: string[];
  /** How long etcd + kube-apiserver may take to become ready (default 120 s: 2 shared cores). */
  startupTimeoutMs?: number;
  /** Service CIDR; its first address is the `kubernetes` Service IP. */
  serviceClusterIpRange?: string;
  /**
   * Also serve on this address (in the serving certificate, and bound on all addresses), for
   * clients outside the host's loopback such as agents in lab kernels.
   */
  externalAddress?: string;
  /**
   * Advertise this address (with `externalAddress`): the `kubernetes` Service's endpoints point at
   * it, so pods on real lab nodes reach the API server through kube-proxy and 10.96.0.1.
   */
  advertiseAddress?: string;
}

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface KubectlOptions {
  /** Kubeconfig to use instead of the admin one (e.g. from kubeconfigFor). */
  kubeconfig?: string;
  /** Written to kubectl's stdin, for `apply -f -`. */
  input?: string;
}

/** What a test needs to talk to a harness API server; see connectApiServer. */
export interface ApiConnection {
  /** Admin kubeconfig (client cert in system:masters). */
  kubeconfigPath: string;
  /** https://127.0.0.1:<port> */
  server: string;
  /** Directory with kube-apiserver, kubectl, etcd and helm. */
  binDir: string;
  /** Runs kubectl against the admin kubeconfig (or opts.kubeconfig); never throws on exit codes. */
  kubectl(args: string[], opts?: KubectlOptions): Promise<KubectlResult>;
  /** Kubeconfig for a client-certificate user (CN=user, O=each group). No rights unless RBAC grants them. */
  kubeconfigFor(user: string, groups?: string[]): Promise<string>;
  /**
   * Kubeconfig with a 1 h bound token of a ServiceAccount, which is created if missing. With
   * `pod`, the token is bound to that pod (of this ServiceAccount): a pod on a node gives a token
   * whose user carries the node's name, as a kubelet-mounted token does.
   */
  kubeconfigForServiceAccount(namespace: string, name: string, pod?: string): Promise<string>;
}

export interface ApiServer extends ApiConnection {
  /** Temp dir with the PKI, kubeconfigs, etcd data and the logs etcd.log and kube-apiserver.log. */
  workDir: string;
  /** CA that signs the serving and all client certificates. */
  caFile: string;
  /** Stops kube-apiserver and etcd and removes workDir. Idempotent. */
  stop(): Promise<void>;
}

/** Runs scripts/k8s-bins.sh (cheap once cached) and returns its bin dir; LVS_K8S_BIN_DIR overrides. */
export async function ensureK8sBins(): Promise<string> {
  const fromEnv = process.env['LVS_K8S_BIN_DIR'];
  if (fromEnv) return fromEnv;
  const script = join(repoRoot, 'scripts', 'k8s-bins.sh');
  const child = spawn('bash', [script], { stdio: ['ignore', 'pipe', 'inherit'] });
  let stdout = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  const code = await waitExit(child);
  const binDir = stdout.trim().split('\n').pop() ?? '';
  if (code !== 0 || !binDir) {
    throw new Error(`${script} failed (exit ${code}); its progress lines are above. stdout:\n${stdout}`);
  }
  return binDir;
}

export async function startApiServer(opts: ApiServerOptions = {}): Promise<ApiServer> {
  const binDir = opts.binDir ?? (await ensureK8sBins());
  sweepOrphanWorkDirs();
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(binDir, opts);
    } catch (err) {
      // Free ports are picked before the servers bind them; another process may win the race.
      if (attempt < 3 && /address already in use/.test((err as Error).message)) continue;
      throw err;
    }
  }
}

async function startOnce(binDir: string, opts: ApiServerOptions): Promise<ApiServer> {
  const workDir = mkdtempSync(join(tmpdir(), WORKDIR_PREFIX));
  writeFileSync(join(workDir, OWNER_FILE), String(process.pid));
  // LVS_API_KEEP_WORKDIR=1 keeps certs, etcd data and logs for a post-mortem.
  const removeWorkDir = (): void => {
    if (process.env['LVS_API_KEEP_WORKDIR'] !== '1') rmSync(workDir, { recursive: true, force: true });
  };
  const procs: Proc[] = [];
  const cleanup = (): void => {
    for (const p of procs) p.killNow();
    removeWorkDir();
  };
  liveCleanups.add(cleanup);
  try {
    return await boot(binDir, workDir, procs, cleanup, removeWorkDir, opts);
  } catch (err) {
    liveCleanups.delete(cleanup);
    await Promise.all(procs.map((p) => p.stop()));
    removeWorkDir();
    throw err;
  }
}

const WORKDIR_PREFIX = 'lvs-apiserver-';
const OWNER_FILE = 'owner.pid';

// A test process killed outright (SIGKILL, OOM) cannot remove its work dir; the
// watchdog still ends its servers. The next start removes such dirs.
function sweepOrphanWorkDirs(): void {
  for (const entry of readdirSync(tmpdir())) {
    if (!entry.startsWith(WORKDIR_PREFIX)) continue;
    const dir = join(tmpdir(), entry);
    let owner: number;
    try {
      owner = Number(readFileSync(join(dir, OWNER_FILE), 'utf8'));
    } catch {
      continue; // being created right now, or not ours
    }
    if (!Number.isInteger(owner) || owner <= 0 || isAlive(owner)) continue;
    rmSync(dir, { recursive: true, force: true });
  }
}

async function boot(
  binDir: string,
  workDir: string,
  procs: Proc[],
  cleanup: () => void,
  removeWorkDir: () => void,
  opts: ApiServerOptions,
): Promise<ApiServer> {
  const deadline = Date.now() + (opts.startupTimeoutMs ?? 120_000);
  const serviceRange = opts.serviceClusterIpRange ?? '10.96.0.0/24';
  const pki = await createPki(workDir, firstIp(serviceRange), opts.externalAddress ? [opts.externalAddress] : []);
  const admin = await issueClientCert(workDir, 'admin', 'lvs-test-admin', ['system:masters']);

  const [etcdClient, etcdPeer, apiPort] = await freePorts(3);
  const etcdUrl = `http://127.0.0.1:${etcdClient}`;
  const peerUrl = `http://127.0.0.1:${etcdPeer}`;
  const etcd = startProc('etcd', join(binDir, 'etcd'), workDir, [
    '--name=test',
    `--data-dir=${join(workDir, 'etcd-data')}`,
    `--listen-client-urls=${etcdUrl}`,
    `--advertise-client-urls=${etcdUrl}`,
    `--listen-peer-urls=${peerUrl}`,
    `--initial-advertise-peer-urls=${peerUrl}`,
    `--initial-cluster=test=${peerUrl}`,
    // Throwaway data: skip fsync, the slowest part of etcd on a shared disk.
    '--unsafe-no-fsync',
    '--log-level=warn',
  ]);
  procs.push(etcd);
  await waitFor('etcd', etcd, deadline, async () => {
    const res = await fetch(`${etcdUrl}/health`);
    const body = (await res.json()) as { health?: string };
    return body.health === 'true' ? true : `health: ${JSON.stringify(body)}`;
  });

  const server = `https://127.0.0.1:${apiPort}`;
  const apiserver = startProc('kube-apiserver', join(binDir, 'kube-apiserver'), workDir, [
    `--etcd-servers=${etcdUrl}`,
    `--bind-address=${opts.externalAddress ? '0.0.0.0' : '127.0.0.1'}`,
    `--advertise-address=${opts.advertiseAddress ?? '127.0.0.1'}`,
    // The `kubernetes` Service may not point at a loopback address: without an advertised
    // address the reconciler would log a validation error every 10 s, and nothing runs in-cluster.
    `--endpoint-reconciler-type=${opts.advertiseAddress ? 'lease' : 'none'}`,
    // kubectl logs/exec on lab nodes: the API server calls kubelets as the admin.
    `--kubelet-client-certificate=${admin.cert}`,
    `--kubelet-client-key=${admin.key}`,
    '--kubelet-preferred-address-types=InternalIP',
    `--secure-port=${apiPort}`,
    `--tls-cert-file=${pki.serving.cert}`,
    `--tls-private-key-file=${pki.serving.key}`,
    `--client-ca-file=${pki.ca.cert}`,
    '--authorization-mode=Node,RBAC',
    `--service-account-issuer=https://kubernetes.default.svc.cluster.local`,
    `--service-account-key-file=${pki.serviceAccountPublicKey}`,
    `--service-account-signing-key-file=${pki.serviceAccountPrivateKey}`,
    `--service-cluster-ip-range=${serviceRange}`,
    '--allow-privileged=true',
    '--profiling=false',
    `--cert-dir=${join(workDir, 'apiserver-certs')}`,
    ...(opts.apiServerArgs ?? []),
  ]);
  procs.push(apiserver);
  await waitFor('kube-apiserver', apiserver, deadline, async () => {
    const { status, body } = await httpsGet(`${server}/readyz?verbose`, pki.ca.cert, admin);
    return status === 200 ? true : `/readyz ${status}: ${lastLines(body, 8)}`;
  });

  // The admin kubeconfig sits beside the CA key: connectApiServer finds the PKI through it.
  const kubeconfigPath = join(workDir, ADMIN_KUBECONFIG);
  await writeKubeconfig(kubeconfigPath, server, pki.ca.cert, 'lvs-test-admin', {
    'client-certificate-data': await base64File(admin.cert),
    'client-key-data': await base64File(admin.key),
  });

  let stopped: Promise<void> | undefined;
  return {
    ...connectApiServer(kubeconfigPath, binDir),
    workDir,
    caFile: pki.ca.cert,
    stop() {
      stopped ??= (async () => {
        liveCleanups.delete(cleanup);
        // API server first so it does not log a storm of etcd errors on the way down.
        await apiserver.stop();
        await etcd.stop();
        removeWorkDir();
      })();
      return stopped;
    },
  };
}

const ADMIN_KUBECONFIG = 'admin.kubeconfig';

/**
 * Rebuilds the helpers from an admin kubeconfig written by startApiServer, e.g. in a
 * vitest worker: `connectApiServer(inject('kubeconfig'), inject('binDir'))`.
 * kubeconfigFor needs the harness CA beside that kubeconfig; the rest works with any.
 */
export function connectApiServer(kubeconfigPath: string, binDir: string): ApiConnection {
  const doc = parse(readFileSync(kubeconfigPath, 'utf8')) as {
    clusters?: { cluster?: { server?: string } }[];
  };
  const server = doc.clusters?.[0]?.cluster?.server;
  if (!server) throw new Error(`${kubeconfigPath}: no clusters[0].cluster.server`);
  const pkiDir = dirname(kubeconfigPath);
  const caFile = join(pkiDir, 'ca.crt');

  const kubectl = (args: string[], o: KubectlOptions = {}): Promise<KubectlResult> =>
    runKubectl(join(binDir, 'kubectl'), o.kubeconfig ?? kubeconfigPath, args, o.input);

  // Random names: several vitest workers may issue certs into the same dir at once.
  const fileName = (prefix: string): string => `${prefix}-${randomBytes(4).toString('hex')}`;

  return {
    kubeconfigPath,
    server,
    binDir,
    kubectl,
    async kubeconfigFor(user, groups = []) {
      if (!existsSync(join(pkiDir, 'ca.key'))) {
        throw new Error(`kubeconfigFor: no harness CA key beside ${kubeconfigPath}`);
      }
      const name = fileName('user');
      const cert = await issueClientCert(pkiDir, name, user, groups);
      const path = join(pkiDir, `${name}.kubeconfig`);
      await writeKubeconfig(path, server, caFile, user, {
        'client-certificate-data': await base64File(cert.cert),
        'client-key-data': await base64File(cert.key),
      });
      return path;
    },
    async kubeconfigForServiceAccount(namespace, name, pod) {
      const created = await kubectl(['create', 'serviceaccount', name, '-n', namespace]);
      if (created.code !== 0 && !/AlreadyExists|already exists/.test(created.stderr)) {
        throw new Error(`kubectl create serviceaccount ${namespace}/${name}: ${created.stderr}`);
      }
      const bound = pod ? ['--bound-object-kind=Pod', `--bound-object-name=${pod}`] : [];
      const token = await kubectl(['create', 'token', name, '-n', namespace, '--duration=1h', ...bound]);
      if (token.code !== 0) throw new Error(`kubectl create token ${namespace}/${name}: ${token.stderr}`);
      const path = join(pkiDir, `${fileName(`sa-${namespace}-${name}${pod ? `-${pod}` : ''}`)}.kubeconfig`);
      await writeKubeconfig(path, server, caFile, `system:serviceaccount:${namespace}:${name}`, {
        token: token.stdout.trim(),
      });
      return path;
    },
  };
}

// ---- processes ----

interface Proc {
  name: string;
  logFile: string;
  /** Exit code once the process has ended, else undefined. */
  exitCode(): number | undefined;
  exited: Promise<number>;
  stop(): Promise<void>;
  /** Synchronous SIGKILL of the whole process group, for 'exit' handlers. */
  killNow(): void;
}

// The server runs under a bash watchdog in its own process group. The watchdog reads
// our end of a pipe on fd 3: EOF (stop(), or this process dying in any way) makes it
// TERM the server, then KILL it 10 s later if it still runs.
const WATCHDOG = [
  'exec 3<&0 </dev/null',
  '"$@" &',
  'pid=$!',
  '{ read -r _ <&3; kill -TERM "$pid"; sleep 10; kill -KILL "$pid"; } >/dev/null 2>&1 &',
  'wait "$pid"',
].join('\n');

function startProc(name: string, bin: string, workDir: string, args: string[]): Proc {
  const logFile = join(workDir, `${name}.log`);
  const fd = openSync(logFile, 'a');
  const child = spawn('bash', ['-c', WATCHDOG, name, bin, ...args], {
    stdio: ['pipe', fd, fd],
    detached: true,
  });
  closeSync(fd);
  // A forgotten stop() must not keep the test process alive; the watchdog still cleans up.
  child.unref();
  (child.stdin as unknown as { unref?: () => void }).unref?.();
  let code: number | undefined;
  const exited = waitExit(child).then((c) => (code = c));
  // The group outlives bash while the watchdog sleeps, so this also runs after exit.
  const killNow = (): void => {
    if (child.pid === undefined) return;
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  };
  return {
    name,
    logFile,
    exitCode: () => code,
    exited,
    killNow,
    async stop() {
      if (code !== undefined) return;
      child.stdin?.end();
      const timer = setTimeout(killNow, 15_000);
      await exited;
      clearTimeout(timer);
      killNow(); // the watchdog's sleep, if it is still around
    },
  };
}

function waitExit(child: ChildProcess): Promise<number> {
  return new Promise((resolveExit) => {
    child.once('error', () => resolveExit(127));
    child.once('exit', (c, sig) => resolveExit(c ?? (sig ? 128 : 1)));
  });
}

const liveCleanups = new Set<() => void>();
process.once('exit', () => {
  for (const c of liveCleanups) c();
});

async function waitFor(
  what: string,
  proc: Proc,
  deadline: number,
  probe: () => Promise<true | string>,
): Promise<void> {
  let last = 'no answer yet';
  for (;;) {
    const code = proc.exitCode();
    if (code !== undefined) {
      throw new Error(`${what} exited with code ${code} during startup. Last log lines (${proc.logFile}):\n${tail(proc.logFile)}`);
    }
    try {
      const r = await probe();
      if (r === true) return;
      last = r;
    } catch (err) {
      last = (err as Error).message;
    }
    if (Date.now() > deadline) {
      throw new Error(`${what} not ready in time; last probe: ${last}\nLast log lines (${proc.logFile}):\n${tail(proc.logFile)}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

function tail(file: string, lines = 40): string {
  try {
    return lastLines(readFileSync(file, 'utf8'), lines);
  } catch {
    return '(no log)';
  }
}

function lastLines(text: string, n: number): string {
  return text.trimEnd().split('\n').slice(-n).join('\n');
}

// ---- network ----

async function freePorts(n: number): Promise<number[]> {
  // Hold all listeners open at once so the kernel hands out distinct ports.
  const servers = await Promise.all(
    Array.from({ length: n }, () =>
      new Promise<ReturnType<typeof createServer>>((res, rej) => {
        const s = createServer();
        s.once('error', rej);
        s.listen(0, '127.0.0.1', () => res(s));
      }),
    ),
  );
  const ports = servers.map((s) => {
    const addr = s.address();
    if (addr === null || typeof addr === 'string') throw new Error('no TCP address');
    return addr.port;
  });
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

function httpsGet(url: string, caFile: string, client: CertFiles): Promise<{ status: number; body: string }> {
  return new Promise((res, rej) => {
    const req = request(
      url,
      {
        ca: readFileSync(caFile),
        cert: readFileSync(client.cert),
        key: readFileSync(client.key),
        timeout: 5_000,
      },
      (r) => {
        let body = '';
        r.setEncoding('utf8').on('data', (d: string) => (body += d));
        r.on('end', () => res({ status: r.statusCode ?? 0, body }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', rej);
    req.end();
  });
}

function firstIp(cidr: string): string {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)\/\d+$/.exec(cidr);
  if (!m) throw new Error(`serviceClusterIpRange must be an IPv4 CIDR, got ${cidr}`);
  return `${m[1]}.${m[2]}.${m[3]}.${Number(m[4]) + 1}`;
}

// ---- kubeconfig and kubectl ----

async function writeKubeconfig(
  path: string,
  server: string,
  caFile: string,
  user: string,
  credentials: Record<string, string>,
): Promise<void> {
  const doc = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'lvs-test', cluster: { server, 'certificate-authority-data': await base64File(caFile) } }],
    users: [{ name: user, user: credentials }],
    contexts: [{ name: 'lvs-test', context: { cluster: 'lvs-test', user } }],
    'current-context': 'lvs-test',
  };
  await writeFile(path, stringify(doc), { mode: 0o600 });
}

function runKubectl(bin: string, kubeconfig: string, args: string[], input?: string): Promise<KubectlResult> {
  return runTool(bin, [`--kubeconfig=${kubeconfig}`, ...args], input);
}

/**
 * Runs a Kubernetes CLI (kubectl, helm) with `input` on stdin; never throws on exit codes. Only
 * explicit kubeconfigs count: a KUBECONFIG in the environment must not leak in.
 */
export function runTool(bin: string, args: string[], input?: string): Promise<KubectlResult> {
  const env = { ...process.env };
  delete env['KUBECONFIG'];
  const child = spawn(bin, args, { stdio: ['pipe', 'pipe', 'pipe'], env });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  // A command that exits without reading its stdin (most do) closes the pipe, and the write then
  // fails with EPIPE: the exit code and stderr are the outcome, the failed write is not.
  child.stdin.on('error', () => undefined);
  child.stdin.end(input ?? '');
  return new Promise((res) => {
    child.once('error', (err) => res({ code: 127, stdout, stderr: stderr + String(err) }));
    child.once('close', (code, sig) => res({ code: code ?? (sig ? 128 : 1), stdout, stderr }));
  });
}
