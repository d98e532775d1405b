// The agent's record of the kernel state it created, kept on the node (hostPath) so a restarted or
// upgraded agent adopts its own state without flushing and never touches anybody else's.
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { parseServiceKey, serviceKeyString } from '../ipvs/keys.js';
import type { AddressSpec, OwnedSysctl } from './link-diff.js';

export interface OwnedState {
  version: 1;
  /** IPVS service keys (see src/ipvs/keys.ts). */
  services: string[];
  addresses: AddressSpec[];
  sysctls: Record<string, OwnedSysctl>;
  /** Whether this agent started the IPVS sync daemon, and in which state. */
  syncDaemon?: { state: 'master' | 'backup'; syncId: number; ifname: string };
}

export const emptyOwnedState = (): OwnedState => ({ version: 1, services: [], addresses: [], sysctls: {} });

/**
 * Records written before service keys were canonical can spell a VIP as its spec did
 * (`tcp/[2001:DB8::1]:80`): read as the kernel spells it, or the agent would take its own service
 * for somebody else's. Text that is no key is kept as it is (it matches nothing).
 */
function canonicalKeyText(text: string): string {
  try {
    return serviceKeyString(parseServiceKey(text));
  } catch {
    return text;
  }
}

export interface OwnershipStore {
  load(): Promise<OwnedState>;
  save(state: OwnedState): Promise<void>;
}

export class FileOwnershipStore implements OwnershipStore {
  constructor(readonly path: string) {}

  async load(): Promise<OwnedState> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return emptyOwnedState();
      throw e;
    }
    const parsed = JSON.parse(text) as OwnedState;
    if (parsed.version !== 1) throw new Error(`${this.path}: unknown ownership record version ${String(parsed.version)}`);
    const state = { ...emptyOwnedState(), ...parsed };
    return { ...state, services: state.services.map(canonicalKeyText) };
  }

  /** Atomic: a crash leaves either the old or the new record, never half of one. */
  async save(state: OwnedState): Promise<void> {
    await mkdir(dirname(this.path), { recursive: true });
    const tmp = `${this.path}.tmp-${process.pid}`;
    await writeFile(tmp, `${JSON.stringify(state, null, 1)}\n`);
    await rename(tmp, this.path);
  }
}

export class MemoryOwnershipStore implements OwnershipStore {
  constructor(public state: OwnedState = emptyOwnedState()) {}
  async load(): Promise<OwnedState> {
    return structuredClone(this.state);
  }
  async save(state: OwnedState): Promise<void> {
    this.state = structuredClone(state);
  }
}
