import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Agent } from '../../../src/agent/agent.js';
import { emptyDesired } from '../../../src/agent/compile.js';
import type { SecretDataReader } from '../../../src/agent/health-secrets.js';
import { openKernel, type KernelHandles } from '../../../src/agent/kernel.js';
import { FileSource } from '../../../src/agent/source.js';
import { toNodes, waitFor, type LabNode } from '../../lab/agents.js';
import { assertInLab, run } from '../../lab/inside.js';
import { rootNs, type Netns } from '../../lab/netns.js';
import { spawnTracked } from '../../lab/reaper.js';
import { natLab, type LvsLab } from '../packets/topologies.js';
import { labDir } from '../../lab/paths.js';

// Health checks end to end on the lab kernel: the agent checks real HTTP(S) servers in the real
// servers' namespaces and the IPVS table follows; where keepalived 2.2.7 has the same feature it
// checks the same servers from a namespace of its own and both IPVS tables must agree.
const nodes: LabNode[] = [{ name: 'd1', labels: { 'lvs.dev/director': 'g1' } }];
const script = fileURLToPath(new URL('./check-server.mjs', import.meta.url));

interface CheckServer {
  name: string;
  set(line: string): void;
  stop(): Promise<void>;
}

function manifests(vip: string, rs: string[], checks: string): string {
  return [
    'apiVersion: lvs.dev/v1alpha1\nkind: DirectorGroup\nmetadata: {name: g1}\nspec:\n  nodeSelector: {matchLabels: {lvs.dev/director: g1}}\n  interface: nat-d0',
    `apiVersion: lvs.dev/v1alpha1\nkind: VirtualService\nmetadata: {name: web, namespace: t}\nspec:\n  vip: ${vip}\n  port: 80\n  protocol: TCP\n  scheduler: rr\n  forwarding: {method: NAT}\n  backends: {realServerSelector: {matchLabels: {app: web}}}\n  ${checks}\n  directorGroup: g1`,
    ...rs.map((a, i) => `apiVersion: lvs.dev/v1alpha1\nkind: RealServer\nmetadata: {name: rs${i + 1}, namespace: t, labels: {app: web}}\nspec: {address: ${a}, port: 8080}`),
  ].join('\n---\n');
}

