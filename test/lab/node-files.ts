// The host talks to a node kernel through files on hostfs: a script dropped into <ctl>/exec is
// run by the node's supervisor (node-supervisor.sh, kube-node.sh), which leaves .out and .rc.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { run } from './inside.js';
import type { UmlHandle } from './uml.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Waits for `path` to exist; fails at once, with the kernel's last words, if the kernel dies.
 * `detail` adds what the caller knows (an agent's last log lines) to a timeout's message.
 */
export async function waitForFile(path: string, timeoutMs: number, uml: UmlHandle, detail?: () => string): Promise<void> {
  let dead = false;
  void uml.result.then(() => { dead = true; }, () => { dead = true; });
  const end = Date.now() + timeoutMs;
  while (!existsSync(path)) {
    if (dead) throw new Error(`node kernel died before ${path} appeared: ${uml.cause()} (console: ${uml.logDir}/console.log)`);
    if (Date.now() > end) {
      const load = loadavg().map((l) => l.toFixed(1)).join(' ');
      throw new Error(`timed out waiting for ${path} (${timeoutMs / 1000} s; host load ${load}); the kernel's last line: ${uml.cause()} (console: ${uml.logDir}/console.log)${detail ? `\n${detail()}` : ''}`);
    }
    await sleep(100);
  }
}

/** Runs shell scripts inside the node whose control directory is `ctl`; rejects on a non-zero exit. */
export function fileExec(ctl: string, name: string, uml: UmlHandle): (script: string, timeoutMs?: number) => Promise<string> {
  let seq = 0;
  return async (script, timeoutMs = 60_000) => {
    const id = `${Date.now()}-${seq++}`;
    const file = join(ctl, 'exec', `${id}.sh`);
    writeFileSync(`${file}.tmp`, script);
    // Renamed into place so the supervisor never runs a half-written script.
    await run('mv', [`${file}.tmp`, file]);
    const rc = join(ctl, 'exec', `${id}.rc`);
    await waitForFile(rc, timeoutMs, uml);
    const out = readFileSync(join(ctl, 'exec', `${id}.out`), 'utf8');
    const code = Number(readFileSync(rc, 'utf8').trim());
    if (code !== 0) throw new Error(`on ${name}: script failed (${code}): ${out.trim()}`);
    return out;
  };
}

/** The last `chars` characters of a file, or a note that it is not there (for error messages). */
export function tailFile(path: string, chars: number): string {
  try {
    const text = readFileSync(path, 'utf8');
    return text.length > chars ? `…${text.slice(-chars)}` : text || '(empty)';
  } catch {
    return `(no ${path})`;
  }
}
