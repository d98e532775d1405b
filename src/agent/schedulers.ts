// Which IPVS schedulers this kernel has, read from files only: loaded modules (/proc/modules),
// built-in ones (modules.builtin) and module files modprobe can load (modules.dep), since IPVS
// loads a scheduler module on first use. Reading files never touches IPVS state: a probe that
// added throwaway services could collide with somebody else's fwmark, or be left behind by a
// crash as a service nobody owns. When the module directory is not readable (a container
// without /lib/modules), only what is loaded or built in is known: the rest is assumed present
// and the kernel's ENOENT at add time marks the service UnsupportedScheduler instead.
import { readFile } from 'node:fs/promises';
import { release } from 'node:os';
import { join } from 'node:path';
import { schedulers } from '../api/index.js';

export interface SchedulerProbe {
  /** Schedulers the kernel has (loaded, built in or loadable). */
  available: string[];
  /** Schedulers known to be missing: none when the module directory could not be read. */
  unsupported: string[];
}

export interface ProbeOptions {
  /** Prefix of /proc and /lib/modules (tests). */
  root?: string;
  /** Kernel release (default: uname -r). */
  release?: string;
}

const schedulerOf = (path: string): string | undefined => /(?:^|\/)ip_vs_([a-z0-9]+)\.ko(?:\.[a-z]+)?$/.exec(path)?.[1];

const read = (path: string): Promise<string | undefined> => readFile(path, 'utf8').catch(() => undefined);

export async function probeSchedulers(o: ProbeOptions = {}): Promise<SchedulerProbe> {
  const root = o.root ?? '/';
  const dir = join(root, 'lib/modules', o.release ?? release());
  const [loaded, builtin, dep] = await Promise.all([read(join(root, 'proc/modules')), read(join(dir, 'modules.builtin')), read(join(dir, 'modules.dep'))]);
  const have = new Set<string>();
  for (const line of (loaded ?? '').split('\n')) {
    const m = /^ip_vs_([a-z0-9]+)\s/.exec(line);
    if (m) have.add(m[1]!);
  }
  for (const line of [...(builtin ?? '').split('\n'), ...(dep ?? '').split('\n').map((l) => l.split(':')[0] ?? '')]) {
    const s = schedulerOf(line.trim());
    if (s) have.add(s);
  }
  const available = schedulers.filter((s) => have.has(s));
  // Without both lists a scheduler not seen may still be loadable: claim nothing missing.
  const complete = builtin !== undefined && dep !== undefined;
  return { available, unsupported: complete ? schedulers.filter((s) => !have.has(s)) : [] };
}
