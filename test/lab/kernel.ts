// Where the lab kernel is: the User-Mode Linux build that scripts/lab-kernel/build.sh caches
// (setup.sh builds it). LVS_LAB_KERNEL names another kernel directory of the same layout
// (`linux`, `modules/lib/modules/<release>`, `release`), e.g. to try a newer kernel.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from './paths.js';

export interface LabKernel {
  /** The kernel directory. */
  dir: string;
  /** The UML kernel binary. */
  binary: string;
  /** Bind-mounted on /lib/modules inside the kernel (modules.builtin lets modprobe succeed). */
  modulesDir: string;
  /** `uname -r` of that kernel. */
  release: string;
}

let found: LabKernel | undefined;

/** The lab kernel; throws a one-line reason when there is none. */
export function labKernel(): LabKernel {
  if (found) return found;
  let dir = process.env['LVS_LAB_KERNEL'];
  if (!dir) {
    try {
      dir = execFileSync('bash', [join(projectRoot, 'scripts/lab-kernel/build.sh'), 'path'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
    } catch (e) {
      const msg = String((e as { stderr?: string }).stderr ?? e).trim().split('\n').pop();
      throw new Error(msg || 'the lab kernel is not built (run: bash scripts/setup.sh)');
    }
  }
  const binary = join(dir, 'linux');
  if (!existsSync(binary)) throw new Error(`no lab kernel at ${binary} (run: bash scripts/setup.sh)`);
  found = {
    dir, binary,
    modulesDir: join(dir, 'modules', 'lib', 'modules'),
    release: readFileSync(join(dir, 'release'), 'utf8').trim(),
  };
  return found;
}
