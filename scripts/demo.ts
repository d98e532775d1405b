// `npm run demo`: boots the kernel lab and runs the demo scenario inside it. Exits with the
// scenario's status; its last line is the verdict.
import { LabError, runInUml } from '../test/lab/uml.js';

console.log('demo: booting a Linux kernel with IPVS (User-Mode Linux) ...');
try {
  const r = await runInUml({
    label: 'demo',
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
  console.log('demo: FAIL (the lab did not run)');
  process.exit(1);
}
