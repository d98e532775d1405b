#!/usr/bin/env node
// lvs-operator: one binary, several programs. Adding a subcommand is one line in `commands`.
import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { type Subcommand, UsageError } from './command.js';
import { agentCommand } from './agent.js';
import { controllerCommand } from './controller.js';
import { describeFailure } from './failure.js';
import { genhashCommand } from './genhash.js';
import { importCommand } from './import.js';
import { statusCommand } from './status.js';
import { packageVersion, versionCommand } from './version.js';

const commands: Subcommand[] = [
  controllerCommand,
  agentCommand,
  statusCommand,
  genhashCommand,
  importCommand,
  versionCommand,
];

export function usage(): string {
  const width = Math.max(...commands.map((c) => c.name.length), 4) + 2;
  const lines = commands.map((c) => `  ${c.name.padEnd(width)}${c.summary}`);
  lines.push(`  ${'help'.padEnd(width)}Show help for a command`);
  return `lvs-operator ${packageVersion()}: Linux Virtual Server (IPVS) with keepalived-style HA, run the Kubernetes way

Usage: lvs-operator <command> [flags]

Commands:
${lines.join('\n')}

Flags:
  -h, --help      show this help
  -v, --version   print the version

Run 'lvs-operator help <command>' for the flags of a command.`;
}

export function findCommand(name: string): Subcommand | undefined {
  return commands.find((c) => c.name === name);
}

/** Runs one command line (without `node` and the script); resolves with the exit code. */
export async function main(argv: string[]): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined || first === '-h' || first === '--help') {
    process.stdout.write(`${usage()}\n`);
    return first === undefined ? 2 : 0;
  }
  if (first === '-v' || first === '--version') return versionCommand.run([]);
  if (first === 'help') {
    const topic = rest[0];
    if (topic === undefined) {
      process.stdout.write(`${usage()}\n`);
      return 0;
    }
    const cmd = findCommand(topic);
    if (!cmd) {
      process.stderr.write(`lvs-operator: unknown command ${JSON.stringify(topic)}\n\n${usage()}\n`);
      return 2;
    }
    process.stdout.write(`${cmd.usage}\n`);
    return 0;
  }
  const cmd = findCommand(first);
  if (!cmd) {
    process.stderr.write(`lvs-operator: unknown command ${JSON.stringify(first)}\n\n${usage()}\n`);
    return 2;
  }
  try {
    return await cmd.run(rest);
  } catch (err) {
    const isUsage = err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
    if (isUsage) {
      process.stderr.write(`lvs-operator ${cmd.name}: ${(err as Error).message}\n\n${cmd.usage}\n`);
      return 2;
    }
    process.stderr.write(`lvs-operator ${cmd.name}: ${describeFailure(err)}\n`);
    return 1;
  }
}

/** True when this file is the program being run (also through npm's bin symlink). */
function isEntryPoint(): boolean {
  const script = process.argv[1];
  if (!script) return false;
  try {
    return import.meta.url === pathToFileURL(realpathSync(script)).href;
  } catch {
    return false;
  }
}

// Run only as the entry point, so tests can import main() without side effects.
if (isEntryPoint()) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`${String(err)}\n`);
      process.exit(1);
    },
  );
}
