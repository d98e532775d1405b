// `npm run bench:ipvs -- --services N --dests M [--rounds R]`: boots the lab kernel and runs
// bench/ipvs.ts inside it (IPVS needs a kernel this host does not have). Echoes the run and ends
// with the benchmark's JSON summary as the last line.
import { LabError, runInUml } from '../test/lab/uml.js';

try {
  const r = await runInUml({
    label: 'bench-ipvs',
    memMb: 2048,
    command: ['node', '--import', 'tsx', 'bench/ipvs.ts', ...process.argv.slice(2)],
    env: { NO_COLOR: '1' },
  });
  const summary = r.output.split('\n').map((l) => l.trim()).filter((l) => l.startsWith('{') && l.includes('"ours_ms"')).pop();
  if (r.code !== 0 || !summary) {
    console.error(`bench:ipvs failed with status ${r.code} (log: ${r.logDir}/console.log)`);
    process.exit(r.code || 1);
  }
  console.log(summary);
} catch (err) {
  console.error(err instanceof LabError ? err.message : err);
  process.exit(1);
}
