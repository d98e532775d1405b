// `npm run bench:failover -- --mode bgp [--flows N]`: boots the lab kernel and runs
// bench/failover-bgp.ts inside it. Echoes the run and ends with its JSON summary as the last line.
import { LabError, runInUml } from '../test/lab/uml.js';

try {
  const r = await runInUml({
    label: 'bench-failover-bgp',
    memMb: 2048,
    command: ['node', '--import', 'tsx', 'bench/failover-bgp.ts', ...process.argv.slice(2)],
    env: { NO_COLOR: '1' },
  });
  const summary = r.output.split('\n').map((l) => l.trim()).filter((l) => l.startsWith('{') && l.includes('"mode":"bgp"')).pop();
  if (r.code !== 0 || !summary) {
    console.error(`bench:failover --mode bgp failed with status ${r.code} (log: ${r.logDir}/console.log)`);
    process.exit(r.code || 1);
  }
  console.log(summary);
} catch (err) {
  console.error(err instanceof LabError ? err.message : err);
  process.exit(1);
}
