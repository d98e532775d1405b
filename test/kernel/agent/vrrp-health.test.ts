import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertInLab, sh } from '../../lab/inside.js';
import { projectRoot } from '../../lab/paths.js';
import { hasAddress, vrrpLan, type LanNode, type VrrpLan } from '../vrrp/lan.js';
import { waitUntil } from '../vrrp/routers.js';

// Priority that follows health with two real agents (the daemon, VRRP included) directing one
// NAT VirtualService whose real server runs in a third namespace. d1 is the preferred master
// (Node annotation priority 150, d2 100, default unhealthyPriorityDrop 100). When d1's checks of
// the real server fail (iptables DROP in d1's namespace) d1 has no live real server for the VIP,
// lowers its priority to 50, and d2 takes the VIP; when they pass again d1 takes it back (preempt).
const directorProc = fileURLToPath(new URL('./director-proc.ts', import.meta.url));
const VIP = '10.225.0.100';
const RS = '10.225.0.9';

describe('priority follows health: agents on the lab kernel', () => {
  let lan: VrrpLan;
  let dir: string;
  const procs: ChildProcess[] = [];
  let d1: LanNode;
  let d2: LanNode;

  const nodes = [
    { name: 'd1', labels: { 'lvs.dev/director': 'g1' }, annotations: { 'lvs.dev/vrrp-priority': '150' } },
    { name: 'd2', labels: { 'lvs.dev/director': 'g1' } },
  ];
  const manifest = [
    'apiVersion: lvs.dev/v1alpha1\nkind: DirectorGroup\nmetadata: {name: g1}\nspec:\n  nodeSelector: {matchLabels: {lvs.dev/director: g1}}\n  interface: eth0\n  vrrp: {advertIntervalMs: 200}',
    `apiVersion: lvs.dev/v1alpha1\nkind: VirtualService\nmetadata: {name: web, namespace: t}\nspec:\n  vip: ${VIP}\n  port: 80\n  protocol: TCP\n  scheduler: rr\n  forwarding: {method: NAT}\n  backends: {realServerSelector: {matchLabels: {app: web}}}\n  healthCheck: {type: TCP, intervalSeconds: 2, timeoutSeconds: 1, fall: 2, rise: 1}\n  directorGroup: g1`,
    `apiVersion: lvs.dev/v1alpha1\nkind: RealServer\nmetadata: {name: rs1, namespace: t, labels: {app: web}}\nspec: {address: ${RS}, port: 80}`,
  ].join('\n---\n');

  interface Director { node: LanNode; events: { states: string[]; priorities: number[]; t: number }[]; log: () => string }
  const directors: Record<string, Director> = {};

  const startDirector = async (name: 'd1' | 'd2', node: LanNode): Promise<void> => {
    const file = join(dir, 'm.yaml');
    const state = join(dir, name);
    mkdirSync(state, { recursive: true });
    const [cmd, ...args] = node.ns.command(process.execPath, ['--import', 'tsx', directorProc, name, file, state, JSON.stringify(nodes)]);
    const child = spawn(cmd!, args, { stdio: ['ignore', 'pipe', 'pipe'], cwd: projectRoot });
    procs.push(child);
    let log = '';
    const d: Director = { node, events: [], log: () => log };
    directors[name] = d;
    child.stderr!.on('data', (b: Buffer) => { log = (log + b.toString()).slice(-8000); });
    const lines = createInterface({ input: child.stdout! });
    const ready = new Promise<void>((res, rej) => {
      lines.on('line', (l) => {
        if (l.startsWith('ready')) res();
        else if (l.startsWith('{')) d.events.push(JSON.parse(l) as Director['events'][number]);
      });
      child.once('exit', (c) => rej(new Error(`director ${name} exited (${c}):\n${log}`)));
    });
    await ready;
  };
  const holder = async (): Promise<string[]> => {
    const out: string[] = [];
    for (const [name, d] of Object.entries(directors)) if (await hasAddress(d.node, VIP)) out.push(name);
    return out.sort();
  };
  const waitHolder = async (name: string, since: number): Promise<number> => {
    await waitUntil(`${VIP} only on ${name}`, async () => (await holder()).join() === name, 30_000, 50).catch(async (e: Error) => {
      const report = Object.entries(directors).map(([n, d]) => `--- ${n}: ${JSON.stringify(d.events.slice(-5))}\n${d.log().slice(-3000)}`).join('\n');
      throw new Error(`${e.message}; holders now: ${(await holder()).join() || 'none'}\n${report}`);
    });
    return Date.now() - since;
  };
  const priorities = (name: string): number[] => directors[name]!.events.at(-1)?.priorities ?? [];

  beforeAll(async () => {
    assertInLab();
    dir = mkdtempSync('/tmp/lvs-vrrp-health-');
    writeFileSync(join(dir, 'm.yaml'), manifest);
    lan = await vrrpLan('va', 5);
    // One interface name on both directors (the DirectorGroup names one), and a TCP server on the real server.
    await sh(['a', 'b'].map((x) => `ip -n va-${x} link set va-${x}0 down && ip -n va-${x} link set va-${x}0 name eth0 && ip -n va-${x} link set eth0 up`).join(' && '));
    d1 = { ...lan.a, dev: 'eth0' };
    d2 = { ...lan.b, dev: 'eth0' };
    const [cmd, ...args] = lan.client.ns.command(process.execPath, ['-e', `require('net').createServer((s) => s.end('ok\\n')).listen(80, '${RS}')`]);
    procs.push(spawn(cmd!, args, { stdio: 'ignore' }));
  });
  afterAll(async () => {
    for (const p of procs.splice(0)) p.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 500));
    await lan?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the master whose checks of every real server fail hands the VIP to the director that can serve, and takes it back when they pass', async () => {
    await startDirector('d1', d1);
    await startDirector('d2', d2);
    const t0 = Date.now();
    console.log(`vrrp-health-figures d1 holds the VIP ${await waitHolder('d1', t0)} ms after both agents started`);
    await waitUntil('d1 at its full priority', () => priorities('d1').join() === '150', 30_000);

    const cut = Date.now();
    await d1.ns.exec('iptables', ['-A', 'OUTPUT', '-d', RS, '-p', 'tcp', '--dport', '80', '-j', 'DROP']);
    const moved = await waitHolder('d2', cut);
    console.log(`vrrp-health-figures checks blocked on d1: the VIP on d2 after ${moved} ms (checks: 2 s interval, 1 s timeout, fall 2)`);
    expect(priorities('d1')).toEqual([50]);
    expect(priorities('d2')).toEqual([100]);
    expect(directors.d1!.events.at(-1)!.states).toEqual(['backup']);

    const healed = Date.now();
    await d1.ns.exec('iptables', ['-D', 'OUTPUT', '-d', RS, '-p', 'tcp', '--dport', '80', '-j', 'DROP']);
    const back = await waitHolder('d1', healed);
    console.log(`vrrp-health-figures checks pass again on d1: the VIP back on d1 (preempt) after ${back} ms`);
    expect(priorities('d1')).toEqual([150]);
    expect(directors.d2!.events.at(-1)!.states).toEqual(['backup']);
  });
});
