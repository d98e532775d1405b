// `npm run bench:converge [-- --virtualservices N --backends M --samples K]`: on the lab cluster
// (real API server, controller, one director kernel running the agent), time
//   1. from creating N VirtualServices x M RealServers in the API server until the director's
//      kernel holds all of them (and, for reference, `ipvsadm -R` of the same table in a fresh
//      namespace of the same kernel: the floor set by the kernel itself);
//   2. until every status says so: each VirtualService's entry of the director at the current
//      generation, each RealServer healthy on it (the controller's, from the agent's entries);
//   3. once statuses settled, from a single RealServer weight change in the API server until the
//      kernel has it (p50/p99/max), timed inside the director by bench/weight-latency.ts (one
//      clock for change and kernel);
//   4. cold start: the agent restarts with its table programmed (a DaemonSet rollout); from the
//      new agent's start until it serves a change made at that moment;
//   5. from an agent restart on a flushed kernel (a new director, a node that lost its table)
//      until the kernel holds everything again, next to `ipvsadm -R`;
//   6. controller (run as the image runs it: bundle, chart's V8 flags) and agent resident memory,
//      and the controller's status writes per kind and passes, from its metrics.
// Prints progress, then one JSON object as the last line.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Informer, KubeHttp, keyOf, makeClients, resourceListWatcher, type KubeClients, type ResourceClient } from '../src/kube/index.js';
import type { KubeObject } from '../src/kube/types.js';
import { createLogger } from '../src/util/log.js';
import { fromKubeconfigFile } from '../src/kube/config.js';
import { labKernel } from '../test/lab/kernel.js';
import { createEnvForBench } from './converge-env.js';
import { percentile, pool, portOf, realServerAddress, sleep, vipOf } from './shapes.js';
import { kubeProxyPeer } from './converge-kube-proxy.js';
import { controllerNodeFlags, metrics, proc, sum } from './controller-process.js';

const { values } = parseArgs({ options: { virtualservices: { type: 'string' }, services: { type: 'string' }, backends: { type: 'string', default: '10' }, samples: { type: 'string', default: '100' }, peer: { type: 'string' } } });
const services = Number(values.virtualservices ?? values.services ?? '1000');
const backends = Number(values.backends);
const samples = Number(values.samples);
const log = (s: string): void => console.error(`bench: ${s}`);
// `--peer kube-proxy`: the same table as LoadBalancer Services, kube-proxy (IPVS mode) beside the agent in one kernel.
if (values.peer !== undefined) {
  if (values.peer !== 'kube-proxy') throw new Error(`--peer: only kube-proxy, not ${values.peer}`);
  const result = await kubeProxyPeer({ virtualservices: services, backends, samples, log });
  await new Promise<void>((done) => process.stdout.write(`${JSON.stringify(result)}\n`, () => done()));
  process.exit(0);
}
const rsOf = realServerAddress(backends);

