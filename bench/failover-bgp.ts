// Inside the lab kernel (bench/failover-bgp-run.ts boots it): the ECMP + BGP lab of
// test/kernel/bgp/ecmp-lab.ts with three active-active directors (our agents running BIRD) and,
// on the same LAN, a VRRP pair of our agents (advert 100 ms, connection sync) for a second VIP
// to the same real servers. Long-lived flows (a line every 100 ms) through each VIP; then one BGP
// director crashes (link down, agent and BIRD killed), then the VRRP master does. Measured per
// side: the longest pause of any flow (the crashed director's flows moving to another one) and
// the flows lost. The last line on stdout is one JSON object.
import { parseArgs } from 'node:util';
import { release } from 'node:os';
import { assertInLab } from '../test/lab/inside.js';
import { EcmpLab, VIP, VRRP_VIP, killAll, type FlowClient } from '../test/kernel/bgp/ecmp-lab.js';
import { waitUntil } from '../test/kernel/vrrp/routers.js';

const { values } = parseArgs({ options: { flows: { type: 'string', default: '60' } } });
const n = Number(values.flows);
if (!Number.isInteger(n) || n < 1) throw new Error('--flows: a whole number of at least 1');
const log = (s: string): void => console.error(`bench: ${s}`);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

assertInLab();
const lab = new EcmpLab('fb', true);

/** After a crash: flows lost (reset, closed or no longer answering) and the longest pause of a flow. */
async function outcome(flows: FlowClient): Promise<{ stallMs: number; lost: number }> {
  await sleep(3000);
  const silent = await flows.probe();
  const r = await flows.report();
  return { stallMs: r.stallMs, lost: r.lost.length + silent.length };
}

const holds = async (name: string): Promise<boolean> => (await lab.directors.get(name)!.ip('-o', 'addr', 'show', 'dev', 'eth0')).stdout.includes(`${VRRP_VIP}/32`);

try {
  await lab.build();
  for (const d of ['d1', 'd2', 'd3', 'v1', 'v2']) await lab.startAgent(d);
  log(`BGP: all next hops after ${await lab.waitNexthops([1, 2, 3])} ms`);

  // --- BGP: spread, then d3 crashes.
  const bgpFlows = lab.startFlows(VIP);
  await bgpFlows.ask(`open ${n}`);
  await sleep(1000);
  const spread = await lab.spread(bgpFlows, [1, 2, 3]);
  log(`BGP: spread of ${n} flows over d1/d2/d3: ${spread.join('/')}`);
  await bgpFlows.report(); // counters start here
  const d3 = lab.dns(3);
  await d3.ip('link', 'set', 'eth0', 'down');
  await killAll(d3);
  await lab.waitNexthops([1, 2]);
  const bgp = await outcome(bgpFlows);
  log(`BGP: d3 crashed: ${JSON.stringify(bgp)}`);

  // --- VRRP: the master of the pair crashes (its flows synced to the backup first).
  const master = await waitUntil('a VRRP master', async () => ((await holds('v1')) ? 'v1' : (await holds('v2')) ? 'v2' : false), 60_000, 100);
  const backup = master === 'v1' ? 'v2' : 'v1';
  const vrrpFlows = lab.startFlows(VRRP_VIP);
  await vrrpFlows.ask(`open ${n}`);
  await waitUntil(`${backup} has the synced connections`, async () => {
    const ports = (await vrrpFlows.sports()).map((p) => `:${p} `);
    const table = (await lab.directors.get(backup)!.exec('ipvsadm', ['-Lnc'])).stdout;
    return ports.every((p) => table.includes(p));
  }, 60_000, 200);
  await vrrpFlows.report();
  const m = lab.directors.get(master)!;
  await m.ip('link', 'set', 'eth0', 'down');
  await killAll(m);
  await waitUntil(`${backup} holds the VIP`, () => holds(backup), 30_000, 20);
  const vrrp = await outcome(vrrpFlows);
  log(`VRRP: ${master} crashed: ${JSON.stringify(vrrp)}`);

  console.log(JSON.stringify({
    mode: 'bgp',
    kernel: release(),
    directors: 3,
    spread,
    ours_ms: bgp.stallMs,
    vrrp_ms: vrrp.stallMs,
    lost: bgp.lost,
    vrrp_lost: vrrp.lost,
    established: n,
  }));
} finally {
  await lab.destroy();
}
