// Runs inside the director kernel for bench:converge: changes one RealServer's weight through the
// API server and times, on this one clock, until the kernel's IPVS table has it; repeats, and
// writes the latencies (ms, one per line, each followed by the PATCH's own share) to a file. Polls the destination every 5 ms: the lab
// kernel has one CPU, and a tighter loop would slow down the agent it measures.
// Usage: node --import tsx bench/weight-latency.ts <kubeconfig> <vip> <port> <rs-address> <rs-name> <namespace> <samples> <out-file>
import { writeFileSync } from 'node:fs';
import { NetlinkIpvsClient } from '../src/ipvs/client.js';
import { fromKubeconfigFile } from '../src/kube/config.js';
import { KubeHttp, makeClients } from '../src/kube/index.js';

const [kubeconfig = '', vip = '', port = '80', rs = '', name = '', namespace = '', samples = '30', out = ''] = process.argv.slice(2);
const ipvs = await NetlinkIpvsClient.open();
const http = new KubeHttp(await fromKubeconfigFile(kubeconfig));
const realServers = makeClients(http).realServers;
const key = { af: 'IPv4', protocol: 'tcp', addr: vip, port: Number(port) } as const;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const weight = async (): Promise<number | undefined> => (await ipvs.listDests(key, { stats: false }).catch(() => [])).find((d) => d.addr === rs)?.weight;

// Warm up the connection (TLS handshake) and the code paths before timing anything.
await realServers.get(name, namespace);
// This process just started on the director's one CPU (tsx, module loading, its first GCs): let
// that settle, or the first sample times this tool's start-up against the agent.
await sleep(2000);
const latencies: string[] = [];
const start = (await weight()) ?? 1;
for (let k = 1; k <= Number(samples); k++) {
  const w = start + k;
  const sent = performance.now();
  await realServers.mergePatch(name, namespace, { spec: { weight: w } });
  const patched = performance.now();
  while ((await weight()) !== w) {
    if (performance.now() - sent > 60_000) throw new Error(`weight ${w} never reached the kernel`);
    await sleep(5);
  }
  // The total, and how much of it the PATCH round trip took.
  latencies.push(`${Math.round(performance.now() - sent)} ${Math.round(patched - sent)}`);
  await sleep(100 + Math.random() * 200);
}
writeFileSync(out, `${latencies.join('\n')}\n`);
ipvs.close();
http.close();
