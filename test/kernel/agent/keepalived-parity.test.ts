import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertInLab } from '../../lab/inside.js';
import { Topology, rootNs, type Netns } from '../../lab/netns.js';
import { labDir, projectRoot } from '../../lab/paths.js';
import { spawnTracked, tempDir, track } from '../../lab/reaper.js';
import { startNameServer, type RunningServer } from '../../lab/servers.js';

// The same quorum / sorry-server scenario run side by side: real keepalived 2.2.7 (checker only,
// TCP_CHECK) directing in one network namespace, our agent (the equivalent objects) in another,
// each with its own IPVS table, both checking the same real TCP servers on a shared bridge. At
// every step both `ipvsadm -S -n` dumps must equal the table the step expects, and each other.
// The VIPs are the same in both namespaces, so the dumps need no rewriting; only the order of
// destination lines is normalised (ipvsadm lists them in the order they were added, which is
// history, not state).

const net = '10.77.0';
const rsAddr = { a: `${net}.11`, b: `${net}.12`, c: `${net}.13`, d: `${net}.14` } as const;
type Rs = keyof typeof rsAddr;

// virtual_server 1: DR, quorum 3 with hysteresis 1 (lost below 2, regained at 4),
// inhibit_on_failure with one real server turning it off, a NAT sorry server on its own port
// parked at weight 0 (sorry_server_inhibit).
// virtual_server 2: fwmark DR, default quorum 1, a GUE-tunnelled sorry server (sorry_server_lvs_method),
// its real server's port cleared (DR under a fwmark).
// virtual_server 3: NAT, quorum 2 and no sorry server (the pool is left alone when it is lost),
// inhibit_on_failure on one real_server only.
const check = 'TCP_CHECK {\n      connect_timeout 1\n      retry 0\n      delay_before_retry 1\n    }';
const keepalivedConf = `global_defs {
  router_id parity
}
virtual_server 10.77.1.1 80 {
  delay_loop 1
  lb_algo wrr
  lb_kind DR
  protocol TCP
  quorum 3
  hysteresis 1
  inhibit_on_failure
  sorry_server ${net}.20 8080
  sorry_server_inhibit
  sorry_server_lvs_method NAT
  real_server ${rsAddr.a} 80 {
    weight 2
    ${check}
  }
  real_server ${rsAddr.b} 80 {
    weight 1
    inhibit_on_failure off
    ${check}
  }
  real_server ${rsAddr.c} 80 {
    weight 1
    ${check}
  }
}
virtual_server fwmark 7 {
  delay_loop 1
  lb_algo rr
  lb_kind DR
  sorry_server ${net}.21
  sorry_server_lvs_method TUN type gue port 6080
  real_server ${rsAddr.d} 80 {
    weight 1
    TCP_CHECK {
      connect_port 80
      connect_timeout 1
      retry 0
      delay_before_retry 1
    }
  }
}
virtual_server 10.77.1.3 80 {
  delay_loop 1
  lb_algo wlc
  lb_kind NAT
  protocol TCP
  quorum 2
  real_server ${rsAddr.a} 80 {
    weight 1
    inhibit_on_failure
    ${check}
  }
  real_server ${rsAddr.c} 80 {
    weight 1
    ${check}
  }
}
`;

const healthCheck = { type: 'TCP', intervalSeconds: 2, timeoutSeconds: 1, rise: 1, fall: 1 };
const ns = 'parity';
const realServer = (name: string, app: string, spec: Record<string, unknown>): object =>
  ({ apiVersion: 'lvs.dev/v1alpha1', kind: 'RealServer', metadata: { name, namespace: ns, labels: { app } }, spec });
const virtualService = (name: string, spec: Record<string, unknown>): object =>
  ({ apiVersion: 'lvs.dev/v1alpha1', kind: 'VirtualService', metadata: { name, namespace: ns }, spec: { directorGroup: 'parity', healthCheck, backends: { realServerSelector: { matchLabels: { app: name } } }, ...spec } });

