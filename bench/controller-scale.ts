// `npm run bench:controller [-- --virtualservices N --backends M --restart true|false --heap-snapshot DIR]`:
// the controller (and the model) at scale on the real API server, without kernels or agents.
// Starts etcd + kube-apiserver as the API tier does (test/api/harness.ts), the CRDs, a
// DirectorGroup and a Node labelled as its director (no agent runs, so every VirtualService stays
// Programmed=False/Pending), then the controller as a separate process, compiled (`npm run build`,
// `node dist/cli/main.js controller`, as the image runs it), and creates N VirtualServices x M
// RealServers of bench:converge's shapes (50 VIPs on many ports, real servers selected by label).
// Measures:
//   objects_created_ms      creating them all (32 requests at a time)
//   controller_settled_ms   from the first create until every VirtualService, RealServer and the
//                           DirectorGroup carries the controller's status for its current
//                           generation (status.observedGeneration == metadata.generation; polled
//                           through the controller's metrics, then checked once with a paged list)
//   controller_rss_mb       VmRSS at settle; controller_peak_rss_mb VmHWM
//   controller_heap_used_mb nodejs_heap_size_used_bytes at settle (prom-client's default metrics)
//   controller_cpu_s        the controller's user + system CPU time until settle
//   reconcile_passes, reconcile_seconds_sum
//   restart_*               (--restart true, the default) the controller restarted on the full
//                           cluster: time to a settled model, its first (full) pass, RSS after
// The controller runs with the chart's V8 flags (controller.nodeOptions: the heap capped below the
// pod's memory limit); LVS_CONTROLLER_NODE_FLAGS='' gives it Node's defaults instead.
// With --heap-snapshot DIR the controller runs with --heapsnapshot-signal=SIGUSR2 and writes a heap
// snapshot into DIR at settle (which also forces a full GC first; heap used is read after it).
// The machine's cores are shared with the API server and etcd (2 on the build hosts).
// Progress on stderr, one JSON object as the last line on stdout.
import { spawnSync } from 'node:child_process';
import { createWriteStream, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { createInterface } from 'node:readline';
import { KubeHttp, makeClients, type KubeClients } from '../src/kube/index.js';
import { fromKubeconfigFile } from '../src/kube/config.js';
import { startApiServer } from '../test/api/harness.js';
import { installCrds } from '../test/api/controller-kit.js';
import { spawnTracked } from '../test/lab/reaper.js';
import { projectRoot } from '../test/lab/paths.js';
import { portOf, realServerAddress, sleep, vipOf } from './shapes.js';
import { controllerNodeFlags, freePort, metrics, proc, sum } from './controller-process.js';

const { values } = parseArgs({
  options: {
    virtualservices: { type: 'string', default: '1000' },
    backends: { type: 'string', default: '10' },
    restart: { type: 'string', default: 'true' },
    'heap-snapshot': { type: 'string' },
  },
});
const services = Number(values.virtualservices);
const backends = Number(values.backends);
const log = (s: string): void => console.error(`bench: ${s}`);
const rsOf = realServerAddress(backends);

async function pool(count: number, width: number, fn: (k: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < count) await fn(next++);
  }));
}

interface Controller { pid: number; port: number; stop(): Promise<void> }

const nodeFlags = controllerNodeFlags();

