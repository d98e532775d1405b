// Runs inside the director kernel for `bench:converge -- --peer kube-proxy`: flips one endpoint of
// one EndpointSlice between ready and not ready through the API server, and times, on this one
// kernel's clock, until each side's IPVS table has the change: our agent's (this network
// namespace) and kube-proxy's (network namespace `netns`). Each table is read through netlink by a
// probe process started in that side's namespace (a netlink socket belongs to the namespace it was
// opened in, and Node cannot switch namespaces), the same code for both sides, polling every 5 ms.
// "Has the change": the endpoint's destination serves (present, weight > 0) after ready=true, and
// does not (gone, or weight 0) after ready=false: each side may remove it or quiesce it.
// Writes one line per change: `<ours ms> <kube-proxy ms> <PATCH round trip ms>`.
// Usage: node --import tsx bench/endpoint-latency.ts <kubeconfig> <vip> <port> <endpoint-address>
//          <slice-name> <namespace> <samples> <netns> <out-file>
// Probe mode (internal): node --import tsx bench/endpoint-latency.ts probe
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { NetlinkIpvsClient } from '../src/ipvs/client.js';
import { fromKubeconfigFile } from '../src/kube/config.js';
import { KubeHttp, makeClients } from '../src/kube/index.js';
import type { EndpointSlice } from '../src/kube/types.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Ask { vip: string; port: number; addr: string; serving: boolean; timeoutMs: number }

/** Answers each request line (an Ask) with `armed` once its table is not yet there, then `done <epoch ms>` once it is. */
async function probe(): Promise<void> {
  const ipvs = await NetlinkIpvsClient.open();
  const serving = async (a: Ask): Promise<boolean> => {
    const dests = await ipvs.listDests({ af: 'IPv4', protocol: 'tcp', addr: a.vip, port: a.port }, { stats: false }).catch(() => []);
    const d = dests.find((x) => x.addr === a.addr);
    return d !== undefined && d.weight > 0;
  };
  for await (const line of createInterface({ input: process.stdin })) {
    const a = JSON.parse(line) as Ask;
    // Before the change is written, the table must still show the other state.
    const armedBy = Date.now() + 120_000;
    while ((await serving(a)) === a.serving) {
      if (Date.now() > armedBy) { process.stdout.write(`error table already ${a.serving ? 'serving' : 'not serving'} ${a.addr}\n`); process.exit(1); }
      await sleep(50);
    }
    process.stdout.write('armed\n');
    const until = Date.now() + a.timeoutMs;
    while ((await serving(a)) !== a.serving) {
      if (Date.now() > until) { process.stdout.write(`error ${a.addr} never ${a.serving ? 'served' : 'left'}\n`); process.exit(1); }
      await sleep(5);
    }
    process.stdout.write(`done ${Date.now()}\n`);
  }
  ipvs.close();
}

class Probe {
  private readonly lines: AsyncIterator<string>;
  constructor(readonly name: string, readonly child: ChildProcessWithoutNullStreams) {
    child.stderr.on('data', (d: Buffer) => process.stderr.write(`${name}: ${d.toString()}`));
    this.lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  }
  async next(): Promise<string> {
    const r = await this.lines.next();
    if (r.done) throw new Error(`probe ${this.name} ended`);
    if (r.value.startsWith('error')) throw new Error(`probe ${this.name}: ${r.value}`);
    return r.value;
  }
  send(a: Ask): void {
    this.child.stdin.write(`${JSON.stringify(a)}\n`);
  }
}

async function main(): Promise<void> {
  const [kubeconfig = '', vip = '', port = '80', addr = '', slice = '', namespace = '', samples = '30', netns = '', out = ''] = process.argv.slice(2);
  const self = fileURLToPath(import.meta.url);
  const probeArgs = ['--import', 'tsx', self, 'probe'];
  const ours = new Probe('ours', spawn(process.execPath, probeArgs));
  const theirs = new Probe('kube-proxy', spawn('ip', ['netns', 'exec', netns, process.execPath, ...probeArgs]));
  const http = new KubeHttp(await fromKubeconfigFile(kubeconfig));
  const slices = makeClients(http).endpointSlices;
  const current = await slices.get(slice, namespace);
  if (!current) throw new Error(`no EndpointSlice ${namespace}/${slice}`);
  const endpoints = current.endpoints ?? [];
  const at = endpoints.findIndex((e) => e.addresses.includes(addr));
  if (at < 0) throw new Error(`${addr} is not in ${slice}`);
  const withReady = (ready: boolean): Pick<EndpointSlice, 'endpoints'> =>
    ({ endpoints: endpoints.map((e, i) => (i === at ? { ...e, conditions: { ...e.conditions, ready } } : e)) });
  const lines: string[] = [];
  for (let k = 1; k <= Number(samples); k++) {
    const ready = k % 2 === 0; // first not ready, then ready again, ...
    // kube-proxy rewrites its whole state at each sync: at 1,000 Services in the lab kernel one
    // sync took minutes, so the wait is long (a side that misses it fails the run).
    const ask: Ask = { vip, port: Number(port), addr, serving: ready, timeoutMs: 15 * 60_000 };
    ours.send(ask);
    theirs.send(ask);
    await Promise.all([ours.next(), theirs.next()]);
    const sent = Date.now();
    const t = performance.now();
    await slices.mergePatch(slice, namespace, withReady(ready));
    const patched = performance.now();
    const [a, b] = await Promise.all([ours.next(), theirs.next()]);
    const ms = (l: string): number => Number(l.split(' ')[1]) - sent;
    lines.push(`${ms(a)} ${ms(b)} ${Math.round(patched - t)}`);
    process.stderr.write(`sample ${k}: ours ${ms(a)} ms, kube-proxy ${ms(b)} ms\n`);
    // Spaced beyond kube-proxy's minimum sync period (1 s by default), so that what is timed is a
    // single change, not its rate limit.
    await sleep(1200 + Math.random() * 300);
  }
  writeFileSync(out, `${lines.join('\n')}\n`);
  ours.child.stdin.end();
  theirs.child.stdin.end();
  http.close();
}

if (process.argv[2] === 'probe') await probe();
else await main();