// The same three services as objects (JSON is YAML).
const manifests = [
  { apiVersion: 'lvs.dev/v1alpha1', kind: 'DirectorGroup', metadata: { name: 'parity' }, spec: { nodeSelector: { matchLabels: { 'lvs.dev/director': 'parity' } }, interface: 'eth0' } },
  virtualService('vs1', {
    vip: '10.77.1.1', port: 80, protocol: 'TCP', scheduler: 'wrr', forwarding: { method: 'DR' },
    quorum: { weight: 3, hysteresis: 1 }, inhibitOnFailure: true,
    sorryServer: { address: `${net}.20`, port: 8080, inhibit: true, forwarding: { method: 'NAT' } },
  }),
  realServer('vs1-a', 'vs1', { address: rsAddr.a, weight: 2 }),
  realServer('vs1-b', 'vs1', { address: rsAddr.b, weight: 1, inhibitOnFailure: false }),
  realServer('vs1-c', 'vs1', { address: rsAddr.c, weight: 1 }),
  virtualService('vs2', {
    fwmark: 7, scheduler: 'rr', forwarding: { method: 'DR' }, healthCheck: { ...healthCheck, port: 80 },
    sorryServer: { address: `${net}.21`, forwarding: { method: 'TUN', tunnelType: 'gue', tunnelPort: 6080 } },
  }),
  realServer('vs2-d', 'vs2', { address: rsAddr.d, port: 80, weight: 1 }),
  virtualService('vs3', { vip: '10.77.1.3', port: 80, protocol: 'TCP', scheduler: 'wlc', forwarding: { method: 'NAT' }, quorum: { weight: 2 } }),
  realServer('vs3-a', 'vs3', { address: rsAddr.a, port: 80, weight: 1, inhibitOnFailure: true }),
  realServer('vs3-c', 'vs3', { address: rsAddr.c, port: 80, weight: 1 }),
].map((o) => JSON.stringify(o)).join('\n---\n');

const svc1 = '-A -t 10.77.1.1:80 -s wrr';
const svc2 = '-A -f 7 -s rr';
const svc3 = '-A -t 10.77.1.3:80 -s wlc';
const d1 = (addr: string, w: number, fwd = '-g', port = 80): string => `-a -t 10.77.1.1:80 -r ${addr}:${port} ${fwd} -w ${w}`;
const d2 = (addr: string, w: number, fwd = '-g'): string => `-a -f 7 -r ${addr}:0 ${fwd} -w ${w}${fwd === '-i' ? ' --tun-type gue --tun-port 6080 --tun-nocsum' : ''}`;
const d3 = (addr: string, w: number): string => `-a -t 10.77.1.3:80 -r ${addr}:80 -m -w ${w}`;

const allUp = [
  svc1, d1(rsAddr.a, 2), d1(rsAddr.b, 1), d1(rsAddr.c, 1), d1(`${net}.20`, 0, '-m', 8080),
  svc2, d2(rsAddr.d, 1),
  svc3, d3(rsAddr.a, 1), d3(rsAddr.c, 1),
];
// c down: inhibited at 0 in vs1 (live weight 3, quorum holds), removed from vs3 (quorum 2 lost,
// no sorry server: nothing else changes).
const oneDown = [
  svc1, d1(rsAddr.a, 2), d1(rsAddr.b, 1), d1(rsAddr.c, 0), d1(`${net}.20`, 0, '-m', 8080),
  svc2, d2(rsAddr.d, 1),
  svc3, d3(rsAddr.a, 1),
];
// a and d down too: vs1 at live weight 1 < 3 - 1 loses quorum: the sorry server at weight 1, the
// live b (not inhibited) out, the failed inhibited a and c at 0. vs2 loses quorum: d out, the TUN
// sorry server in. vs3: a inhibited at 0.
const quorumLost = [
  svc1, d1(rsAddr.a, 0), d1(rsAddr.c, 0), d1(`${net}.20`, 1, '-m', 8080),
  svc2, d2(`${net}.21`, 1, '-i'),
  svc3, d3(rsAddr.a, 0),
];
// a and d back: vs1 at live weight 3 < 3 + 1 stays on the sorry server, a left at 0 (keepalived
// changes no real server while the sorry server serves); vs2 regains quorum; vs3 takes a back.
const oneBack = [
  svc1, d1(rsAddr.a, 0), d1(rsAddr.c, 0), d1(`${net}.20`, 1, '-m', 8080),
  svc2, d2(rsAddr.d, 1),
  svc3, d3(rsAddr.a, 1),
];

