// IPVS programming benchmark, run INSIDE the lab kernel (bench/ipvs-run.ts is the host side):
// N services x M destinations programmed by our client and by `ipvsadm -R` of the same rules, each
// in a fresh network namespace (its own, empty IPVS table), alternating which goes first; both
// tables are checked against the rules; our read-back and a 1% change are timed too.
// Prints per-round lines, then a JSON summary (medians over rounds) as the last line.
//
//   node --import tsx bench/ipvs.ts --services 1000 --dests 10 [--rounds 3]
import { release } from 'node:os';
import { parseArgs } from 'node:util';
import { assertInLab, run } from '../test/lab/inside.js';

const { values: args } = parseArgs({
  options: {
    services: { type: 'string', default: '1000' },
    dests: { type: 'string', default: '10' },
    rounds: { type: 'string', default: '3' },
  },
});
const N = Number(args.services);
const M = Number(args.dests);
const ROUNDS = Math.max(1, Number(args.rounds));

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Runs one worker in a new namespace that has a route for the benchmark's 10/8 addresses. */
async function inFreshNetns(tool: 'ours' | 'ipvsadm', round: number): Promise<Record<string, number>> {
  const ns = `ipvsbench-${tool}-${round}`;
  await run('ip', ['netns', 'add', ns]);
  try {
    const sh = (cmd: string[]): Promise<unknown> => run('ip', ['netns', 'exec', ns, ...cmd]);
    await sh(['ip', 'link', 'set', 'lo', 'up']);
    await sh(['ip', 'link', 'add', 'ipvsb0', 'type', 'dummy']);
    await sh(['ip', 'link', 'set', 'ipvsb0', 'up']);
    await sh(['ip', 'addr', 'add', '10.255.255.254/8', 'dev', 'ipvsb0']);
    const { stdout } = await run('ip', ['netns', 'exec', ns, process.execPath, '--import', 'tsx', 'bench/ipvs-worker.ts',
      '--tool', tool, '--services', String(N), '--dests', String(M)]);
    const line = stdout.trim().split('\n').pop() ?? '';
    return JSON.parse(line) as Record<string, number>;
  } finally {
    await run('ip', ['netns', 'del', ns]).catch(() => undefined);
  }
}

async function main(): Promise<void> {
  assertInLab();
  const ours: Record<string, number>[] = [];
  const theirs: Record<string, number>[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? (['ours', 'ipvsadm'] as const) : (['ipvsadm', 'ours'] as const);
    for (const tool of order) (tool === 'ours' ? ours : theirs).push(await inFreshNetns(tool, round));
    const o = ours[round]!;
    const t = theirs[round]!;
    console.log(`round ${round + 1}/${ROUNDS}: ours ${o.ours_ms} ms, ipvsadm -R ${t.ipvsadm_ms} ms, read-back ${o.readback_ms} ms ` +
      `(ipvsadm -S ${t.ipvsadm_save_ms} ms), 1% change ${o.diff_1pct_ms} ms; both tables match the rules`);
  }
  const med = (rows: Record<string, number>[], k: string): number => median(rows.map((r) => r[k]!));
  const oursMs = med(ours, 'ours_ms');
  const ipvsadmMs = med(theirs, 'ipvsadm_ms');
  console.log(JSON.stringify({
    kernel: release(),
    services: N,
    dests: N * M,
    ops: ours[0]!.ops,
    ours_ms: oursMs,
    ipvsadm_ms: ipvsadmMs,
    speedup: Math.round((ipvsadmMs / oursMs) * 10) / 10,
    // The split of each side's time: user space (ours: JavaScript) and system (syscalls and the
    // kernel's IPVS work). ipvsadm_ms / ours_system_ms is the most any client could reach here.
    ours_user_ms: med(ours, 'ours_user_ms'),
    ours_system_ms: med(ours, 'ours_system_ms'),
    ipvsadm_user_ms: med(theirs, 'ipvsadm_user_ms'),
    ipvsadm_system_ms: med(theirs, 'ipvsadm_system_ms'),
    speedup_if_no_user_time: Math.round((ipvsadmMs / med(ours, 'ours_system_ms')) * 10) / 10,
    readback_ms: med(ours, 'readback_ms'),
    diff_1pct_ms: med(ours, 'diff_1pct_ms'),
    diff_1pct_ops: ours[0]!.diff_1pct_ops,
    diff_1pct_apply_ms: med(ours, 'diff_1pct_apply_ms'),
    readback_nostats_ms: med(ours, 'readback_nostats_ms'),
    ipvsadm_save_ms: med(theirs, 'ipvsadm_save_ms'),
    ours_rounds_ms: ours.map((r) => r.ours_ms),
    ipvsadm_rounds_ms: theirs.map((r) => r.ipvsadm_ms),
    rounds: ROUNDS,
    batch_size: ours[0]!.batch_size,
  }));
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.stack ?? e.message : e);
  process.exit(1);
});
