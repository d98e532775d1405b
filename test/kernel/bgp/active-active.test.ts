import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface, type Interface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertInLab, run } from '../../lab/inside.js';
import { Topology, type Netns } from '../../lab/netns.js';
import { projectRoot } from '../../lab/paths.js';
import { waitUntil } from '../vrrp/routers.js';

// Active-active directors behind ECMP (issue 17), as ../shared/LAB.md checked it by hand: a router
// namespace running BIRD 2 with `merge paths` into its kernel and L4 multipath hashing; three
// directors, each running our agent (the real daemon, from a manifest) which runs BIRD and
// announces the VIP over BGP with BFD; IPVS DR with mh + mh-port to three real servers; a client
// with long-lived flows (a line every 100 ms) and a new connection every 100 ms. Every scenario
// counts the flows lost and the new connections that failed.
const directorProc = fileURLToPath(new URL('../agent/director-proc.ts', import.meta.url));
const echoServer = fileURLToPath(new URL('./echo-server.mjs', import.meta.url));
const flowsClient = fileURLToPath(new URL('./flows.mjs', import.meta.url));
const VIP = '10.100.0.10';
const ROUTER = '10.0.0.1';
const dirAddr = (i: number): string => `10.0.0.1${i}`;
const rsAddr = (i: number): string => `10.0.0.2${i}`;
const FLOWS = 60;

const manifest = [
  `apiVersion: lvs.dev/v1alpha1
kind: DirectorGroup
metadata: {name: edge}
spec:
  nodeSelector: {matchLabels: {lvs.dev/director: edge}}
  interface: eth0
  announce: BGP
  bgp:
    localASN: 65010
    peers: [{address: ${ROUTER}, asn: 65000}]
    holdTimeSeconds: 3
    keepaliveSeconds: 1
    drainSeconds: 2
    nodes:
${[1, 2, 3].map((i) => `    - {nodeName: d${i}, routerId: ${dirAddr(i)}, localASN: 6500${i}}`).join('\n')}`,
  `apiVersion: lvs.dev/v1alpha1
kind: VirtualService
metadata: {name: web, namespace: t}
spec:
  vip: ${VIP}
  port: 80
  protocol: TCP
  scheduler: mh
  schedulerFlags: [mh-port]
  forwarding: {method: DR}
  backends: {realServerSelector: {matchLabels: {app: web}}}
  healthCheck: {type: TCP, port: 81, intervalSeconds: 2, timeoutSeconds: 1, fall: 1, rise: 1}
  directorGroup: edge`,
  ...[1, 2, 3].map((i) => `apiVersion: lvs.dev/v1alpha1\nkind: RealServer\nmetadata: {name: rs${i}, namespace: t, labels: {app: web}}\nspec: {address: ${rsAddr(i)}}`),
].join('\n---\n');

const routerBird = (logFile: string): string => `log "${logFile}" all;
timeformat log "%T.%3f";
debug protocols { states };
router id ${ROUTER};
protocol device { scan time 10; }
protocol kernel { ipv4 { import none; export all; }; merge paths on; }
protocol bfd { interface "eth0" { min rx interval 100 ms; min tx interval 100 ms; multiplier 3; }; }
template bgp director {
  local ${ROUTER} as 65000;
  hold time 3; keepalive time 1;
  connect delay time 1; connect retry time 2; error wait time 1, 5;
  bfd on;
  ipv4 { import all; export none; };
}
${[1, 2, 3].map((i) => `protocol bgp d${i} from director { neighbor ${dirAddr(i)} as 6500${i}; }`).join('\n')}
`;

/** SIGKILL to every process in the namespace (the agent and its BIRD); one that already exited is fine. */
async function killAll(ns: Netns): Promise<void> {
  await run('sh', ['-c', `for p in $(ip netns pids ${ns.name}); do kill -9 $p 2>/dev/null; done; true`]);
}

interface Report {
  flows: number;
  alive: number;
  lost: { id: number; why: string }[];
  byServer: Record<string, number>;
  newOk: number;
  newFailed: number;
  failures: string[];
  stallMs: number;
}