describe('health checks on the lab kernel', () => {
  let dir: string;
  let lab: LvsLab | undefined;
  let kernel: KernelHandles | undefined;
  let agent: Agent | undefined;
  let keepalived: { log(): string; stop(): Promise<void> } | undefined;
  const servers: CheckServer[] = [];
  let log: string;

  beforeAll(() => {
    assertInLab();
    dir = mkdtempSync('/tmp/lvs-health-test-');
  });
  afterEach(async () => {
    await keepalived?.stop();
    await agent?.stop();
    await kernel?.reconciler.reconcile(emptyDesired());
    kernel?.close();
    for (const s of servers.splice(0)) await s.stop();
    await lab?.destroy();
    agent = undefined;
    kernel = undefined;
    lab = undefined;
    keepalived = undefined;
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function startServer(ns: Netns, name: string, o: { scheme?: 'http' | 'https'; port?: number; certDir?: string; clientCa?: string } = {}): Promise<CheckServer> {
    const [cmd, ...args] = ns.command(process.execPath, [script, o.scheme ?? 'http', '0.0.0.0', String(o.port ?? 8081), name, log, o.certDir ?? '', o.clientCa ?? '']);
    const { child, stop } = spawnTracked(cmd!, args, { name: `check server ${name}`, stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => { stderr += d; });
    await new Promise<void>((resolve, reject) => {
      child.stdout!.once('data', () => resolve());
      child.once('close', (code) => reject(new Error(`check server ${name} exited (${code}): ${stderr}`)));
    });
    const s = { name, set: (line: string) => void child.stdin!.write(`${line}\n`), stop };
    servers.push(s);
    return s;
  }

  /** keepalived's checker process alone (-C), in `ns`, logging to stderr. */
  async function startKeepalived(ns: Netns, label: string, conf: string): Promise<void> {
    const kdir = labDir('keepalived', label);
    rmSync(kdir, { recursive: true, force: true }); // pids repeat across lab boots: stale pid files stop keepalived
    mkdirSync(kdir, { recursive: true });
    writeFileSync(join(kdir, 'keepalived.conf'), conf);
    const [cmd, ...args] = ns.command('keepalived', ['-n', '-l', '-D', '-C', '--no-syslog', '-f', join(kdir, 'keepalived.conf'),
      '-p', join(kdir, 'keepalived.pid'), '-c', join(kdir, 'checkers.pid'), '-i', label]);
    const { child, stop } = spawnTracked(cmd!, args, { name: `keepalived ${label}`, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => { out += d; });
    child.stderr!.on('data', (d: Buffer) => { out += d; });
    keepalived = { log: () => out, stop: async () => { await stop(); rmSync(kdir, { recursive: true, force: true }); } };
  }

  /**
   * keepalived directing the same VIP from a namespace of its own (its own IPVS table), routed to
   * the real servers through the root namespace; its checks come from 10.201.9.2.
   */
  async function keepalivedBeside(label: string, delayLoop: number, checkers: string): Promise<Netns> {
    const k = await lab!.topo.ns('k');
    await lab!.topo.veth(rootNs, 'nat-k0', k, 'nat-k1');
    await rootNs.addr('nat-k0', '10.201.9.1/24');
    await k.addr('nat-k1', '10.201.9.2/24');
    await k.ip('route', 'add', 'default', 'via', '10.201.9.1');
    const rs = lab!.realServers.map((r) => `  real_server ${r.address} 8080 {\n    weight 1\n${checkers}\n  }`).join('\n');
    await startKeepalived(k, label, `global_defs { router_id ${label} }
virtual_server ${lab!.vip} 80 {
  delay_loop ${delayLoop}
  lb_algo rr
  lb_kind NAT
  protocol TCP
${rs}
}
`);
    return k;
  }

  async function startLab(): Promise<LvsLab> {
    lab = await natLab();
    log = join(dir, `requests-${Date.now()}.log`);
    writeFileSync(log, '');
    return lab;
  }

  async function startDirector(manifest: string, readSecretData?: SecretDataReader): Promise<Agent> {
    const file = join(dir, `m-${Date.now()}.yaml`);
    writeFileSync(file, manifest);
    const state = join(dir, `d1-${Date.now()}`);
    mkdirSync(state, { recursive: true });
    const source = new FileSource([file], toNodes(nodes));
    await source.reload();
    kernel = await openKernel(state);
    agent = new Agent({ node: 'd1', source, reconciler: kernel.reconciler, resyncMs: 1000, debounceMs: 5, ...(readSecretData ? { readSecretData, secretNamespace: 'lvs-system' } : {}) });
    await agent.start();
    return agent;
  }

  /** The real servers in an IPVS table, from `ipvsadm -S -n` (in `ns`), sorted. */
  async function inTable(ns: Netns = rootNs): Promise<string[]> {
    const out = (await ns.exec('ipvsadm', ['-S', '-n'])).stdout;
    return out.split('\n').filter((l) => l.startsWith('-a ')).map((l) => /-r (\S+)/.exec(l)![1]!).sort();
  }
  const requests = (): string[] => readFileSync(log, 'utf8').split('\n').filter(Boolean);
  const table = async (want: string[], ns: Netns = rootNs): Promise<boolean> => JSON.stringify(await inTable(ns)) === JSON.stringify([...want].sort());
  /** Both IPVS tables, ours and keepalived's (in `k`), hold exactly `want`. */
  const agreeing = (k: Netns) => async (want: string[]): Promise<boolean> => (await table(want)) && (await table(want, k));
  const explain = (k: Netns) => async (): Promise<string> =>
    `ours ${JSON.stringify(await inTable())}, keepalived ${JSON.stringify(await inTable(k))}\n${keepalived!.log().slice(-3000)}\n${requests().slice(-20).join('\n')}`;

  it('several checks per real server: one failing takes the server out, though the others pass', async () => {
    const { realServers: [r1, r2] } = await startLab();
    const web = [await startServer(r1!.ns, 'rs1'), await startServer(r2!.ns, 'rs2')];
    // The name servers of natLab answer TCP on 8080; the HTTP servers on 8081.
    // keepalived: a TCP_CHECK and an HTTP_GET in each real_server.
    const k = await keepalivedBeside('health-multi', 1, `    TCP_CHECK {
      connect_timeout 1
      retry 0
    }
    HTTP_GET {
      url { path /health }
      connect_port 8081
      connect_timeout 1
      retry 0
    }`);
    const agree = agreeing(k);
    const why = explain(k);
    await startDirector(manifests(lab!.vip, [r1!.address, r2!.address], `healthChecks:
  - {type: TCP, intervalSeconds: 2, timeoutSeconds: 1, fall: 1}
  - {type: HTTP, port: 8081, intervalSeconds: 2, timeoutSeconds: 1, fall: 1, http: {path: /health}}`));
    const both = [`${r1!.address}:8080`, `${r2!.address}:8080`];
    expect(await waitFor(() => agree(both), 30_000), await why()).toBe(true);
    web[0]!.set('status /health 503');
    expect(await waitFor(() => agree([`${r2!.address}:8080`]), 30_000), await why()).toBe(true);
    // The TCP check of rs1 still passes: the HTTP one alone took it out.
    expect(agent!.checker.get(`t/web|${r1!.address}|8080|0`)?.healthy).toBe(true);
    expect(agent!.checker.get(`t/web|${r1!.address}|8080|1`)?.healthy).toBe(false);
    web[0]!.set('status /health 200');
    expect(await waitFor(() => agree(both), 30_000), await why()).toBe(true);
    // And the other way round: the TCP port gone, the HTTP check passing.
    await lab!.servers[1]!.stop();
    expect(await waitFor(() => agree([`${r1!.address}:8080`]), 30_000), await why()).toBe(true);
    expect(agent!.checker.get(`t/web|${r2!.address}|8080|1`)?.healthy).toBe(true);
  });

  it('two URLs, the default status (any 2xx) and a regex: our agent and keepalived 2.2.7 keep the same real servers', async () => {
    const { realServers: [r1, r2] } = await startLab();
    const web = [await startServer(r1!.ns, 'rs1'), await startServer(r2!.ns, 'rs2')];
    for (const w of web) w.set('body /b state: up');
    const k = await keepalivedBeside('health-urls', 1, `    HTTP_GET {
      url { path /a }
      url { path /b
        regex "state: (up|ok)" }
      connect_port 8081
      connect_timeout 1
      retry 0
      delay_before_retry 1
    }`);
    await startDirector(manifests(lab!.vip, [r1!.address, r2!.address],
      'healthCheck: {type: HTTP, port: 8081, intervalSeconds: 2, timeoutSeconds: 1, fall: 1, http: {urls: [{path: /a}, {path: /b, regex: "state: (up|ok)"}]}}'));
    const both = [`${r1!.address}:8080`, `${r2!.address}:8080`];
    const agree = agreeing(k);
    const why = explain(k);
    expect(await waitFor(() => agree(both), 30_000), await why()).toBe(true);
    // The regex of /b stops matching on rs1: both take it out.
    web[0]!.set('body /b state: down');
    expect(await waitFor(() => agree([`${r2!.address}:8080`]), 30_000), await why()).toBe(true);
    // rs1 recovers; rs2's /a answers 500 (outside the default 2xx): rs2 out on both.
    web[0]!.set('body /b state: ok');
    web[1]!.set('status /a 500');
    expect(await waitFor(() => agree([`${r1!.address}:8080`]), 30_000), await why()).toBe(true);
    // 204 is inside the default 2xx on both; a 301 is not.
    web[1]!.set('status /a 204');
    expect(await waitFor(() => agree(both), 30_000), await why()).toBe(true);
    web[1]!.set('status /a 301');
    expect(await waitFor(() => agree([`${r1!.address}:8080`]), 30_000), await why()).toBe(true);
    // Both asked for both URLs of each server.
    const asked = new Set(requests().map((l) => { const [n, p, , from] = l.split(' '); return `${from === '10.201.9.2' ? 'keepalived' : 'ours'} ${n} ${p}`; }));
    for (const who of ['ours', 'keepalived']) for (const p of ['rs1 /a', 'rs1 /b', 'rs2 /a', 'rs2 /b']) expect(asked).toContain(`${who} ${p}`);
  });

  it('status codes and ranges: ["200-204", 301] keeps servers answering 204 and 301, a 205 or a 302 takes them out', async () => {
    const { realServers: [r1, r2] } = await startLab();
    const web = [await startServer(r1!.ns, 'rs1'), await startServer(r2!.ns, 'rs2')];
    web[0]!.set('status /s 301');
    web[1]!.set('status /s 204');
    const k = await keepalivedBeside('health-status', 1, `    HTTP_GET {
      url {
        path /s
        status_code 200-204 301
      }
      connect_port 8081
      connect_timeout 1
      retry 0
    }`);
    const agree = agreeing(k);
    const why = explain(k);
    await startDirector(manifests(lab!.vip, [r1!.address, r2!.address],
      'healthCheck: {type: HTTP, port: 8081, intervalSeconds: 2, timeoutSeconds: 1, fall: 1, http: {path: /s, expectedStatus: ["200-204", 301]}}'));
    const both = [`${r1!.address}:8080`, `${r2!.address}:8080`];
    expect(await waitFor(() => agree(both), 30_000), await why()).toBe(true);
    web[1]!.set('status /s 205');
    expect(await waitFor(() => agree([`${r1!.address}:8080`]), 30_000), await why()).toBe(true);
    web[0]!.set('status /s 302');
    expect(await waitFor(() => agree([]), 30_000), await why()).toBe(true);
  });

  it('HTTPS with a client certificate from a kubernetes.io/tls Secret, against servers that require one', async () => {
    const { realServers: [r1, r2] } = await startLab();
    const certDir = join(dir, 'server-tls');
    const clientDir = join(dir, 'client-tls');
    for (const [d, cn] of [[certDir, 'rs'], [clientDir, 'lvs-director']] as const) {
      mkdirSync(d, { recursive: true });
      await run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', join(d, 'key.pem'), '-out', join(d, 'cert.pem'), '-days', '1', '-subj', `/CN=${cn}`]);
    }
    for (const [i, r] of [r1!, r2!].entries()) await startServer(r.ns, `rs${i + 1}`, { scheme: 'https', port: 8443, certDir, clientCa: join(clientDir, 'cert.pem') });
    let secret: Record<string, string> | undefined;
    const reads: string[] = [];
    const reader: SecretDataReader = async (namespace, name) => {
      reads.push(`${namespace}/${name}`);
      return secret;
    };
    await startDirector(manifests(lab!.vip, [r1!.address, r2!.address],
      'healthCheck: {type: HTTPS, port: 8443, intervalSeconds: 2, timeoutSeconds: 1, fall: 1, http: {clientCertificateSecret: probe-client}}'), reader);
    // No Secret yet: the checks fail saying so, and no server is in.
    expect(reads).toContain('lvs-system/probe-client');
    await waitFor(() => (agent!.checker.get(`t/web|${r1!.address}|8080|0`)?.lastResult?.reason ?? '') !== '', 10_000);
    expect(agent!.checker.get(`t/web|${r1!.address}|8080|0`)?.lastResult?.reason).toBe('client certificate Secret lvs-system/probe-client not found');
    expect(await inTable()).toEqual([]);
    // The Secret appears: read at the next resync, the certificate is presented and both come in.
    secret = { 'tls.crt': readFileSync(join(clientDir, 'cert.pem')).toString('base64'), 'tls.key': readFileSync(join(clientDir, 'key.pem')).toString('base64') };
    expect(await waitFor(() => table([`${r1!.address}:8080`, `${r2!.address}:8080`]), 20_000)).toBe(true);
    // A certificate the servers do not trust is refused in the handshake: both go out.
    secret = { 'tls.crt': readFileSync(join(certDir, 'cert.pem')).toString('base64'), 'tls.key': readFileSync(join(certDir, 'key.pem')).toString('base64') };
    expect(await waitFor(() => table([]), 20_000)).toBe(true);
    expect(requests().some((l) => l.startsWith('rs1 tls refused'))).toBe(true);
  });

  it('retryDelaySeconds: a failing server is retried quickly and taken out after fall attempts, counted at the server', async () => {
    const { realServers: [r1, r2] } = await startLab();
    const web = [await startServer(r1!.ns, 'rs1'), await startServer(r2!.ns, 'rs2')];
    // keepalived: retry 2 is fall 3.
    const k = await keepalivedBeside('health-retry', 8, `    HTTP_GET {
      url { path /h }
      connect_port 8081
      connect_timeout 1
      retry 2
      delay_before_retry 1
    }`);
    const agree = agreeing(k);
    const why = explain(k);
    await startDirector(manifests(lab!.vip, [r1!.address, r2!.address],
      'healthCheck: {type: HTTP, port: 8081, intervalSeconds: 8, timeoutSeconds: 1, retryDelaySeconds: 1, fall: 3, http: {path: /h}}'));
    expect(await waitFor(() => agree([`${r1!.address}:8080`, `${r2!.address}:8080`]), 30_000), await why()).toBe(true);
    // keepalived starts its real servers up and takes one down at its first failure before a first
    // pass (retry_it = retry at start): let it pass rs1 once, so its retries count from there.
    expect(await waitFor(() => requests().includes('rs1 /h 200 10.201.9.2'), 30_000)).toBe(true);
    web[0]!.set('status /h 503');
    expect(await waitFor(() => agree([`${r2!.address}:8080`]), 40_000), await why()).toBe(true);
    // In arrival order, for each checker (ours from the root namespace, keepalived from
    // 10.201.9.2): rs1 went down after its third failed attempt, one retry delay apart, so
    // rs2 (checked every 8 s) was asked at most once between the first and the third.
    for (const keepalivedOnes of [false, true]) {
      const seq = requests().filter((l) => (l.endsWith(' 10.201.9.2') === keepalivedOnes));
      const fails = seq.flatMap((l, i) => (l.startsWith('rs1 /h 503') ? [i] : []));
      expect(fails.length, seq.join('\n')).toBeGreaterThanOrEqual(3);
      const between = seq.slice(fails[0], fails[2]).filter((l) => l.startsWith('rs2 ')).length;
      expect(between, seq.join('\n')).toBeLessThanOrEqual(1);
    }
  });
});
