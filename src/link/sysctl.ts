// Sysctls through /proc/sys, which is per network namespace for net.* keys.
import { readFile, writeFile } from 'node:fs/promises';
import type { Sysctl } from './types.js';

const path = (key: string): string => `/proc/sys/${key.replace(/\./g, '/')}`;

export class ProcSysctl implements Sysctl {
  async get(key: string): Promise<string | undefined> {
    try {
      return (await readFile(path(key), 'utf8')).trim();
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
  }

  async set(key: string, value: string): Promise<void> {
    await writeFile(path(key), `${value}\n`);
  }
}

/** In-memory twin of ProcSysctl for unit tests of pure logic. */
export class FakeSysctl implements Sysctl {
  constructor(readonly values = new Map<string, string>()) {}
  async get(key: string): Promise<string | undefined> {
    return this.values.get(key);
  }
  async set(key: string, value: string): Promise<void> {
    if (!this.values.has(key)) throw new Error(`ENOENT: no sysctl ${key}`);
    this.values.set(key, value);
  }
}
