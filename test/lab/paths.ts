// Paths of the checkout, decoded (a checkout path may hold spaces or other characters a URL escapes).
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const projectRoot = resolve(fileURLToPath(new URL('../..', import.meta.url)));

/** Logs of finished lab runs, kept (replaced run by run) after their temporary directories go. */
export const labLogsRoot = resolve(projectRoot, '.lab', 'logs');

/**
 * A directory of the lab's own under `.lab/` on the host. The kernel tier runs in two lab kernels
 * at once (run-kernel-tests.ts sets LVS_KERNEL_SHARD in each), so what one kernel's tests keep
 * on the host goes under its shard's directory and never meets the other's.
 */
export function labDir(...parts: string[]): string {
  const shard = process.env.LVS_KERNEL_SHARD;
  return resolve(projectRoot, '.lab', ...(shard ? [`shard-${shard}`] : []), ...parts);
}
