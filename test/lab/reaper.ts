// Everything the lab creates on the host (kernels, programs, namespaces, links, run directories)
// is registered here as it is made, and removed when it is done with, or else when this process
// ends: on success, on failure, on an uncaught error and on SIGINT/SIGTERM. Spawned programs also
// run beside a watchdog that kills their process group when this process dies, so even a SIGKILLed
// lab leaves no process retrying a dead API server.
import { spawn, spawnSync, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

export interface LabResource {
  /** For messages: `process 123 (controller)`, `netns lvsc-demo`. */
  readonly what: string;
  /** Removes it; never throws. */
  release(): Promise<void>;
  /** The same, synchronously, for the 'exit' handler (no event loop left). */
  releaseSync(): void;
}

const live = new Set<LabResource>();
let handlersInstalled = false;

/** Registers `r`; the returned function releases it now (and unregisters it). */
export function track(r: LabResource): () => Promise<void> {
  installHandlers();
  live.add(r);
  return async () => {
    if (!live.delete(r)) return;
    await r.release();
  };
}

/** Forgets `r` without releasing it (it is gone already). */
export function untrack(r: LabResource): void {
  live.delete(r);
}

/** What is still registered, for tests and messages. */
export function liveResources(): string[] {
  return [...live].map((r) => r.what);
}

/** Releases everything still registered, newest first (programs before the namespaces they run in). */
export async function releaseAll(): Promise<void> {
  for (const r of [...live].reverse()) {
    live.delete(r);
    await r.release();
  }
}

function releaseAllSync(): void {
  for (const r of [...live].reverse()) {
    live.delete(r);
    r.releaseSync();
  }
}

function installHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.once('exit', releaseAllSync);
  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143], ['SIGHUP', 129]] as const) {
    process.once(signal, () => {
      if (live.size > 0) process.stderr.write(`lab: ${signal}: removing what the lab started (${live.size})\n`);
      const hardStop = setTimeout(() => process.exit(code), 20_000);
      hardStop.unref();
      void releaseAll().finally(() => process.exit(code));
    });
  }
}

/** Whether a process exists (EPERM: it does, owned by someone else). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const quietly = (f: () => void): void => {
  try { f(); } catch { /* already gone */ }
};

/** A process group (spawned `detached`): SIGTERM, then SIGKILL after `graceMs`. */
export function processGroup(pid: number, name: string, graceMs = 3_000): LabResource {
  const alive = (): boolean => {
    try { process.kill(-pid, 0); return true; } catch { return false; }
  };
  return {
    what: `process group ${pid} (${name})`,
    async release() {
      quietly(() => process.kill(-pid, 'SIGTERM'));
      const end = Date.now() + graceMs;
      while (alive() && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
      quietly(() => process.kill(-pid, 'SIGKILL'));
    },
    releaseSync() {
      quietly(() => process.kill(-pid, 'SIGKILL'));
    },
  };
}

/** A network namespace of the host (`ip netns add`). */
export function hostNetns(name: string): LabResource {
  return commandResource(`netns ${name}`, ['ip', 'netns', 'del', name]);
}

/** A link in the host's root namespace. */
export function hostLink(name: string): LabResource {
  return commandResource(`link ${name}`, ['ip', 'link', 'del', name]);
}

function commandResource(what: string, argv: string[]): LabResource {
  const [cmd, ...args] = argv as [string, ...string[]];
  return {
    what,
    release: () => new Promise<void>((res) => {
      const c = spawn(cmd, args, { stdio: 'ignore' });
      c.once('error', () => res());
      c.once('close', () => res());
    }),
    releaseSync() { spawnSync(cmd, args, { stdio: 'ignore' }); },
  };
}

/**
 * A temporary directory. Its `*.log` files (any depth) are kept under `logsTo`, replacing what
 * an earlier run left there, so a failed run can still be read; the rest (scripts, control
 * files, kubeconfigs with credentials) goes.
 */
export function tempDir(path: string, logsTo?: string): LabResource {
  const retire = (): void => {
    if (logsTo && existsSync(path)) {
      quietly(() => rmSync(logsTo, { recursive: true, force: true }));
      for (const file of logFiles(path)) {
        const to = join(logsTo, relative(path, file));
        quietly(() => { mkdirSync(dirname(to), { recursive: true }); cpSync(file, to); });
      }
    }
    quietly(() => rmSync(path, { recursive: true, force: true }));
  };
  return { what: `directory ${path}`, release: async () => retire(), releaseSync: retire };
}

function logFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    let st;
    try { st = statSync(p); } catch { continue; }
    if (st.isDirectory()) out.push(...logFiles(p));
    else if (name.endsWith('.log')) out.push(p);
  }
  return out;
}

/** A hook around something with its own stop (the API server harness). */
export function hook(what: string, release: () => Promise<void>, releaseSync: () => void = () => undefined): LabResource {
  return { what, release: () => release().catch(() => undefined), releaseSync };
}

/**
 * Runs the program (argv after the script) in place of this shell, with a watchdog beside it in
 * the same process group: when the lab process ends in any way, SIGKILL included, its end of the
 * pipe on fd 3 closes, and the watchdog kills the whole group. A parent-death signal on the
 * program alone is not enough: a UML kernel's helper processes outlive it.
 */
const WATCHDOG = '{ read -r _ <&3; kill -s KILL 0; } & exec 3<&-; exec "$@"';

/**
 * Spawns a program for the lab in its own process group, killed with it whatever way this
 * process ends, and tracks it until it exits. `stop()` ends the whole group.
 */
export function spawnTracked(cmd: string, args: string[], opts: SpawnOptions & { name: string }): { child: ChildProcess; stop: () => Promise<void> } {
  const { name, stdio, ...spawnOpts } = opts;
  const std = Array.isArray(stdio) ? stdio.slice(0, 3) : [stdio ?? 'pipe', stdio ?? 'pipe', stdio ?? 'pipe'];
  // sh, not bash: inside a lab kernel bash takes about 2 s to start, dash a few milliseconds.
  const child = spawn('sh', ['-c', WATCHDOG, 'lab-watchdog', cmd, ...args], { ...spawnOpts, stdio: [...std, 'pipe'], detached: true });
  if (child.pid === undefined) {
    // spawn failed (ENOENT etc.): 'error' follows; nothing to track.
    return { child, stop: async () => undefined };
  }
  // The pipe must not keep this process alive; it only has to close when this process goes.
  (child.stdio[3] as unknown as { unref?: () => void } | null)?.unref?.();
  const resource = processGroup(child.pid, name);
  const stop = track(resource);
  child.once('exit', () => {
    // The leader is gone; the watchdog and helpers it left in its group still go.
    quietly(() => process.kill(-child.pid!, 'SIGKILL'));
    untrack(resource);
  });
  return { child, stop };
}
