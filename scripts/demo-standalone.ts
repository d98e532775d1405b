// `npm run demo:standalone`: boots one lab kernel and runs the standalone scenario inside it
// (agents fed from manifest files, no API server). Exits with the scenario's status; its last
// line is the verdict.
import { labKernel } from '../test/lab/kernel.js';
import { LabError, runInUml } from '../test/lab/uml.js';

console.log(`demo:standalone: booting Linux ${labKernel().release} with IPVS (User-Mode Linux) ...`);
try {
  const r = await runInUml({
    label: 'demo-standalone',
    memMb: 1024,
    command: [process.execPath, '--import', 'tsx', 'scripts/demo/lab-scenario.ts'],
    env: { LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn', ...(process.stdout.isTTY ? { FORCE_COLOR: '1' } : { NO_COLOR: '1' }) },
    timeoutMs: 10 * 60_000,
    echo: null,
  }).catch((e: unknown) => { throw e; });
  // Show the scenario's own lines, not the kernel's boot chatter.
  const lines = r.output.split('\n');
  const start = lines.findIndex((l) => l.startsWith('lab: kernel'));
  console.log(lines.slice(start).filter((l) => !/^(Halting\.|reboot: )/.test(l)).join('\n').trimEnd());
  process.exit(r.code);
} catch (err) {
  console.error(err instanceof LabError ? err.message : err);
  console.log('demo:standalone: FAIL (the lab did not run)');
  process.exit(1);
}