/** Destination lines sorted under their service, services sorted. */
function normalise(lines: string[]): string[] {
  const groups: string[][] = [];
  for (const l of lines) {
    if (l.startsWith('-A')) groups.push([l]);
    else groups.at(-1)!.push(l);
  }
  return groups.sort((x, y) => x[0]!.localeCompare(y[0]!)).flatMap(([head, ...dests]) => [head!, ...dests.sort()]);
}

/** `ipvsadm -S -n` of a namespace, normalised. */
async function table(n: Netns): Promise<string[]> {
  return normalise((await n.exec('ipvsadm', ['-S', '-n'])).stdout.split('\n').map((l) => l.trim()).filter(Boolean));
}

/** keepalived's checker process (-C) in a namespace, its log kept for the test to read. */
class KeepalivedChecker {
  log = '';
  private constructor(private readonly stopFn: () => Promise<void>) {}

  static start(n: Netns, conf: string): KeepalivedChecker {
    // Pids repeat from one lab boot to the next: stale pid files would make keepalived think it already runs.
    const dir = labDir('keepalived', 'parity');
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    track(tempDir(dir));
    writeFileSync(join(dir, 'keepalived.conf'), conf);
    const [cmd, ...args] = n.command('keepalived', ['-n', '-l', '-D', '-C', '--no-syslog', '-f', join(dir, 'keepalived.conf'),
      '-p', join(dir, 'keepalived.pid'), '-c', join(dir, 'checkers.pid'), '-r', join(dir, 'vrrp.pid'), '-i', 'parity']);
    const { child, stop } = spawnTracked(cmd!, args, { name: 'keepalived parity', cwd: projectRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    const k = new KeepalivedChecker(stop);
    const onData = (d: Buffer): void => { k.log += d; };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    return k;
  }

  stop(): Promise<void> {
    return this.stopFn();
  }
}

interface QuorumView { key: string; quorumUp: boolean; liveWeight: number }

/** Our agent (parity-agent.ts) in a namespace; `services` is what it last reported. */
class OurDirector {
  services: QuorumView[] = [];
  out = '';
  private constructor(private readonly stopFn: () => Promise<void>) {}

  static start(n: Netns, manifest: string, stateDir: string): OurDirector {
    const script = fileURLToPath(new URL('./parity-agent.ts', import.meta.url));
    const nodes = JSON.stringify([{ name: 'director', labels: { 'lvs.dev/director': 'parity' } }]);
    const [cmd, ...args] = n.command(process.execPath, ['--import', 'tsx', script, 'director', manifest, stateDir, nodes]);
    const { child, stop } = spawnTracked(cmd!, args, { name: 'parity agent', cwd: projectRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    const d = new OurDirector(stop);
    let buf = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      buf += chunk;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        d.out += `${line}\n`;
        if (line.startsWith('{"services"')) d.services = (JSON.parse(line) as { services: QuorumView[] }).services;
      }
    });
    child.stderr!.on('data', (chunk: Buffer) => { d.out += chunk; });
    return d;
  }

  quorum(key: string): QuorumView | undefined {
    return this.services.find((s) => s.key === key);
  }

  stop(): Promise<void> {
    return this.stopFn();
  }
}

/** Polls until `cond` holds; on the deadline fails with what `explain` says. */
async function until(what: string, cond: () => Promise<boolean> | boolean, explain: () => Promise<string> | string, timeoutMs = 60_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}\n${await explain()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('quorum and sorry server side by side with keepalived 2.2.7', () => {
  const topo = new Topology('par');
  let ka: Netns;
  let us: Netns;
  let rsNs: Netns;
  let dir: string;
  let keepalived: KeepalivedChecker | undefined;
  let ours: OurDirector | undefined;
  const servers = new Map<Rs, RunningServer>();

  const startServer = async (r: Rs): Promise<void> => { servers.set(r, await startNameServer(rsNs, rsAddr[r], 80, r)); };
  const stopServer = async (r: Rs): Promise<void> => { await servers.get(r)?.stop(); servers.delete(r); };

  beforeAll(async () => {
    assertInLab();
    dir = mkdtempSync('/tmp/lvs-parity-');
    await topo.bridge(rootNs, 'par-br');
    for (const [name, addrs] of [['ka', [`${net}.2`]], ['us', [`${net}.3`]], ['rs', Object.values(rsAddr)]] as const) {
      const n = await topo.ns(name);
      await topo.veth(rootNs, `par-${name}-h`, n, `par-${name}-n`, 'eth0');
      await topo.attach(rootNs, `par-${name}-h`, 'par-br');
      for (const a of addrs) await n.addr('eth0', `${a}/24`);
      if (name === 'ka') ka = n;
      else if (name === 'us') us = n;
      else rsNs = n;
    }
    for (const r of Object.keys(rsAddr) as Rs[]) await startServer(r);
  });

  afterAll(async () => {
    await ours?.stop();
    await keepalived?.stop();
    for (const r of [...servers.keys()]) await stopServer(r);
    await topo.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Both tables reach `expected`; then they are equal to each other, line for line. */
  async function bothAt(step: string, expected: string[]): Promise<void> {
    const want = normalise(expected);
    const explain = async (): Promise<string> =>
      `expected:\n${want.join('\n')}\nkeepalived:\n${(await table(ka)).join('\n')}\nours:\n${(await table(us)).join('\n')}\n` +
      `--- keepalived log ---\n${keepalived!.log.slice(-3000)}\n--- our agent ---\n${ours!.out.slice(-3000)}`;
    const at = async (n: Netns): Promise<boolean> => JSON.stringify(await table(n)) === JSON.stringify(want);
    await until(`keepalived's table ${step}`, () => at(ka), explain);
    await until(`our table ${step}`, () => at(us), explain);
    expect(await table(us), step).toEqual(await table(ka));
  }

  it('keeps the same IPVS table as keepalived through all up, one down, quorum lost, one back, quorum regained', async () => {
    keepalived = KeepalivedChecker.start(ka, keepalivedConf);
    const manifest = join(dir, 'parity.yaml');
    writeFileSync(manifest, manifests);
    mkdirSync(join(dir, 'state'));
    ours = OurDirector.start(us, manifest, join(dir, 'state'));

    await bothAt('with all real servers up', allUp);

    await stopServer('c');
    await bothAt('with c down', oneDown);

    await stopServer('a');
    await stopServer('d');
    await bothAt('with quorum lost', quorumLost);

    // vs1's table does not move when a comes back (hysteresis), so each side must be seen to
    // have checked a up for vs1 before the table counts: keepalived logs it, ours reports weight 3.
    const logFrom = keepalived.log.length;
    await startServer('a');
    await startServer('d');
    await bothAt('with a and d back', oneBack);
    await until('keepalived to see a up in vs1', () => /Enabling service \[10\.77\.0\.11\]:tcp:80 of VS \[10\.77\.1\.1\]:tcp:80/.test(keepalived!.log.slice(logFrom)), () => keepalived!.log.slice(-3000));
    await until('our agent to see a up in vs1', () => ours!.quorum('parity/vs1')?.liveWeight === 3, () => ours!.out.slice(-3000));
    expect(ours.quorum('parity/vs1')).toMatchObject({ quorumUp: false, liveWeight: 3 });
    expect(keepalived.log.slice(logFrom)).not.toMatch(/Gained quorum .* for VS \[10\.77\.1\.1\]:tcp:80/);
    await bothAt('with a and d back, vs1 still on its sorry server', oneBack);

    await startServer('c');
    await bothAt('with quorum regained', allUp);
    expect(keepalived.log).toMatch(/Gained quorum .* for VS \[10\.77\.1\.1\]:tcp:80/);
    expect(ours.quorum('parity/vs1')).toMatchObject({ quorumUp: true, liveWeight: 4 });
  });
});
