// Paths of the checkout, decoded (a checkout path may hold spaces or other characters a URL escapes).
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const projectRoot = resolve(fileURLToPath(new URL('../..', import.meta.url)));

/** Logs of finished lab runs, kept (replaced run by run) after their temporary directories go. */
export const labLogsRoot = resolve(projectRoot, '.lab', 'logs');
