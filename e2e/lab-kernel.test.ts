import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { labKernel } from '../test/lab/kernel.js';
import { LabError, runInUml } from '../test/lab/uml.js';

// The lab kernel itself, from the host: which kernel runs, what it sees of the host, and how a
// kernel that dies is reported.
describe('the lab kernel', () => {
  const made: string[] = [];
  afterAll(() => { for (const d of made) rmSync(d, { recursive: true, force: true }); });

  it('is the cached build, and says so', async () => {
    const r = await runInUml({ label: 'lab-uname', command: ['uname', '-r'], echo: null, memMb: 256 });
    expect(r.code).toBe(0);
    expect(r.kernel).toBe(labKernel().release);
    expect(r.output).toContain(`lab: kernel ${labKernel().release} up`);
  });

  it('keeps host paths under /tmp and /run visible, spaces and all, although it mounts its own /tmp and /run', async () => {
    const tmp = mkdtempSync('/tmp/lvs lab path ');
    mkdirSync('/run/lvs-lab-test', { recursive: true });
    const run = mkdtempSync('/run/lvs-lab-test/x y ');
    made.push(tmp, '/run/lvs-lab-test');
    writeFileSync(join(tmp, 'in'), 'from the host\n');
    const r = await runInUml({
      label: 'lab-paths', echo: null, memMb: 256, paths: [tmp, run],
      command: ['sh', '-c', `cat "${tmp}/in" && echo inside > "${run}/out" && touch /tmp/lvs-lab-private-${process.pid}`],
    });
    expect(r.code).toBe(0);
    expect(r.output).toContain('from the host');
    expect(readFileSync(join(run, 'out'), 'utf8')).toBe('inside\n');
    // The kernel's own /tmp stays its own.
    expect(existsSync(`/tmp/lvs-lab-private-${process.pid}`)).toBe(false);
  });

  it('names the cause in one line when the kernel dies', async () => {
    // A later init= wins: the kernel cannot start it and panics.
    const err = await runInUml({ label: 'lab-dies', command: ['true'], echo: null, memMb: 128, kernelArgs: ['init=/nonexistent/init'] }).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(LabError);
    const first = (err as Error).message.split('\n')[0]!;
    expect(first).toMatch(/Kernel panic - not syncing: Requested init \/nonexistent\/init failed/);
    expect(first).toContain(`kernel ${labKernel().release}`);
  });
});
