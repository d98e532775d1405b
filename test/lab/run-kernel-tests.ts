// `npm run test:kernel [-- vitest args]`: boots one UML kernel and runs the vitest `kernel` project
// inside it, so every kernel test file shares a single boot. Exits with vitest's status.
import { runInUml, LabError } from './uml.js';

const extra = process.argv.slice(2);
try {
  const r = await runInUml({
    label: 'kernel-tests',
    memMb: 2048,
    command: ['node_modules/.bin/vitest', 'run', '--project', 'kernel', '--reporter', 'default', ...extra],
    env: { CI: process.env.CI ?? '', LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn', ...(process.stdout.isTTY ? { FORCE_COLOR: '1' } : { NO_COLOR: '1' }) },
  });
  console.log(`lab: kernel tier on kernel ${r.kernel} finished with status ${r.code} in ${(r.durationMs / 1000).toFixed(1)} s (log: ${r.logDir}/console.log)`);
  process.exit(r.code);
} catch (err) {
  console.error(err instanceof LabError ? err.message : err);
  process.exit(1);
}
