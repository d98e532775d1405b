// One side of the IPVS benchmark, run by bench/ipvs.ts inside a fresh network namespace of the lab
// kernel (a pristine IPVS table: nothing left from the other side, not even deleted destinations
// waiting in the kernel's trash list, which every add scans). Prints one JSON line.
//
//   --tool ours:    program the table with NetlinkIpvsClient, read it back, then apply a 1% change
//                   the way the agent does (read, diff, apply).
//   --tool ipvsadm: program the same table with `ipvsadm -R`.
// Both check `ipvsadm -S -n` against the rules; ours also checks its own read-back.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { NetlinkIpvsClient } from '../src/ipvs/client.js';
import { destKeyString, serviceKeyString } from '../src/ipvs/keys.js';
import type { IpvsOp, IpvsServiceWithDests } from '../src/ipvs/types.js';
import { run } from '../test/lab/inside.js';
import { flatTable, ipvsadmLines, makeTable, tableOps } from './ipvs-rules.js';

const { values: args } = parseArgs({
  options: {
    tool: { type: 'string' },
    services: { type: 'string', default: '1000' },
    dests: { type: 'string', default: '10' },
  },
});
const N = Number(args.services);
const M = Number(args.dests);

const ms = (t0: number): number => Math.round((performance.now() - t0) * 10) / 10;
const sortedLines = (text: string): string[] => text.split('\n').filter(Boolean).sort();

function sameLines(what: string, got: string[], want: string[]): void {
  if (got.length === want.length && got.every((l, i) => l === want[i])) return;
  const i = got.findIndex((l, k) => l !== want[k]);
  throw new Error(`${what} differs from the rules (${got.length} vs ${want.length} lines; first difference: ${JSON.stringify(got[i])} vs ${JSON.stringify(want[i])})`);
}

async function ipvsadmSave(): Promise<{ lines: string[]; ms: number }> {
  const t0 = performance.now();
  const { stdout } = await run('ipvsadm', ['-S', '-n']);
  return { ms: ms(t0), lines: sortedLines(stdout) };
}

function ipvsadmRestore(rules: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('ipvsadm', ['-R'], { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => { stderr += d; });
    child.once('error', reject);
    child.once('close', (code) => (code === 0 ? resolve() : reject(new Error(`ipvsadm -R: status ${code}: ${stderr.trim()}`))));
    child.stdin.end(rules);
  });
}

/** CPU time of this process's reaped children (cutime, cstime of /proc/self/stat; 10 ms ticks). */
function childCpuMs(): { user: number; system: number } {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // fields from the 3rd (state) on
  return { user: Number(f[13]) * 10, system: Number(f[14]) * 10 };
}

/** Minimal level-based diff for the 1% change, keyed by service and destination identity. */
function diff(desired: IpvsServiceWithDests[], observed: IpvsServiceWithDests[]): IpvsOp[] {
  const ops: IpvsOp[] = [];
  const have = new Map(observed.map((s) => [serviceKeyString(s.key), s]));
  for (const want of desired) {
    const got = have.get(serviceKeyString(want.key));
    have.delete(serviceKeyString(want.key));
    if (!got) {
      ops.push({ op: 'add-service', service: want });
      for (const dest of want.dests) ops.push({ op: 'add-dest', key: want.key, dest });
      continue;
    }
    const gotDests = new Map(got.dests.map((d) => [destKeyString(d), d]));
    for (const dest of want.dests) {
      const g = gotDests.get(destKeyString(dest));
      gotDests.delete(destKeyString(dest));
      if (!g) ops.push({ op: 'add-dest', key: want.key, dest });
      else if (g.weight !== dest.weight || g.fwd !== dest.fwd || g.upperThreshold !== dest.upperThreshold || g.lowerThreshold !== dest.lowerThreshold) {
        ops.push({ op: 'edit-dest', key: want.key, dest });
      }
    }
    for (const g of gotDests.values()) ops.push({ op: 'del-dest', key: want.key, dest: g });
  }
  for (const s of have.values()) ops.push({ op: 'del-service', key: s.key });
  return ops;
}

