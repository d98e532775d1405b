// The ECMP + BGP lab inside the lab kernel (../shared/LAB.md, active-active): a client, a router
// namespace running BIRD 2 (merge paths into its kernel, BFD, L4 multipath hash), directors d1..d3
// each running our agent (the daemon, from a manifest; it runs BIRD and announces VIP over BGP),
// three DR real servers. With `vrrpPair`, two more directors v1, v2 serve VRRP_VIP as a VRRP
// group (advert 100 ms, connection sync) on the same LAN, to compare failovers in one run.
// Used by test/kernel/bgp/active-active.test.ts and bench/failover-bgp.ts.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { run } from '../../lab/inside.js';
import { Topology, type Netns } from '../../lab/netns.js';
import { projectRoot } from '../../lab/paths.js';
import { waitUntil } from '../vrrp/routers.js';

const directorProc = fileURLToPath(new URL('../agent/director-proc.ts', import.meta.url));
const echoServer = fileURLToPath(new URL('./echo-server.mjs', import.meta.url));
const flowsClient = fileURLToPath(new URL('./flows.mjs', import.meta.url));
const birdSidecarScript = join(projectRoot, 'charts', 'lvs-operator', 'files', 'bird-sidecar.sh');
export const VIP = '10.100.0.10';
export const VRRP_VIP = '10.0.0.100';
/** Two more BGP groups on the same directors: one sharing the router's sessions, one asking for them with another ASN. */
export const SHARED_VIP = '10.100.0.20';
export const CONFLICT_VIP = '10.100.0.30';
export const ROUTER = '10.0.0.1';
export const CLIENT = '10.0.1.2';
export const dirAddr = (i: number): string => `10.0.0.1${i}`;
const vrrpAddr = (i: number): string => `10.0.0.3${i}`;
export const rsAddr = (i: number): string => `10.0.0.2${i}`;

function manifest(vrrpPair: boolean, moreGroups: boolean): string {
  const vs = (name: string, vip: string, group: string): string => `apiVersion: lvs.dev/v1alpha1
kind: VirtualService
metadata: {name: ${name}, namespace: t}
spec:
  vip: ${vip}
  port: 80
  protocol: TCP
  scheduler: mh
  schedulerFlags: [mh-port]
  forwarding: {method: DR}
  backends: {realServerSelector: {matchLabels: {app: web}}}
  healthCheck: {type: TCP, port: 81, intervalSeconds: 2, timeoutSeconds: 1, fall: 1, rise: 1}
  directorGroup: ${group}`;
  /** A BGP group on the d* directors; `nodes` is its per-node override list. */
  const bgpGroup = (name: string, localASN: number, nodes: string[], extra = ''): string => `apiVersion: lvs.dev/v1alpha1
kind: DirectorGroup
metadata: {name: ${name}}
spec:
  nodeSelector: {matchLabels: {lvs.dev/director: edge}}
  interface: eth0
  announce: BGP
  bgp:
    localASN: ${localASN}
    peers: [{address: ${ROUTER}, asn: 65000}]
    holdTimeSeconds: 3
    keepaliveSeconds: 1
    drainSeconds: 2${extra}${nodes.length ? `\n    nodes:\n${nodes.map((n) => `    - ${n}`).join('\n')}` : ''}`;
  return [
    bgpGroup('edge', 65010, [1, 2, 3].map((i) => `{nodeName: d${i}, routerId: ${dirAddr(i)}, localASN: 6500${i}}`)),
    vs('web', VIP, 'edge'),
    // edge-b: the same router with the same session settings, its own community: one session
    // carries both groups' routes. edge-c: the same router as local AS 64999: refused (one
    // session per router), its VIP reaches no router.
    ...(moreGroups
      ? [
        bgpGroup('edge-b', 65010, [1, 2, 3].map((i) => `{nodeName: d${i}, localASN: 6500${i}}`), "\n    communities: ['65000:2']"),
        vs('web-b', SHARED_VIP, 'edge-b'),
        bgpGroup('edge-c', 64999, []),
        vs('web-c', CONFLICT_VIP, 'edge-c'),
      ]
      : []),
    ...(vrrpPair
      ? [
        'apiVersion: lvs.dev/v1alpha1\nkind: DirectorGroup\nmetadata: {name: pair}\nspec:\n  nodeSelector: {matchLabels: {lvs.dev/director: pair}}\n  interface: eth0\n  vrrp: {advertIntervalMs: 100}\n  sync: {enabled: true, syncId: 7}',
        vs('web-vrrp', VRRP_VIP, 'pair'),
      ]
      : []),
    ...[1, 2, 3].map((i) => `apiVersion: lvs.dev/v1alpha1\nkind: RealServer\nmetadata: {name: rs${i}, namespace: t, labels: {app: web}}\nspec: {address: ${rsAddr(i)}}`),
  ].join('\n---\n');
}

