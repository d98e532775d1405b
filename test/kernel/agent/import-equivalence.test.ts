import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { stringify } from 'yaml';
import { formatFinding, ImportError, importConfig, type ImportResult } from '../../../src/import/index.js';
import { assertInLab, run } from '../../lab/inside.js';
import { Topology } from '../../lab/netns.js';
import { labDir, projectRoot } from '../../lab/paths.js';
import { tempDir, track } from '../../lab/reaper.js';
import { type Proc, Side, startProc } from './equivalence-lab.js';
import { inTable, planOf } from './equivalence-plan.js';

// Issue 12: every configuration of the importer's fixtures, run by what it was written for
// (keepalived 2.2.7, or ipvsadm for a dump) on one side and by our agent, fed the imported
// objects, on the other. Each side is its own LAN (director + real servers), so both directors
// become VRRP MASTER alone. At each step the normalised `ipvsadm -S -n` dumps and the addresses on
// the directors' interfaces must be equal: all up; one checked real server down (every listener
// of its address closed on both sides); that server back. Where they cannot be equal the
// importer's finding (file and line) saying why is asserted, and only that part is left out.
// Configurations run concurrently, each in namespaces of its own (nothing can clash); the slow
// ones (long delay_loop) first.

const fixtures = join(projectRoot, 'test/unit/import/fixtures');
// Our side is the product's standalone agent (`lvs-operator agent --manifests`), VRRP included.
const cli = join(projectRoot, 'src/cli/main.ts');
const selector = { key: 'lvs.dev/director', value: 'equiv' };

interface Case {
  file: string;
  /** The real server address taken down and brought back, or why no server is. */
  health: { down: string } | { none: string; finding?: [number, RegExp] };
  /** Table lines left out on both sides, with the importer's finding that says why they differ. */
  differ?: { finding: [number, RegExp]; lines: (l: string) => boolean }[];
  /** The importer refuses the whole file: nothing runs. */
  refused?: [number, RegExp];
}

const cases: Case[] = [
  { file: 'corpus/includes/keepalived.conf', health: { down: '2001:db8::21' } },
  { file: 'corpus/misc-check.conf', health: { down: '10.3.0.2' } },
  { file: 'corpus/http-multi-url.conf', health: { down: '10.2.0.2' } },
  { file: 'corpus/dr-master.conf', health: { down: '192.0.2.21' } },
  { file: 'corpus/dr-backup.conf', health: { down: '192.0.2.21' } },
  { file: 'seeds/002-master.conf', health: { down: '192.168.25.31' } },
  { file: 'seeds/002-backup.conf', health: { down: '192.168.25.31' } },
  { file: 'corpus/deprecated.conf', health: { down: '10.4.0.1' } },
  { file: 'corpus/dns-udp.conf', health: { down: '192.0.2.62' } },
  { file: 'corpus/fwmark-groups.conf', health: { down: '10.0.1.2' } },
  { file: 'corpus/kernel-parity.conf', health: { down: '10.78.0.12' } },
  {
    file: 'corpus/refused-values.conf',
    health: { none: 'keepalived runs 10.5.0.1 at weight 70000, the API refuses it (1 is used): quorum 2 + hysteresis 1 is met there, never here, so no real-server line can match' },
    differ: [{ finding: [24, /weight '70000' must be 0\.\.65535 here: 1 is used/], lines: (l) => l.startsWith('-a -u 192.0.2.70:80 ') }],
  },
  { file: 'corpus/nat-gateway.conf', health: { none: 'both real servers\' SSL_GET wants a page digest no lab page has: down on both sides from the first check' } },
  { file: 'corpus/substitution.conf', health: { none: 'its one real server has no checker', finding: [15, /no checker: keepalived keeps this real server up/] } },
  { file: 'seeds/004-vroute1.conf', health: { none: 'no virtual_server: VRRP and the address only' } },
  { file: 'seeds/004-vroute2.conf', health: { none: 'no virtual_server: VRRP and the address only' } },
  { file: 'corpus/ipvsadm-save.txt', health: { none: 'an ipvsadm dump has no checks', finding: [1, /ipvsadm has no health checks: healthCheck type None/] } },
  { file: 'seeds/000-dr.ipvsadm', health: { none: 'an ipvsadm dump has no checks', finding: [1, /ipvsadm has no health checks/] } },
  { file: 'seeds/000-nat.ipvsadm', health: { none: 'ipvsadm refuses every line; nothing imported', finding: [1, /nothing to import/] } },
  { file: 'seeds/003-dr.ipvsadm', health: { none: 'an ipvsadm dump has no checks', finding: [1, /ipvsadm has no health checks/] } },
  { file: 'seeds/003-nat.ipvsadm', health: { none: 'an ipvsadm dump has no checks', finding: [1, /ipvsadm has no health checks/] } },
  { file: 'seeds/003-tun.ipvsadm', health: { none: 'an ipvsadm dump has no checks', finding: [1, /ipvsadm has no health checks/] } },
  { file: 'corpus/unterminated.conf', health: { none: 'not imported' }, refused: [4, /unterminated block: '\{' opened here is never closed/] },
];