async function ours(): Promise<Record<string, number>> {
  const table = makeTable(N, M);
  const ops = tableOps(table);
  const expected = sortedLines(ipvsadmLines(flatTable(table)).join('\n'));

  // Cold: socket, family resolution and every batch, in a process that has not sent anything yet.
  let t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const client = await NetlinkIpvsClient.open();
  const results = await client.apply(ops);
  const applyMs = ms(t0);
  // Where the time goes: user = JavaScript (encoding, batching, decoding acks), system = the
  // syscalls and the kernel's own IPVS work, which no client can avoid.
  const cpu = process.cpuUsage(cpu0);
  const failed = results.filter((r) => !r.ok);
  if (failed.length) throw new Error(`${failed.length} operations failed, first: ${failed[0]!.ok ? '' : failed[0]!.error.message}`);

  t0 = performance.now();
  const readBack = await client.listServicesWithDests();
  const readbackMs = ms(t0);
  sameLines('our read-back', sortedLines(ipvsadmLines(readBack.map((s) => ({ ...s, flags: s.flags.filter((f) => f !== 'hashed') }))).join('\n')), expected);
  const save = await ipvsadmSave();
  sameLines('ipvsadm -S after our client', save.lines, expected);

  // 1% of the destinations change: a third get a new weight, a third are replaced, a third go.
  const want = flatTable(table).map((s) => ({ ...s, dests: [...s.dests] }));
  const changes = Math.max(1, Math.round((N * M) / 100));
  for (let c = 0; c < changes; c++) {
    const s = want[(c * 7919) % want.length]!;
    const j = c % s.dests.length;
    const old = s.dests[j]!;
    if (c % 3 === 0) s.dests[j] = { ...old, weight: old.weight + 100 };
    else if (c % 3 === 1) s.dests[j] = { ...old, port: old.port + 1000 };
    else s.dests.splice(j, 1);
  }
  t0 = performance.now();
  const observed = await client.listServicesWithDests({ stats: false });
  const readNoStatsMs = ms(t0);
  const plan = diff(want, observed);
  const t1 = performance.now();
  const planResults = await client.apply(plan);
  const diffApplyMs = ms(t1);
  const diffMs = ms(t0);
  client.close();
  if (planResults.some((r) => !r.ok)) throw new Error('the 1% change failed');
  sameLines('ipvsadm -S after the 1% change', (await ipvsadmSave()).lines, sortedLines(ipvsadmLines(want).join('\n')));

  return {
    ours_ms: applyMs, ours_user_ms: cpu.user / 1000, ours_system_ms: cpu.system / 1000, readback_ms: readbackMs, readback_nostats_ms: readNoStatsMs, diff_1pct_ms: diffMs,
    diff_1pct_ops: plan.length, diff_1pct_apply_ms: diffApplyMs, batch_size: client.batchSize, ops: ops.length,
  };
}

async function ipvsadm(): Promise<Record<string, number>> {
  const table = makeTable(N, M);
  const rules = `${ipvsadmLines(flatTable(table)).join('\n')}\n`;
  const t0 = performance.now();
  const before = childCpuMs();
  await ipvsadmRestore(rules);
  const restoreMs = ms(t0);
  const after = childCpuMs();
  const save = await ipvsadmSave();
  sameLines('ipvsadm -S after ipvsadm -R', save.lines, sortedLines(rules));
  return { ipvsadm_ms: restoreMs, ipvsadm_user_ms: after.user - before.user, ipvsadm_system_ms: after.system - before.system, ipvsadm_save_ms: save.ms };
}

const work = args.tool === 'ours' ? ours : args.tool === 'ipvsadm' ? ipvsadm : undefined;
if (!work) {
  console.error('usage: ipvs-worker.ts --tool ours|ipvsadm --services N --dests M');
  process.exit(2);
}
work().then((r) => console.log(JSON.stringify(r)), (e: unknown) => {
  console.error(e instanceof Error ? e.stack ?? e.message : e);
  process.exit(1);
});