const api = await startApiServer();
const snapDir = values['heap-snapshot'] ? resolve(values['heap-snapshot']) : undefined;
let controller: Controller | undefined;
try {
  log(`kube-apiserver ${api.server}; CRDs`);
  await installCrds(api);
  const objs = [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'lvs-system' } },
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'bench' } },
    { apiVersion: 'v1', kind: 'Node', metadata: { name: 'd1', labels: { 'lvs.dev/director': 'bench' } } },
    { apiVersion: 'lvs.dev/v1alpha1', kind: 'DirectorGroup', metadata: { name: 'bench' }, spec: { nodeSelector: { matchLabels: { 'lvs.dev/director': 'bench' } }, interface: 'eth0' } },
  ];
  const applied = await api.kubectl(['apply', '-f', '-'], { input: objs.map((o) => JSON.stringify(o)).join('\n') });
  if (applied.code !== 0) throw new Error(applied.stderr);

  log('building dist/ (npm run build): the controller runs compiled, as in the image');
  const build = spawnSync('npm', ['run', 'build'], { cwd: projectRoot, stdio: ['ignore', 'ignore', 'inherit'] });
  if (build.status !== 0) throw new Error('npm run build failed');
  const logDir = join(projectRoot, '.lab', 'logs', 'bench-controller');
  mkdirSync(logDir, { recursive: true });
  if (snapDir) mkdirSync(snapDir, { recursive: true });

  let starts = 0;
  const startController = async (): Promise<Controller> => {
    const port = await freePort();
    const flags = [...(snapDir ? ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${snapDir}`] : []), ...nodeFlags];
    const { child, stop } = spawnTracked(process.execPath, [...flags, join(projectRoot, 'dist/cli/main.js'), 'controller', '--kubeconfig', api.kubeconfigPath, '--metrics-port', String(port), '--metrics-host', '127.0.0.1', '--leader-election-namespace', 'lvs-system'], {
      name: 'lvs-operator controller', cwd: projectRoot, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LOG_LEVEL: process.env.LOG_LEVEL ?? 'info' },
    });
    const out = createWriteStream(join(logDir, `controller-${++starts}.log`));
    child.stderr!.pipe(out);
    await new Promise<void>((res, rej) => {
      createInterface({ input: child.stdout! }).on('line', (l) => {
        out.write(`${l}\n`);
        if (/"msg":"controller started"/.test(l)) res();
      });
      child.once('exit', (c) => rej(new Error(`controller exited (${c}); see ${logDir}`)));
    });
    return { pid: child.pid!, port, stop };
  };

  const c: KubeClients = makeClients(new KubeHttp(await fromKubeconfigFile(api.kubeconfigPath)));
  const started = Date.now();
  controller = await startController();
  log(`controller pid ${controller.pid}, metrics :${controller.port}, started in ${Date.now() - started} ms`);

  // Peak RSS is VmHWM; this samples RSS too, for progress lines.
  let sampling = true;
  const sampler = (async () => {
    let last = 0;
    while (sampling) {
      await sleep(5000);
      if (!sampling || !controller) break;
      try {
        const p = proc(controller.pid);
        if (Date.now() - last > 30_000) {
          last = Date.now();
          log(`controller rss ${Math.round(p.rss)} MB (peak ${Math.round(p.hwm)}), cpu ${p.cpu.toFixed(1)} s`);
        }
      } catch { /* restarting */ }
    }
  })();

  /** Objects whose status the controller has written, from its lvs_controller_objects gauge (one Ready condition per object). */
  const reported = async (port: number): Promise<{ vs: number; rs: number; dg: number; m: Map<string, number> }> => {
    const m = await metrics(port);
    return { vs: sum(m, 'lvs_controller_objects', 'kind="VirtualService"', 'condition="Ready"'), rs: sum(m, 'lvs_controller_objects', 'kind="RealServer"', 'condition="Ready"'), dg: sum(m, 'lvs_controller_objects', 'kind="DirectorGroup"', 'condition="Ready"'), m };
  };
  const want = { vs: services, rs: services * backends };
  const waitSettled = async (port: number, since: number, what: string): Promise<Map<string, number>> => {
    let lastLog = 0;
    for (;;) {
      const r = await reported(port);
      if (r.vs === want.vs && r.rs === want.rs && r.dg === 1) return r.m;
      if (Date.now() - lastLog > 15_000) {
        lastLog = Date.now();
        log(`${what}: statuses ${r.vs}/${want.vs} VirtualServices, ${r.rs}/${want.rs} RealServers, ${r.dg}/1 DirectorGroup; writes ${sum(r.m, 'lvs_controller_status_writes_total', 'result="success"')}`);
      }
      if (Date.now() - since > 60 * 60_000) throw new Error(`${what}: not settled after an hour`);
      await sleep(1000);
    }
  };
  /** Every object has the controller's status for its generation (a paged list of each kind). */
  const verify = async (): Promise<void> => {
    for (const [kind, client, n] of [['VirtualService', c.virtualServices, want.vs], ['RealServer', c.realServers, want.rs], ['DirectorGroup', c.directorGroups, 1]] as const) {
      const { items } = await (client as KubeClients['realServers']).list({ limit: 1000 });
      const behind = items.filter((o) => (o.status as { observedGeneration?: number } | undefined)?.observedGeneration !== o.metadata.generation);
      if (items.length !== n || behind.length > 0) throw new Error(`${kind}: ${items.length}/${n} objects, ${behind.length} without status for their generation (e.g. ${behind[0]?.metadata.name})`);
    }
  };

  log(`creating ${services} VirtualServices x ${backends} RealServers`);
  const t0 = Date.now();
  let made = 0;
  const progress = setInterval(() => log(`created ${made} objects`), 30_000);
  await pool(services * backends, 32, (k) => {
    const i = Math.floor(k / backends);
    const j = k % backends;
    made++;
    return c.realServers.create({ apiVersion: 'lvs.dev/v1alpha1', kind: 'RealServer', metadata: { name: `rs-${i}-${j}`, namespace: 'bench', labels: { vs: `vs-${i}` } }, spec: { address: rsOf(i, j), weight: 1 } } as never);
  });
  await pool(services, 32, (i) => {
    made++;
    return c.virtualServices.create({
      apiVersion: 'lvs.dev/v1alpha1', kind: 'VirtualService', metadata: { name: `vs-${i}`, namespace: 'bench' },
      spec: { vip: vipOf(i), port: portOf(i), protocol: 'TCP', scheduler: 'wrr', forwarding: { method: 'DR' }, healthCheck: { type: 'None' }, backends: { realServerSelector: { matchLabels: { vs: `vs-${i}` } } }, directorGroup: 'bench' },
    } as never);
  });
  clearInterval(progress);
  const createdMs = Date.now() - t0;
  log(`objects created in ${createdMs} ms; waiting for the controller's statuses`);
  const m = await waitSettled(controller.port, t0, 'settling');
  const settledMs = Date.now() - t0;
  const atSettle = proc(controller.pid);
  let heapUsed = sum(m, 'nodejs_heap_size_used_bytes');
  let heapTotal = sum(m, 'nodejs_heap_size_total_bytes');
  log(`settled ${settledMs} ms after the first create: rss ${Math.round(atSettle.rss)} MB, peak ${Math.round(atSettle.hwm)} MB, heap used ${Math.round(heapUsed / 2 ** 20)} MB`);
  await verify();
  log('verified: every object has status.observedGeneration == metadata.generation');
  if (snapDir) {
    const before = new Set(readdirSync(snapDir));
    process.kill(controller.pid, 'SIGUSR2');
    let file: string | undefined;
    while (!(file = readdirSync(snapDir).find((f) => !before.has(f) && f.endsWith('.heapsnapshot')))) await sleep(500);
    // Written when its size stops changing.
    let size = -1;
    for (let s = 0; s !== size; s = statSync(join(snapDir, file)).size) { size = s; await sleep(3000); }
    const after = await metrics(controller.port);
    heapUsed = sum(after, 'nodejs_heap_size_used_bytes');
    heapTotal = sum(after, 'nodejs_heap_size_total_bytes');
    log(`heap snapshot ${join(snapDir, file)}; heap used after its GC ${Math.round(heapUsed / 2 ** 20)} MB`);
  }
  const result: Record<string, unknown> = {
    virtualservices: services, backends, controller_node_flags: nodeFlags.join(' '), objects: services * (backends + 1) + 1,
    objects_created_ms: createdMs, controller_settled_ms: settledMs,
    controller_rss_mb: Math.round(atSettle.rss), controller_peak_rss_mb: Math.round(atSettle.hwm),
    controller_heap_used_mb: Math.round(heapUsed / 2 ** 20), controller_heap_total_mb: Math.round(heapTotal / 2 ** 20),
    controller_cpu_s: Number(atSettle.cpu.toFixed(1)),
    reconcile_passes: sum(m, 'lvs_controller_reconcile_total'), reconcile_seconds_sum: Number(sum(m, 'lvs_controller_reconcile_duration_seconds_sum').toFixed(2)),
    status_writes: sum(m, 'lvs_controller_status_writes_total', 'result="success"'),
  };

  if (values.restart === 'true') {
    log('restart: a new controller on the full cluster (its first pass is a full one)');
    await controller.stop();
    const r0 = Date.now();
    controller = await startController();
    const rm = await waitSettled(controller.port, r0, 'restart');
    // Everything already carries its status: settled once the first pass ran and the writes (skipped) are done.
    const p = proc(controller.pid);
    Object.assign(result, {
      restart_settled_ms: Date.now() - r0,
      restart_first_pass_s: Number(sum(rm, 'lvs_controller_reconcile_duration_seconds_sum').toFixed(2)),
      restart_status_writes: sum(rm, 'lvs_controller_status_writes_total', 'result="success"'),
      restart_rss_mb: Math.round(p.rss), restart_peak_rss_mb: Math.round(p.hwm), restart_cpu_s: Number(p.cpu.toFixed(1)),
    });
  }
  sampling = false;
  await sampler;
  console.log(JSON.stringify(result));
} finally {
  await controller?.stop();
  await api.stop();
}