// Four at a time: most of a run is waiting for check intervals, but the lab kernel has one CPU
// and 2 GiB for every agent, keepalived and server process (six at a time starved it).
vi.setConfig({ maxConcurrency: 4 });

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const findingAt = (r: ImportResult, line: number, re: RegExp): boolean => r.findings.some((f) => f.line === line && re.test(f.message));

/** How long one step may take: the slowest check's interval, its retries and timeout, twice, and VRRP's start. */
function stepTimeoutMs(objects: ImportResult['objects']): number {
  let span = 0;
  for (const o of objects) {
    const s = (o as { spec?: { healthCheck?: Record<string, number>; healthChecks?: Record<string, number>[] } }).spec;
    for (const c of [s?.healthCheck, ...(s?.healthChecks ?? [])]) {
      if (!c || c.intervalSeconds === undefined) continue;
      span = Math.max(span, c.intervalSeconds + (c.fall ?? 1) * ((c.retryDelaySeconds ?? c.intervalSeconds) + (c.timeoutSeconds ?? 0)));
    }
  }
  // A bound on waiting for equality, not a timing under test: with the kernel tier's other files
  // in the same lab kernel our agent once logged nothing within 30 s of its start.
  return (90 + 2 * span) * 1000;
}

describe('lvs-operator import: every fixture configuration, keepalived 2.2.7 or ipvsadm against our agent', () => {
  let dir: string;
  let certDir: string;

  beforeAll(async () => {
    assertInLab();
    dir = mkdtempSync('/tmp/lvs-import-equiv-');
    certDir = join(dir, 'tls');
    mkdirSync(certDir);
    // The agents' TypeScript compiled once into tsx's cache, not by each of the first agents at once.
    await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', `await import(${JSON.stringify(join(projectRoot, 'src/agent/daemon.ts'))})`]);
    await run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', join(certDir, 'key.pem'), '-out', join(certDir, 'cert.pem'), '-days', '1', '-subj', '/CN=rs']);
  });

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('lists every configuration of the fixtures with its fate', () => {
    const all = [
      ...readdirSync(join(fixtures, 'corpus')).filter((f) => f !== 'README.md' && f !== 'includes').map((f) => `corpus/${f}`),
      'corpus/includes/keepalived.conf',
      ...readdirSync(join(fixtures, 'seeds')).filter((f) => f !== 'README.md').map((f) => `seeds/${f}`),
    ].sort();
    expect(cases.map((c) => c.file).sort()).toEqual(all);
  });

  it.concurrent.each(cases.map((c, i) => ({ ...c, i })))('$file', async (c) => {
    const path = join(fixtures, c.file);
    const opts = { namespace: 'equiv', nodeSelector: selector };
    if (c.refused) {
      let err: unknown;
      try {
        importConfig(path, opts);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ImportError);
      expect((err as ImportError).at.file.endsWith(c.file), (err as ImportError).at.file).toBe(true);
      expect((err as ImportError).at.line).toBe(c.refused[0]);
      expect((err as ImportError).message).toMatch(c.refused[1]);
      return;
    }
    const imported = importConfig(path, opts);
    const shown = imported.findings.map(formatFinding).join('\n');
    for (const d of c.differ ?? []) expect(findingAt(imported, d.finding[0], d.finding[1]), `finding at line ${d.finding[0]} ${d.finding[1]}\n${shown}`).toBe(true);
    if ('none' in c.health && c.health.finding) expect(findingAt(imported, c.health.finding[0], c.health.finding[1]), `${c.health.none}\n${shown}`).toBe(true);
    const plan = planOf(imported.objects);
    if ('down' in c.health) expect(plan.checked, 'the server taken down is checked on both sides').toContain(c.health.down);
    else if (!c.differ) expect(plan.checked, c.health.none).toEqual([]);

    const topo = new Topology(`eq${c.i}`);
    const work = labDir('keepalived', `equiv-${c.i}`);
    rmSync(work, { recursive: true, force: true });
    mkdirSync(join(work, 'state'), { recursive: true });
    track(tempDir(work));
    const procs: Proc[] = [];
    const sides: Side[] = [];
    try {
      const interfaces = plan.interfaces.length > 0 ? plan.interfaces : ['eth0'];
      const theirs = await Side.build(topo, `eq${c.i}k`, interfaces, plan.hosts);
      const ours = await Side.build(topo, `eq${c.i}u`, interfaces, plan.hosts);
      sides.push(theirs, ours);
      for (const s of sides) await s.startServers(plan.listeners, certDir);

      // Their side: ipvsadm, line by line, or keepalived.
      let refusedLines: number[] | undefined;
      let keepalived: Proc | undefined;
      if (imported.format === 'ipvsadm') {
        refusedLines = [];
        const lines = readFileSync(path, 'utf8').split('\n');
        for (const [n, line] of lines.entries()) {
          const args = line.trim().replace(/^ipvsadm\s+/, '').split(/\s+/).filter(Boolean);
          if (args.length === 0) continue;
          await theirs.director.exec('ipvsadm', args).catch(() => refusedLines!.push(n + 1));
        }
        // ipvsadm refuses exactly the lines the importer reports as not imported.
        const errorLines = [...new Set(imported.findings.filter((f) => f.level === 'error' && f.file.endsWith(c.file)).map((f) => f.line))];
        expect(refusedLines, shown).toEqual(errorLines);
      } else {
        keepalived = startProc(theirs.director, `keepalived equiv ${c.file}`, 'keepalived', ['-n', '-l', '-D', '--no-syslog', '-f', path,
          '-p', join(work, 'keepalived.pid'), '-c', join(work, 'checkers.pid'), '-r', join(work, 'vrrp.pid'), '-i', 'equiv']);
        procs.push(keepalived);
      }

      let agent: Proc | undefined;
      if (imported.objects.length > 0) {
        const manifest = join(work, 'imported.yaml');
        writeFileSync(manifest, imported.objects.map((o) => stringify(o)).join('---\n'));
        agent = startProc(ours.director, `agent equiv ${c.file}`, process.execPath, ['--import', 'tsx', cli, 'agent', '--node', 'director', '--state-dir', join(work, 'state'),
          '--manifests', manifest, '--node-label', `${selector.key}=${selector.value}`, '--metrics-port', '0', '--resync', '5s', '--log-level', 'info']);
        procs.push(agent);
      } else {
        // Nothing imported and nothing programmed: their table is empty, as ours stays.
        expect(await theirs.table()).toEqual([]);
        return;
      }

      const noVrrp = imported.findings.some((f) => /^no vrrp_instance: one DirectorGroup/.test(f.message));
      const groupInterface = interfaces[0] as string;
      const keep = (t: string[]): string[] => t.filter((l) => !(c.differ ?? []).some((d) => d.lines(l)));
      const bare = (a: string): string => a.replace(/\/\d+$/, '');
      /** Why the two directors' addresses may differ, or undefined when they agree. */
      const addressesDiffer = (kv: string[], uv: string[]): string | undefined => {
        if (noVrrp) {
          // No vrrp_instance: keepalived or ipvsadm holds no address; ours holds the VIPs itself (the importer's warning).
          const want = plan.addresses.map((a) => `${groupInterface} ${a}`).sort();
          const got = uv.map(bare).sort();
          return kv.length === 0 && JSON.stringify(got) === JSON.stringify(want) ? undefined : `want theirs none and ours ${want.join(', ')}`;
        }
        if (kv.length === 0) return 'their director holds no address yet (not MASTER)';
        // A service VIP that keepalived's instance does not hold is held here: the importer's warning says so.
        const held = uv.filter((u) => kv.some((k) => bare(k) === bare(u)) || !imported.findings.some((f) => f.message.startsWith(`VIP ${bare(u).split(' ')[1] ?? ''} is in no vrrp_instance's`)));
        if (JSON.stringify(kv.map(bare)) !== JSON.stringify(held.map(bare))) return 'different addresses';
        for (const [i, k] of kv.entries()) {
          const u = held[i] as string;
          const [, cidr] = k.split(' ') as [string, string];
          if (k !== u && !imported.findings.some((f) => f.message.includes(`the prefix of ${cidr} is not carried`))) return `${k} is ${u} here and no finding says why`;
        }
        return undefined;
      };

      const step = async (what: string, holds: (kt: string[]) => boolean): Promise<void> => {
        const end = Date.now() + stepTimeoutMs(imported.objects);
        for (;;) {
          // Their side first; ours only once theirs is there (every exec is dear in the lab kernel).
          const k = await theirs.snapshot();
          let why = !holds(k.table) ? `their table is not yet ${what}` : plan.digest.find((a) => inTable(k.table, a)) !== undefined ? 'a digest-checked server still in' : undefined;
          const s = { kt: k.table, kv: k.addresses, ut: [] as string[], uv: [] as string[] };
          if (why === undefined) {
            const u = await ours.snapshot();
            Object.assign(s, { ut: u.table, uv: u.addresses });
            why = JSON.stringify(keep(s.kt)) !== JSON.stringify(keep(s.ut)) ? 'different tables' : addressesDiffer(s.kv, s.uv);
          }
          if (why === undefined) return;
          if (Date.now() > end) {
            const u = await ours.snapshot();
            Object.assign(s, { ut: u.table, uv: u.addresses });
            throw new Error(`${c.file}: ${what}: ${why}\n--- theirs ---\n${s.kt.join('\n')}\n${s.kv.join('\n')}\n--- ours ---\n${s.ut.join('\n')}\n${s.uv.join('\n')}\n` +
              `--- findings ---\n${shown}\n--- keepalived ---\n${keepalived?.log().slice(-4000) ?? `ipvsadm refused lines ${refusedLines?.join(', ')}`}\n--- our agent ---\n${agent?.log().slice(-4000)}`);
          }
          await sleep(500);
        }
      };

      if (!('down' in c.health)) {
        await step('programmed', () => true);
        return;
      }
      const target = c.health.down;
      await step(`programmed with ${target} in`, (t) => inTable(t, target));
      for (const s of sides) await s.set('down', target);
      await step(`without ${target} (down)`, (t) => !inTable(t, target));
      for (const s of sides) await s.set('up', target);
      await step(`with ${target} back`, (t) => inTable(t, target));
    } finally {
      for (const p of procs.reverse()) await p.stop();
      for (const s of sides) await s.stop();
      await topo.destroy();
    }
  }, 600_000);
});