describe('active-active directors behind ECMP, announced over BGP by BIRD', () => {
  const topo = new Topology('bg');
  let dir: string;
  let router: Netns;
  let client: Netns;
  const dns: Netns[] = [];
  const rss: Netns[] = [];
  const procs: ChildProcess[] = [];
  const agents = new Map<number, { child: ChildProcess; log: () => string }>();
  let flows: { child: ChildProcess; lines: Interface; ask: (cmd: string) => Promise<unknown> };

  const nodes = [1, 2, 3].map((i) => ({ name: `d${i}`, labels: { 'lvs.dev/director': 'edge' } }));

  const nexthops = async (): Promise<string> => {
    const out = (await router.ip('route', 'show', VIP)).stdout;
    return [...out.matchAll(/via (\S+)/g)].map((m) => m[1]).sort().join(' ');
  };
  const waitNexthops = async (want: number[], since = Date.now()): Promise<number> => {
    const text = want.map(dirAddr).join(' ');
    await waitUntil(`router next hops [${text}]`, async () => (await nexthops()) === text, 60_000, 20).catch(async (e: Error) => {
      const logs = [...agents.entries()].map(([i, a]) => `--- d${i}\n${a.log().slice(-3000)}`).join('\n');
      throw new Error(`${e.message}; have [${await nexthops()}]\n${logs}`);
    });
    return Date.now() - since;
  };

  const startAgent = async (i: number): Promise<void> => {
    const state = join(dir, `d${i}`);
    mkdirSync(state, { recursive: true });
    const [cmd, ...args] = dns[i - 1]!.command(process.execPath, ['--import', 'tsx', directorProc, `d${i}`, join(dir, 'm.yaml'), state, JSON.stringify(nodes)]);
    const child = spawn(cmd!, args, { stdio: ['ignore', 'pipe', 'pipe'], cwd: projectRoot });
    procs.push(child);
    let log = '';
    child.stderr!.on('data', (b: Buffer) => { log = (log + b.toString()).slice(-20000); });
    agents.set(i, { child, log: () => log });
    await new Promise<void>((res, rej) => {
      createInterface({ input: child.stdout! }).on('line', (l) => { if (l.startsWith('ready')) res(); });
      child.once('exit', (c) => rej(new Error(`agent d${i} exited (${c}):\n${log}`)));
    });
  };

  /** The long-lived flows each director's IPVS holds (ipvsadm -Lnc, by the flows' client ports). */
  const spread = async (): Promise<number[]> => {
    const ports = new Set(((await flows.ask('sports')) as { sports: number[] }).sports.map((p) => `10.0.1.2:${p} `));
    const out: number[] = [];
    for (const ns of dns) {
      const table = (await ns.exec('ipvsadm', ['-Lnc'])).stdout;
      out.push(table.split('\n').filter((l) => l.includes('ESTABLISHED') && l.includes(`${VIP}:80`) && [...ports].some((p) => l.includes(p))).length);
    }
    return out;
  };

  const report = async (): Promise<Report> => (await flows.ask('report')) as Report;
  const probe = async (): Promise<number[]> => ((await flows.ask('probe')) as { silent: number[] }).silent;

  /** A scenario's losses: flows reset or closed, flows that no longer answer, failed new connections. */
  const losses = async (label: string): Promise<{ lost: number; silent: number; newFailed: number; newOk: number }> => {
    const silent = await probe();
    const r = await report();
    const out = { lost: r.lost.length, silent: silent.length, newFailed: r.newFailed, newOk: r.newOk };
    console.log(`bgp-figures ${label}: longest stall of a flow ${r.stallMs} ms`);
    console.log(`bgp-figures ${label}: ${JSON.stringify({ ...out, alive: r.alive, flows: r.flows, byServer: r.byServer, failures: r.failures.slice(0, 5) })}`);
    return out;
  };

  beforeAll(async () => {
    assertInLab();
    dir = mkdtempSync('/tmp/lvs-bgp-');
    writeFileSync(join(dir, 'm.yaml'), manifest);
    writeFileSync(join(dir, 'router.conf'), routerBird(join(dir, 'router.log')));

    const sw = await topo.ns('sw');
    await sw.ip('link', 'add', 'br0', 'type', 'bridge', 'mcast_snooping', '0', 'stp_state', '0', 'forward_delay', '0');
    await sw.up('br0');
    const port = async (ns: Netns, name: string, mac?: string): Promise<void> => {
      await topo.veth(ns, `${name}-e`, sw, `${name}-p`);
      await ns.ip('link', 'set', `${name}-e`, 'down');
      await ns.ip('link', 'set', `${name}-e`, 'name', 'eth0', ...(mac ? ['address', mac] : []));
      await ns.up('eth0');
      await sw.ip('link', 'set', `${name}-p`, 'master', 'br0');
    };
    const base = async (ns: Netns): Promise<void> => {
      for (const k of ['all', 'default']) await ns.sysctl(`net.ipv4.conf.${k}.rp_filter`, 0);
    };

    client = await topo.ns('cli');
    router = await topo.ns('rtr');
    await base(client);
    await base(router);
    await topo.veth(client, 'bgc-e', router, 'bgr-c', 'eth1');
    await client.ip('link', 'set', 'bgc-e', 'down');
    await client.ip('link', 'set', 'bgc-e', 'name', 'eth0');
    await client.up('eth0');
    await client.addr('eth0', '10.0.1.2/24');
    await client.ip('route', 'add', 'default', 'via', '10.0.1.1');
    await router.addr('eth1', '10.0.1.1/24');
    await port(router, 'bgrt');
    await router.addr('eth0', `${ROUTER}/24`);
    // L4 ECMP: policy 3 with these fields hashes the 5-tuple (policy 1 would reuse the socket's
    // hash over veth, which TCP re-rolls on every retransmit timeout).
    await router.sysctl('net.ipv4.ip_forward', 1);
    await router.sysctl('net.ipv4.fib_multipath_hash_policy', 3);
    await router.sysctl('net.ipv4.fib_multipath_hash_fields', '0x0037');
    await router.sysctl('net.ipv4.conf.eth0.send_redirects', 0);
    await router.sysctl('net.ipv4.conf.all.send_redirects', 0);

    for (const i of [1, 2, 3]) {
      const rs = await topo.ns(`rs${i}`);
      rss.push(rs);
      await base(rs);
      await port(rs, `bgs${i}`);
      await rs.addr('eth0', `${rsAddr(i)}/24`);
      await rs.addr('lo', `${VIP}/32`);
      for (const k of ['all', 'eth0']) {
        await rs.sysctl(`net.ipv4.conf.${k}.arp_ignore`, 1);
        await rs.sysctl(`net.ipv4.conf.${k}.arp_announce`, 2);
      }
      await rs.ip('route', 'add', 'default', 'via', ROUTER);
      for (const p of ['80', '81']) {
        const [cmd, ...args] = rs.command(process.execPath, [echoServer, `rs${i}`, p]);
        procs.push(spawn(cmd!, args, { stdio: 'ignore' }));
      }
    }
    for (const i of [1, 2, 3]) {
      const d = await topo.ns(`d${i}`);
      dns.push(d);
      await base(d);
      // A fixed MAC: a returning director must not be blackholed by the router's stale ARP entry.
      await port(d, `bgd${i}`, `02:00:0a:00:00:1${i}`);
      await d.addr('eth0', `${dirAddr(i)}/24`);
      await d.ip('route', 'add', 'default', 'via', ROUTER);
    }
    const [bcmd, ...bargs] = router.command('bird', ['-f', '-c', join(dir, 'router.conf'), '-s', join(dir, 'router.ctl')]);
    procs.push(spawn(bcmd!, bargs, { stdio: 'ignore' }));
  }, 120_000);

  afterAll(async () => {
    flows?.child.kill('SIGKILL');
    for (const p of procs.splice(0)) p.kill('SIGKILL');
    // BIRD children of the agents (they outlive a killed agent by design).
    for (const ns of dns) await killAll(ns).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 300));
    await topo.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('every director announces the VIP once IPVS holds it; the router spreads new flows across all three', async () => {
    const t0 = Date.now();
    for (const i of [1, 2, 3]) await startAgent(i);
    const ms = await waitNexthops([1, 2, 3], t0);
    console.log(`bgp-figures all three next hops on the router ${ms} ms after the first agent started`);
    for (const ns of dns) {
      const table = (await ns.exec('ipvsadm', ['-Ln'])).stdout;
      // The same table everywhere: mh with mh-port, the real servers in one order, equal weights.
      expect(table).toContain(`TCP  ${VIP}:80 mh (mh-port)`);
      expect([...table.matchAll(/-> (10\.0\.0\.2\d):80\s+Route\s+(\d+)/g)].map((m) => `${m[1]}/${m[2]}`)).toEqual(['10.0.0.21/1', '10.0.0.22/1', '10.0.0.23/1']);
      expect((await ns.exec('sysctl', ['-n', 'net.ipv4.vs.sloppy_tcp'])).stdout.trim()).toBe('1');
      expect((await ns.ip('addr', 'show', 'dev', 'lo')).stdout).toContain(`${VIP}/32`);
    }

    // BFD up on every session: a crashed director's route goes in BFD time, not the hold time.
    const bfd = (await router.exec('birdc', ['-s', join(dir, 'router.ctl'), 'show', 'bfd', 'sessions'])).stdout;
    expect(bfd.match(/ eth0 +Up /g)?.length, bfd).toBe(3);
    const [cmd, ...args] = client.command(process.execPath, [flowsClient, VIP, '80']);
    const child = spawn(cmd!, args, { stdio: ['pipe', 'pipe', 'inherit'] });
    const lines = createInterface({ input: child.stdout! });
    const pending: ((v: unknown) => void)[] = [];
    lines.on('line', (l) => pending.shift()?.(JSON.parse(l)));
    flows = { child, lines, ask: (c) => new Promise((res) => { pending.push(res); child.stdin!.write(`${c}\n`); }) };
    await flows.ask(`open ${FLOWS}`);
    await new Promise((r) => setTimeout(r, 1000));
    const s = await spread();
    console.log(`bgp-figures spread of ${FLOWS} flows over d1/d2/d3: ${s.join('/')}`);
    expect(s.reduce((a, b) => a + b, 0)).toBe(FLOWS);
    for (const n of s) expect(n).toBeGreaterThan(0);
    const l = await losses('steady');
    expect(l).toMatchObject({ lost: 0, silent: 0, newFailed: 0 });
  }, 180_000);

  it('a director crashes (link down, agent and BIRD killed): BFD withdraws its route and no flow is lost', async () => {
    const before = await spread();
    const t = Date.now();
    await dns[2]!.ip('link', 'set', 'eth0', 'down');
    await killAll(dns[2]!);
    const ms = await waitNexthops([1, 2], t);
    // The test's own view (ip route polled from here, slow in UML); the flows' stall below is what a client sees.
    console.log(`bgp-figures crash of d3 (${before[2]} flows on it): the test saw the route gone ${ms} ms after cutting its link`);
    await new Promise((r) => setTimeout(r, 2000));
    const l = await losses('crash d3');
    expect(l.lost + l.silent).toBe(0);
  }, 120_000);

  it('the crashed director returns with empty tables: IPVS first, then the route; no flow is lost', async () => {
    await dns[2]!.exec('ipvsadm', ['-C']);
    rmSync(join(dir, 'd3'), { recursive: true, force: true });
    await dns[2]!.up('eth0');
    const t = Date.now();
    await startAgent(3);
    const ms = await waitNexthops([1, 2, 3], t);
    console.log(`bgp-figures d3 back: announced ${ms} ms after its agent started`);
    await new Promise((r) => setTimeout(r, 2000));
    const l = await losses('return d3');
    expect(l.lost + l.silent).toBe(0);
  }, 120_000);

  it('graceful drain (SIGTERM): the agent withdraws first, keeps serving while the router moves the flows, then stops; nothing is lost', async () => {
    const a = agents.get(2)!;
    const t = Date.now();
    const exited = new Promise<void>((r) => a.child.once('exit', () => r()));
    a.child.kill('SIGTERM');
    const ms = await waitNexthops([1, 3], t);
    await exited;
    console.log(`bgp-figures drain d2: route gone ${ms} ms after SIGTERM, agent exited after ${Date.now() - t} ms`);
    await new Promise((r) => setTimeout(r, 1000));
    const l = await losses('drain d2');
    expect(l).toMatchObject({ lost: 0, silent: 0, newFailed: 0 });
    await startAgent(2);
    await waitNexthops([1, 2, 3]);
    const back = await losses('d2 back after drain');
    expect(back.lost + back.silent).toBe(0);
  }, 120_000);

  it('a director whose checks of every real server fail withdraws the VIP, and announces it again when they pass', async () => {
    const t = Date.now();
    await dns[0]!.exec('iptables', ['-A', 'OUTPUT', '-p', 'tcp', '--dport', '81', '-j', 'DROP']);
    const ms = await waitNexthops([2, 3], t);
    console.log(`bgp-figures d1 checks failing: route withdrawn after ${ms} ms (TCP check every 2 s, timeout 1 s, fall 1)`);
    await new Promise((r) => setTimeout(r, 1000));
    const l = await losses('d1 cannot serve');
    expect(l.lost + l.silent).toBe(0);
    const t2 = Date.now();
    await dns[0]!.exec('iptables', ['-D', 'OUTPUT', '-p', 'tcp', '--dport', '81', '-j', 'DROP']);
    console.log(`bgp-figures d1 checks pass again: announced after ${await waitNexthops([1, 2, 3], t2)} ms`);
    const back = await losses('d1 serving again');
    expect(back.lost + back.silent).toBe(0);
  }, 120_000);
});
