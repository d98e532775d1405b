// Running `lvs-operator <command>` from the checkout on the host (or in a host namespace), the way
// a pod would run it: the lab cluster's controller and real-server agents, benchmarks.
import type { ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Netns } from './netns.js';
import { projectRoot } from './paths.js';
import { spawnTracked } from './reaper.js';

/** How to run it: from source through tsx (tests), or as the image does (benchmarks). */
export interface ProgramOptions {
  /** The esbuild bundle of `npm run build` (dist/bundle/main.js), as the image runs it. */
  compiled?: boolean;
  /** V8 flags before the script, e.g. the chart's controller.nodeOptions. */
  nodeFlags?: readonly string[];
}

/** Starts the program; resolves once its log says `<command> started`; its output goes to `logFile`. */
export async function startLvsOperator(args: string[], ns: Netns | undefined, logFile: string, o: ProgramOptions = {}): Promise<ChildProcess> {
  const script = o.compiled ? [join(projectRoot, 'dist/bundle/main.js')] : ['--import', 'tsx', join(projectRoot, 'src/cli/main.ts')];
  const argv = [process.execPath, ...(o.nodeFlags ?? []), ...script, ...args];
  const [cmd, ...rest] = ns ? ns.command(argv[0]!, argv.slice(1)) : argv;
  // Tracked: it goes with the lab however the lab ends (see reaper.ts), never left retrying a dead API server.
  const { child } = spawnTracked(cmd!, rest, { name: `lvs-operator ${args[0]}`, cwd: projectRoot, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LOG_LEVEL: process.env.LOG_LEVEL ?? 'info' } });
  const log = createWriteStream(logFile);
  child.stderr!.pipe(log);
  await new Promise<void>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (l) => {
      log.write(`${l}\n`);
      if (/"msg":"(agent|controller) started"/.test(l)) resolve();
    });
    child.once('exit', (c) => reject(new Error(`lvs-operator ${args[0]} exited (${c}); see ${logFile}`)));
  });
  return child;
}