const want = services * backends;
const env = await createEnvForBench(log, { directorMemMb: services >= 5000 ? 6144 : 2048 });
try {
  const c: KubeClients = makeClients(new KubeHttp(await fromKubeconfigFile(env.kubeconfig)));
  const d1 = env.director;
  const countDests = async (): Promise<number> => Number((await d1.exec("ipvsadm -Sn | grep -c '^-a' || true")).trim());
  // Dumping 10,000 destinations costs the one-CPU lab kernel (and so the agent it measures) a lot:
  // poll the last service created, and count the whole table only once that one is complete.
  const last = services - 1;
  const lastComplete = async (): Promise<boolean> =>
    Number((await d1.exec(`ipvsadm -Ln -t ${vipOf(last)}:${portOf(last)} 2>/dev/null | grep -c -- '->.*Route' || true`)).trim()) === backends;
  const waitForKernel = async (since: number, limitMs: number, what: string): Promise<void> => {
    while (!(await lastComplete())) {
      if (Date.now() - since > limitMs) throw new Error(`${what}: service ${last} incomplete after ${limitMs} ms`);
      await sleep(100);
    }
    let have = 0;
    while ((have = await countDests()) < want) {
      if (Date.now() - since > limitMs) throw new Error(`${what}: kernel has ${have}/${want} destinations after ${limitMs} ms`);
      await sleep(1000);
    }
  };

  log(`creating ${services} VirtualServices x ${backends} RealServers`);
  const vsObjs = Array.from({ length: services }, (_, i) => ({
    apiVersion: 'lvs.dev/v1alpha1', kind: 'VirtualService', metadata: { name: `vs-${i}`, namespace: 'bench' },
    spec: { vip: vipOf(i), port: portOf(i), protocol: 'TCP', scheduler: 'wrr', forwarding: { method: 'DR' }, healthCheck: { type: 'None' }, backends: { realServerSelector: { matchLabels: { vs: `vs-${i}` } } }, directorGroup: 'bench' },
  }));
  const rsObjs = Array.from({ length: services * backends }, (_, k) => {
    const i = Math.floor(k / backends);
    const j = k % backends;
    return { apiVersion: 'lvs.dev/v1alpha1', kind: 'RealServer', metadata: { name: `rs-${i}-${j}`, namespace: 'bench', labels: { vs: `vs-${i}` } }, spec: { address: rsOf(i, j), weight: 1 } };
  });
  const t0 = Date.now();
  await pool(rsObjs, 32, (o) => c.realServers.create(o as never));
  await pool(vsObjs, 32, (o) => c.virtualServices.create(o as never));
  const createdMs = Date.now() - t0;
  log(`objects created in ${createdMs} ms; waiting for the director's kernel`);
  await waitForKernel(t0, 30 * 60_000, 'full convergence');
  const fullMs = Date.now() - t0;
  log(`kernel complete (${want} destinations) ${fullMs} ms after the first create`);

  log('reference: ipvsadm -R of the same table in a fresh namespace of the director kernel');
  const ref = await d1.exec([
    'ipvsadm -Sn > /tmp/rules', 'ip netns add ref', 'ip netns exec ref ip link set lo up',
    's=$(date +%s%N)', 'ip netns exec ref ipvsadm -R < /tmp/rules', 'e=$(date +%s%N)',
    'echo $(( (e - s) / 1000000 ))', 'ip netns del ref',
  ].join(' && '), 600_000);
  const ipvsadmMs = Number(ref.trim().split('\n').pop());

  log('waiting for every status to say so (the agent\'s entries, the controller\'s RealServer health)');
  type Obj = KubeObject & { status?: { observedGeneration?: number; directors?: { node: string; programmedGeneration?: number; healthy?: unknown }[] } };
  const vsDone = (o: Obj): boolean => o.status?.observedGeneration === o.metadata.generation && o.status?.directors?.find((d) => d.node === 'd1')?.programmedGeneration === o.metadata.generation;
  const rsDone = (o: Obj): boolean => o.status?.observedGeneration === o.metadata.generation && o.status?.directors?.find((d) => d.node === 'd1')?.healthy === true;
  // Watched, as a user's tooling would (a list of 10,000 objects every few seconds would load the
  // API server this measures): the objects not settled yet, by kind.
  const watchBehind = (client: ResourceClient<Obj>, done: (o: Obj) => boolean) => {
    const late = new Set<string>();
    const inf = new Informer<Obj>(client.resource.kind, resourceListWatcher(client, { namespace: 'bench' }), { log: createLogger('warn', process.stderr) });
    inf.on((ev) => {
      if (ev.type === 'resync') return;
      const k = keyOf(ev.obj);
      if (ev.type !== 'deleted' && !done(ev.obj)) late.add(k);
      else late.delete(k);
    });
    inf.start();
    return { late, inf };
  };
  const vsWatch = watchBehind(c.virtualServices as unknown as ResourceClient<Obj>, vsDone);
  const rsWatch = watchBehind(c.realServers as unknown as ResourceClient<Obj>, rsDone);
  await Promise.all([vsWatch.inf.waitForSync(), rsWatch.inf.waitForSync()]);
  const behind = () => ({ vs: vsWatch.late.size + services - vsWatch.inf.list().length, rs: rsWatch.late.size + want - rsWatch.inf.list().length });
  // Bounded: statuses that have not settled 30 minutes after the last create are reported as
  // such (how many are behind), and the measurements after this one are still made.
  let late = behind();
  const statusLimitMs = createdMs + 30 * 60_000;
  while ((late.vs > 0 || late.rs > 0) && Date.now() - t0 < statusLimitMs) {
    await sleep(100);
    late = behind();
  }
  await Promise.all([vsWatch.inf.stop(), rsWatch.inf.stop()]);
  const settled = late.vs === 0 && late.rs === 0;
  const statusMs = settled ? Date.now() - t0 : undefined;
  if (statusMs !== undefined) log(`every status settled ${statusMs} ms after the first create (${statusMs - createdMs} ms after the last)`);
  else log(`statuses not settled 30 minutes after the last create: ${late.vs} VirtualServices and ${late.rs} RealServers behind; going on`);

  log(`incremental: ${samples} weight changes of one RealServer, timed inside the director kernel`);
  const latencyOut = join(env.dir, 'weight-latency.txt');
  await d1.exec(`cd ${JSON.stringify(env.projectRoot)} && node --import tsx bench/weight-latency.ts ${[env.labKubeconfig, vipOf(0), portOf(0), rsOf(0, 0), 'rs-0-0', 'bench', samples, latencyOut].map((a) => JSON.stringify(String(a))).join(' ')}`, 30 * 60_000);
  const latencies = readFileSync(latencyOut, 'utf8').split('\n').filter(Boolean).map((l) => Number(l.split(' ')[0]));
  latencies.sort((a, b) => a - b);
  // The controller may have died (at 10,000 x 10 it outgrew the chart's heap cap): say so, go on.
  const controllerMem = (() => {
    try {
      return proc(env.controllerPid);
    } catch {
      log('the controller is gone (see its log); its memory and counts are not reported');
      return undefined;
    }
  })();
  // The controller's own count of what it did up to here: status writes per kind, passes.
  const cm = controllerMem ? await metrics(env.controllerMetricsPort) : new Map<string, number>();
  const writes = (kind: string): number => sum(cm, 'lvs_controller_status_writes_total', `kind="${kind}"`, 'result="success"');
  const agentStatus = await d1.exec("cat /proc/$(pgrep -f '^[^ ]*node .*(cli|bundle)/main[.][jt]s agent' | head -1)/status");
  const agentRss = Number(/VmRSS:\s+(\d+)/.exec(agentStatus)?.[1] ?? 0) / 1024;
  const agentPeakRss = Number(/VmHWM:\s+(\d+)/.exec(agentStatus)?.[1] ?? 0) / 1024;

  log('cold start: the agent restarts with its table programmed; a weight change waits for the new one');
  const nodeDir = join(env.dir, 'nodes', 'd1');
  const exits = (): number => (readFileSync(join(nodeDir, 'agent.log'), 'utf8').match(/^supervisor: agent \d+ exited/gm) ?? []).length;
  const exitedBefore = exits();
  const restartAt = Date.now();
  await d1.exec(`touch ${JSON.stringify(join(nodeDir, 'restart'))}`);
  while (exits() === exitedBefore) {
    if (Date.now() - restartAt > 120_000) throw new Error('the agent did not stop within 120 s');
    await sleep(20);
  }
  // The old agent is gone and the supervisor starts the new one now: change a weight at once.
  const startedAt = Date.now();
  const coldWeight = 1000 + Math.floor(Math.random() * 1000);
  await c.realServers.mergePatch(`rs-${last}-0`, 'bench', { spec: { weight: coldWeight } });
  const weightIs = async (w: number): Promise<boolean> =>
    new RegExp(`-> ${rsOf(last, 0).replace(/\./g, '\\.')}:${portOf(last)}\\s+Route\\s+${w}\\s`).test(await d1.exec(`ipvsadm -Ln -t ${vipOf(last)}:${portOf(last)}`));
  while (!(await weightIs(coldWeight))) {
    if (Date.now() - startedAt > 10 * 60_000) throw new Error('the restarted agent never served the change');
    await sleep(50);
  }
  const coldMs = Date.now() - startedAt;
  const stopMs = startedAt - restartAt;
  const readyFiles = (): number => readdirSync(nodeDir).filter((f) => f.startsWith('agent-started.')).length;
  log(`the restarted agent served a change ${coldMs} ms after it started (the old one took ${stopMs} ms to stop)`);
  const readyBefore = readyFiles();
  while (readyFiles() === readyBefore && Date.now() - startedAt < 120_000) await sleep(100);
  // The new agent's own account of its start (logged at info): module loading, listing, first pass.
  const startLine = readFileSync(join(nodeDir, 'agent.log'), 'utf8').split('\n').filter((l) => l.includes('"msg":"agent started"')).pop();
  const start = startLine ? JSON.parse(startLine) as { loadMs?: number; listMs?: number; firstPassMs?: number; kernelMs?: number } : {};

  log('flushed table: the agent restarts on an empty IPVS table (a node that lost it)');
  // The flush and the restart request happen in one supervisor step, so the old agent cannot
  // heal the table in between (it only re-reads it at its periodic resync).
  const flushAt = Date.now();
  await d1.exec(`ipvsadm -C && touch ${JSON.stringify(join(nodeDir, 'restart'))}`);
  await waitForKernel(flushAt, 10 * 60_000, 'flushed restart');
  const flushedMs = Date.now() - flushAt;
  log(`kernel complete again ${flushedMs} ms after the restart`);

  console.log(JSON.stringify({
    kernel: labKernel().release,
    virtualservices: services, backends, destinations: want,
    full_converge_ms: fullMs, objects_created_ms: createdMs, converge_after_last_create_ms: fullMs - createdMs,
    status_settled_ms: statusMs ?? null, status_settled_after_last_create_ms: statusMs === undefined ? null : statusMs - createdMs,
    ...(settled ? {} : { status_behind_at_limit: { virtualservices: late.vs, realservers: late.rs } }),
    cold_start_ms: coldMs, cold_start_load_ms: start.loadMs, cold_start_list_ms: start.listMs, cold_start_first_pass_ms: start.firstPassMs, cold_start_kernel_ms: start.kernelMs, agent_stop_ms: stopMs, flushed_restart_converge_ms: flushedMs, ipvsadm_restore_ms: ipvsadmMs,
    incremental_p50_ms: percentile(latencies, 50), incremental_p99_ms: percentile(latencies, 99), incremental_max_ms: latencies[latencies.length - 1], incremental_samples: latencies.length,
    controller_rss_mb: controllerMem ? Math.round(controllerMem.rss) : null, controller_peak_rss_mb: controllerMem ? Math.round(controllerMem.hwm) : null, controller_node_flags: controllerNodeFlags().join(' '), agent_rss_mb: Math.round(agentRss), agent_peak_rss_mb: Math.round(agentPeakRss),
    controller_status_writes: { VirtualService: writes('VirtualService'), RealServer: writes('RealServer'), DirectorGroup: writes('DirectorGroup') },
    controller_passes: sum(cm, 'lvs_controller_reconcile_total'),
  }));
} finally {
  await env.destroy();
}