const routerBird = `router id ${ROUTER};
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

export interface FlowReport {
  flows: number;
  alive: number;
  lost: { id: number; why: string }[];
  byServer: Record<string, number>;
  newOk: number;
  newFailed: number;
  /** Each failed new connection: why, its source port, when it started and how long it took. */
  failures: { why: string; sport?: number; at: string; ms: number }[];
  stallMs: number;
}

/** The client process of flows.mjs: long-lived flows and new connections to one VIP. */
export class FlowClient {
  private readonly pending: ((v: unknown) => void)[] = [];
  constructor(readonly child: ChildProcess) {
    createInterface({ input: child.stdout! }).on('line', (l) => this.pending.shift()?.(JSON.parse(l)));
  }
  ask(cmd: string): Promise<unknown> {
    return new Promise((res) => { this.pending.push(res); this.child.stdin!.write(`${cmd}\n`); });
  }
  report = async (): Promise<FlowReport> => (await this.ask('report')) as FlowReport;
  /** Flows that no longer answer (see flows.mjs probe). */
  probe = async (): Promise<number[]> => ((await this.ask('probe')) as { silent: number[] }).silent;
  sports = async (): Promise<number[]> => ((await this.ask('sports')) as { sports: number[] }).sports;
}

/** SIGKILL to every process in the namespace (an agent and its BIRD); one that already exited is fine. */
export async function killAll(ns: Netns): Promise<void> {
  await run('sh', ['-c', `for p in $(ip netns pids ${ns.name}); do kill -9 $p 2>/dev/null; done; true`]);
}

export class EcmpLab {
  readonly topo: Topology;
  dir = '';
  router!: Netns;
  client!: Netns;
  /** d1..d3 (BGP), then v1, v2 (VRRP) when asked for. */
  readonly directors = new Map<string, Netns>();
  /** rs1..rs3. */
  readonly realServers = new Map<string, Netns>();
  readonly procs: ChildProcess[] = [];
  readonly agents = new Map<string, { child: ChildProcess; log: () => string }>();

  constructor(prefix: string, private readonly vrrpPair = false, private readonly moreGroups = false) {
    this.topo = new Topology(prefix);
  }

  dns(i: number): Netns {
    return this.directors.get(`d${i}`)!;
  }

  async build(): Promise<void> {
    const { topo } = this;
    this.dir = mkdtempSync('/tmp/lvs-bgp-');
    writeFileSync(join(this.dir, 'm.yaml'), manifest(this.vrrpPair, this.moreGroups));
    writeFileSync(join(this.dir, 'router.conf'), routerBird);
    const sw = await topo.ns('sw');
    await sw.ip('link', 'add', 'br0', 'type', 'bridge', 'mcast_snooping', '0', 'stp_state', '0', 'forward_delay', '0');
    await sw.up('br0');
    const prefix = topo.prefix;
    const port = async (ns: Netns, name: string, mac?: string): Promise<void> => {
      await topo.veth(ns, `${prefix}${name}-e`, sw, `${prefix}${name}-p`);
      await ns.ip('link', 'set', `${prefix}${name}-e`, 'down');
      await ns.ip('link', 'set', `${prefix}${name}-e`, 'name', 'eth0', ...(mac ? ['address', mac] : []));
      await ns.up('eth0');
      await sw.ip('link', 'set', `${prefix}${name}-p`, 'master', 'br0');
    };
    const base = async (ns: Netns): Promise<void> => {
      for (const k of ['all', 'default']) await ns.sysctl(`net.ipv4.conf.${k}.rp_filter`, 0);
    };
    this.client = await topo.ns('cli');
    this.router = await topo.ns('rtr');
    const { client, router } = this;
    await base(client);
    await base(router);
    await topo.veth(client, `${prefix}c-e`, router, `${prefix}r-c`, 'eth1');
    await client.ip('link', 'set', `${prefix}c-e`, 'down');
    await client.ip('link', 'set', `${prefix}c-e`, 'name', 'eth0');
    await client.up('eth0');
    await client.addr('eth0', `${CLIENT}/24`);
    await client.ip('route', 'add', 'default', 'via', '10.0.1.1');
    await router.addr('eth1', '10.0.1.1/24');
    await port(router, 'rt');
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
      this.realServers.set(`rs${i}`, rs);
      await base(rs);
      await port(rs, `s${i}`);
      await rs.addr('eth0', `${rsAddr(i)}/24`);
      await rs.addr('lo', `${VIP}/32`);
      if (this.vrrpPair) await rs.addr('lo', `${VRRP_VIP}/32`);
      for (const k of ['all', 'eth0']) {
        await rs.sysctl(`net.ipv4.conf.${k}.arp_ignore`, 1);
        await rs.sysctl(`net.ipv4.conf.${k}.arp_announce`, 2);
      }
      await rs.ip('route', 'add', 'default', 'via', ROUTER);
      for (const p of ['80', '81']) {
        const [cmd, ...args] = rs.command(process.execPath, [echoServer, `rs${i}`, p]);
        this.procs.push(spawn(cmd!, args, { stdio: 'ignore' }));
      }
    }
    const directors: [string, string, string][] = [1, 2, 3].map((i) => [`d${i}`, dirAddr(i), `02:00:0a:00:00:1${i}`]);
    if (this.vrrpPair) directors.push(['v1', vrrpAddr(1), '02:00:0a:00:00:31'], ['v2', vrrpAddr(2), '02:00:0a:00:00:32']);
    for (const [name, addr, mac] of directors) {
      const d = await topo.ns(name);
      this.directors.set(name, d);
      await base(d);
      // A fixed MAC: a returning director must not be blackholed by the router's stale ARP entry.
      await port(d, name, mac);
      await d.addr('eth0', `${addr}/24`);
      await d.ip('route', 'add', 'default', 'via', ROUTER);
    }
    const [bcmd, ...bargs] = router.command('bird', ['-f', '-c', join(this.dir, 'router.conf'), '-s', join(this.dir, 'router.ctl')]);
    this.procs.push(spawn(bcmd!, bargs, { stdio: 'ignore' }));
  }

  private nodes(): { name: string; labels: Record<string, string> }[] {
    return [...this.directors.keys()].map((name) => ({ name, labels: { 'lvs.dev/director': name.startsWith('v') ? 'pair' : 'edge' } }));
  }

  /** The directory of director `name`'s bird.conf and control socket (the agent's default, under its state). */
  birdDir(name: string): string {
    return join(this.dir, name, 'bird');
  }

  /**
   * Director `name`'s BIRD as the chart's sidecar container runs it: the chart's own script,
   * which waits for the agent's first bird.conf and then execs BIRD (same pid).
   */
  startBirdSidecar(name: string): { child: ChildProcess; out: () => string } {
    mkdirSync(this.birdDir(name), { recursive: true, mode: 0o700 });
    const [cmd, ...args] = this.directors.get(name)!.command('sh', [birdSidecarScript, this.birdDir(name)]);
    const child = spawn(cmd!, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.procs.push(child);
    let out = '';
    child.stdout!.on('data', (b: Buffer) => { out += b.toString(); });
    child.stderr!.on('data', (b: Buffer) => { out += b.toString(); });
    return { child, out: () => out };
  }

  /** Starts the agent of director `name` (fresh or returning); resolves after its first pass. With `birdSidecar`, as --bird=sidecar. */
  async startAgent(name: string, o: { birdSidecar?: boolean } = {}): Promise<void> {
    const state = join(this.dir, name);
    mkdirSync(state, { recursive: true });
    const [cmd, ...args] = this.directors.get(name)!.command(process.execPath, ['--import', 'tsx', directorProc, name, join(this.dir, 'm.yaml'), state, JSON.stringify(this.nodes())]);
    // Info from every component (health transitions among them): tests read the agent's log.
    const env = { ...process.env, LOG_LEVEL: 'info', ...(o.birdSidecar ? { LVS_TEST_BIRD_MODE: 'sidecar' } : {}) };
    const child = spawn(cmd!, args, { stdio: ['ignore', 'pipe', 'pipe'], cwd: projectRoot, env });
    this.procs.push(child);
    // Kept whole (a few hundred KB at most): tests read the agent's log from its start. Two
    // buffers: chunks of one stream must not be cut by lines of the other.
    let log = '';
    let out = '';
    child.stderr!.on('data', (b: Buffer) => { log = (log + b.toString()).slice(-2_000_000); });
    this.agents.set(name, { child, log: () => `${log}\n${out}` });
    await new Promise<void>((res, rej) => {
      // stdout: the daemon's own "ready" and the component loggers (health checks among them).
      createInterface({ input: child.stdout! }).on('line', (l) => {
        if (l.startsWith('ready')) res();
        out = (out + l + '\n').slice(-2_000_000);
      });
      child.once('exit', (c) => rej(new Error(`agent ${name} exited (${c}):\n${log}`)));
    });
  }

  /** Forgets a crashed director's state: empty IPVS table, no ownership record (a new machine). */
  async wipe(name: string): Promise<void> {
    await this.directors.get(name)!.exec('ipvsadm', ['-C']);
    rmSync(join(this.dir, name), { recursive: true, force: true });
  }

  async nexthops(vip = VIP): Promise<string> {
    const out = (await this.router.ip('route', 'show', vip)).stdout;
    return [...out.matchAll(/via (\S+)/g)].map((m) => m[1]).sort().join(' ');
  }

  /** Waits until the router's route to VIP has exactly these directors as next hops; ms waited. */
  async waitNexthops(want: number[], since = Date.now(), vip = VIP): Promise<number> {
    const text = want.map(dirAddr).join(' ');
    await waitUntil(`router next hops of ${vip} [${text}]`, async () => (await this.nexthops(vip)) === text, 60_000, 20).catch(async (e: Error) => {
      const logs = [...this.agents.entries()].map(([n, a]) => `--- ${n}\n${a.log().slice(-3000)}`).join('\n');
      throw new Error(`${e.message}; have [${await this.nexthops(vip)}]\n${logs}`);
    });
    return Date.now() - since;
  }

  /** `birdc show route <prefix> all` of the router: the route's attributes, communities among them. */
  async routerRoute(prefix: string): Promise<string> {
    return (await this.router.exec('birdc', ['-s', join(this.dir, 'router.ctl'), 'show', 'route', prefix, 'all'])).stdout;
  }

  /** `birdc show bfd sessions` of the router. */
  async routerBfd(): Promise<string> {
    return (await this.router.exec('birdc', ['-s', join(this.dir, 'router.ctl'), 'show', 'bfd', 'sessions'])).stdout;
  }

  startFlows(vip: string): FlowClient {
    const [cmd, ...args] = this.client.command(process.execPath, [flowsClient, vip, '80']);
    const child = spawn(cmd!, args, { stdio: ['pipe', 'pipe', 'inherit'] });
    this.procs.push(child);
    return new FlowClient(child);
  }

  /**
   * Where the router sends each long-lived flow of `flows` now: its multipath choice for the
   * flow's 5-tuple (`ip route get ... sport P`), counted per director of `which` (1-based). IPVS
   * tables would count a flow twice once the router has moved it (the old entry stays).
   */
  async spread(flows: FlowClient, which: number[], vip = VIP): Promise<number[]> {
    const batch = (await flows.sports()).map((p) => `route get ${vip} from ${CLIENT} iif eth1 ipproto tcp sport ${p} dport 80`).join('\n');
    const out = (await this.router.exec('ip', ['-batch', '-'], { input: `${batch}\n` })).stdout;
    const via = [...out.matchAll(/via (\S+)/g)].map((m) => m[1]);
    return which.map((i) => via.filter((v) => v === dirAddr(i)).length);
  }

  /**
   * For failed new connections: the director the router sends each source port to, and what that
   * director's IPVS holds for the 5-tuple now (`ipvsadm -Lnc`), so a failure says where it went.
   */
  async trace(sports: (number | undefined)[], vip = VIP): Promise<string[]> {
    const out: string[] = [];
    for (const p of sports) {
      if (p === undefined) { out.push('source port unknown'); continue; }
      const r = (await this.router.exec('ip', ['route', 'get', vip, 'from', CLIENT, 'iif', 'eth1', 'ipproto', 'tcp', 'sport', String(p), 'dport', '80'])).stdout;
      const via = /via (\S+)/.exec(r)?.[1];
      const i = [1, 2, 3].find((j) => dirAddr(j) === via);
      const conns = i === undefined ? '' : (await this.dns(i).exec('ipvsadm', ['-Lnc'])).stdout.split('\n').filter((l) => l.includes(`${CLIENT}:${p} `)).join('; ');
      out.push(`sport ${p} -> d${i ?? '?'}: ${conns || 'no IPVS entry'}`);
    }
    return out;
  }

  async destroy(): Promise<void> {
    for (const p of this.procs.splice(0)) p.kill('SIGKILL');
    // BIRD children of the agents outlive a killed agent by design.
    for (const ns of this.directors.values()) await killAll(ns).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 300));
    await this.topo.destroy();
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
  }
}
