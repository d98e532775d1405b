// `npm run test:kernel [-- vitest args]`: runs the vitest `kernel` project inside User-Mode Linux
// kernels. A whole run is split in two shards (vitest --shard), each in its own kernel at the same
// time: a UML kernel uses one host CPU, and these machines have two. With arguments (files, -t)
// it is one kernel, as before. Exits with the worst status.
import { Writable } from 'node:stream';
import { runInUml, LabError } from './uml.js';

const extra = process.argv.slice(2);
const shards = extra.length === 0 ? 2 : 1;

/** Each shard's console, line by line, prefixed with its name so the two can be told apart. */
function prefixed(name: string): Writable {
  let rest = '';
  return new Writable({
    write(chunk: Buffer, _enc, done) {
      const lines = (rest + chunk.toString()).split('\n');
      rest = lines.pop() ?? '';
      if (lines.length) process.stdout.write(lines.map((l) => `[${name}] ${l}\n`).join(''));
      done();
    },
    final(done) {
      if (rest) process.stdout.write(`[${name}] ${rest}\n`);
      done();
    },
  });
}

async function shard(i: number): Promise<number> {
  const label = shards === 1 ? 'kernel-tests' : `kernel-tests-${i}`;
  try {
    const r = await runInUml({
      label,
      memMb: 2048,
      // A bound on the whole run, boot included (the tier took ~33 min in one kernel on a slow host).
      timeoutMs: 50 * 60_000,
      command: ['node_modules/.bin/vitest', 'run', '--project', 'kernel', '--reporter', 'default', ...(shards > 1 ? [`--shard=${i}/${shards}`] : []), ...extra],
      env: {
        CI: process.env.CI ?? '', LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn', ...(process.stdout.isTTY ? { FORCE_COLOR: '1' } : { NO_COLOR: '1' }),
        ...(shards > 1 ? { LVS_KERNEL_SHARD: String(i) } : {}),
      },
      ...(shards > 1 ? { echo: prefixed(label) } : {}),
    });
    console.log(`lab: ${label} on kernel ${r.kernel} finished with status ${r.code} in ${(r.durationMs / 1000).toFixed(1)} s (log: ${r.logDir}/console.log)`);
    return r.code;
  } catch (err) {
    console.error(err instanceof LabError ? err.message : err);
    return 1;
  }
}

const codes = await Promise.all(Array.from({ length: shards }, (_, i) => shard(i + 1)));
process.exit(Math.max(...codes));
