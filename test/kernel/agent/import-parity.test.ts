import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { importConfig } from '../../../src/import/index.js';
import { assertInLab } from '../../lab/inside.js';
import { Topology, rootNs, type Netns } from '../../lab/netns.js';
import { labDir, projectRoot } from '../../lab/paths.js';
import { spawnTracked, tempDir, track } from '../../lab/reaper.js';
import { type HttpServer, type RunningServer, startHttpServer, startNameServer } from '../../lab/servers.js';

// `lvs-operator import` proven on a kernel: real keepalived 2.2.7 (checker only) directs from a
// keepalived.conf in one network namespace, our agent from what the importer made of the same
// file in another; both check the same real servers. At every step the two `ipvsadm -S -n`
// dumps must be equal (destination lines sorted under their service: their order is history).
// The file (a corpus fixture) uses what the importer must get right: a virtual_server_group with an address range,
// a real server without a checker (always up), a fwmark DR service whose real server port
// keepalived clears, HTTP_GET with a status range and with keepalived's default (any 2xx),
// inhibit_on_failure, sh-port, persistence, and connect_timeout not below delay_loop.

const net = '10.78.0';
const A = `${net}.11`;
const B = `${net}.12`;
const C = `${net}.13`;
const fixture = join(projectRoot, 'test/unit/import/fixtures/corpus/kernel-parity.conf');

function normalise(lines: string[]): string[] {
  const groups: string[][] = [];
  for (const l of lines) {
    if (l.startsWith('-A')) groups.push([l]);
    else groups.at(-1)?.push(l);
  }
  return groups.sort((x, y) => (x[0] as string).localeCompare(y[0] as string)).flatMap(([head, ...dests]) => [head as string, ...dests.sort()]);
}

async function table(n: Netns): Promise<string[]> {
  return normalise((await n.exec('ipvsadm', ['-S', '-n'])).stdout.split('\n').map((l) => l.trim()).filter(Boolean));
}

async function until(what: string, cond: () => Promise<boolean>, explain: () => Promise<string>, timeoutMs = 60_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}\n${await explain()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** A tracked process whose output is kept for failure messages. */
function start(n: Netns, name: string, command: string, args: string[]): { log: () => string; stop: () => Promise<void> } {
  const [cmd, ...rest] = n.command(command, args);
  const { child, stop } = spawnTracked(cmd as string, rest, { name, cwd: projectRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  const keep = (d: Buffer): void => {
    log = (log + String(d)).slice(-20_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return { log: () => log, stop };
}

describe('lvs-operator import: the imported objects program the table keepalived 2.2.7 programs', () => {
  const topo = new Topology('imp');
  let ka: Netns;
  let us: Netns;
  let rsNs: Netns;
  let dir: string;
  const procs: { stop: () => Promise<void> }[] = [];
  const servers: RunningServer[] = [];
  const web = new Map<string, HttpServer>();

  beforeAll(async () => {
    assertInLab();
    dir = mkdtempSync('/tmp/lvs-import-parity-');
    await topo.bridge(rootNs, 'imp-br');
    for (const [name, addrs] of [['ka', [`${net}.2`]], ['us', [`${net}.3`]], ['rs', [A, B, C]]] as const) {
      const n = await topo.ns(name);
      await topo.veth(rootNs, `imp-${name}-h`, n, `imp-${name}-n`, 'eth0');
      await topo.attach(rootNs, `imp-${name}-h`, 'imp-br');
      for (const a of addrs) await n.addr('eth0', `${a}/24`);
      if (name === 'ka') ka = n;
      else if (name === 'us') us = n;
      else rsNs = n;
    }
    for (const a of [A, B]) servers.push(await startNameServer(rsNs, a, 80, a));
    for (const a of [A, B]) web.set(a, await startHttpServer(rsNs, 'http', a, 8080, a));
  });

  afterAll(async () => {
    for (const p of procs.reverse()) await p.stop();
    for (const s of [...servers, ...web.values()]) await s.stop();
    await topo.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('equal tables with all up, a TCP server down, an HTTP server failing (inhibited) and back on a 204', async () => {
    const kaDir = labDir('keepalived', 'import-parity');
    rmSync(kaDir, { recursive: true, force: true });
    mkdirSync(kaDir, { recursive: true });
    track(tempDir(kaDir));
    const confPath = join(kaDir, 'keepalived.conf');
    writeFileSync(confPath, readFileSync(fixture, 'utf8'));
    const imported = importConfig(confPath, { namespace: 'imp', nodeSelector: { key: 'lvs.dev/director', value: 'imported' } });
    expect(imported.findings.filter((f) => f.level === 'error')).toEqual([]);
    const manifest = join(dir, 'imported.yaml');
    writeFileSync(manifest, imported.objects.map((o) => stringify(o)).join('---\n'));
    mkdirSync(join(dir, 'state'));

    const keepalived = start(ka, 'keepalived import-parity', 'keepalived', ['-n', '-l', '-D', '-C', '--no-syslog', '-f', confPath,
      '-p', join(kaDir, 'keepalived.pid'), '-c', join(kaDir, 'checkers.pid'), '-r', join(kaDir, 'vrrp.pid'), '-i', 'import-parity']);
    procs.push(keepalived);
    const script = fileURLToPath(new URL('./parity-agent.ts', import.meta.url));
    const nodes = JSON.stringify([{ name: 'director', labels: { 'lvs.dev/director': 'imported' } }]);
    const ours = start(us, 'import-parity agent', process.execPath, ['--import', 'tsx', script, 'director', manifest, join(dir, 'state'), nodes]);
    procs.push(ours);

    const both = async (step: string, holds: (t: string[]) => boolean): Promise<void> => {
      const explain = async (): Promise<string> =>
        `keepalived:\n${(await table(ka)).join('\n')}\nours:\n${(await table(us)).join('\n')}\n--- keepalived ---\n${keepalived.log().slice(-3000)}\n--- ours ---\n${ours.log().slice(-3000)}`;
      await until(step, async () => {
        const k = await table(ka);
        return holds(k) && JSON.stringify(k) === JSON.stringify(await table(us));
      }, explain);
    };
    const has = (line: string) => (t: string[]): boolean => t.includes(line);

    // Two group services of three destinations (C unchecked, so up), the fwmark one, the NAT one.
    await both('all up', (t) => t.length === 13 && has(`-a -f 9 -r ${A}:0 -g -w 1`)(t));
    const all = await table(us);
    expect(all.find((l) => l.startsWith('-A -t 10.78.1.2:80 '))).toMatch(/-s wrr.* -p 30\b/);
    expect(all).toContain(`-a -t 10.78.1.1:80 -r ${C}:80 -g -w 2`);
    expect(all.find((l) => l.startsWith('-A -t 10.78.1.3:8080 '))).toMatch(/-s sh\b.*-b sh-port/);

    await servers[1]?.stop();
    await both('B down on port 80', (t) => t.length === 11 && !t.some((l) => l.includes(`-r ${B}:80 `)));

    web.get(B)?.setStatus(503);
    await both('B failing HTTP, inhibited', has(`-a -t 10.78.1.3:8080 -r ${B}:8080 -m -w 0`));

    // keepalived's default, any 2xx, is ours too: a 204 brings B back.
    web.get(B)?.setStatus(204);
    await both('B back on a 204', has(`-a -t 10.78.1.3:8080 -r ${B}:8080 -m -w 1`));
  });
});
