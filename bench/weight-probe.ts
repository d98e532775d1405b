// Runs inside a director kernel for bench:converge: watches one destination's weight through
// netlink and appends `<epoch ms> <weight>` to a file each time it
// changes, so the host can time API change -> kernel. Polls every 5 ms: the lab kernel has one
// CPU, and a tighter loop would slow down the agent it measures.
// Usage: node --import tsx bench/weight-probe.ts <vip> <port> <rs-address> <out-file>
import { appendFileSync, writeFileSync } from 'node:fs';
import { NetlinkIpvsClient } from '../src/ipvs/client.js';

const [vip = '', port = '80', rs = '', out = ''] = process.argv.slice(2);
const ipvs = await NetlinkIpvsClient.open();
const key = { af: 'inet', protocol: 'tcp', addr: vip, port: Number(port) } as const;
let last: number | undefined;
writeFileSync(out, '');
for (;;) {
  const dests = await ipvs.listDests(key, { stats: false }).catch(() => []);
  const w = dests.find((d) => d.addr === rs)?.weight;
  if (w !== undefined && w !== last) {
    appendFileSync(out, `${Date.now()} ${w}\n`);
    last = w;
  }
  await new Promise((r) => setTimeout(r, 5));
}
