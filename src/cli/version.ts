import { createRequire } from 'node:module';
import type { Subcommand } from './command.js';

/** The package version; package.json sits two levels up from both src/cli and dist/cli. */
export function packageVersion(): string {
  const pkg = createRequire(import.meta.url)('../../package.json') as { version?: string };
  return pkg.version ?? 'unknown';
}

export const versionCommand: Subcommand = {
  name: 'version',
  summary: 'Print the version',
  usage: 'Usage: lvs-operator version\n\nPrints the lvs-operator version and the Node.js version it runs on.',
  run: async () => {
    process.stdout.write(`lvs-operator ${packageVersion()} (node ${process.version})\n`);
    return 0;
  },
};
