// The agent's record of the kernel state it created, kept on the node (hostPath) so a restarted or
// upgraded agent adopts its own state without flushing and never touches anybody else's.
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Logger } from 'pino';
import { parseServiceKey, serviceKeyString } from '../ipvs/keys.js';
import type { AddressSpec, OwnedSysctl } from './link-diff.js';
import type { OwnedDaemon } from './sync-daemon-diff.js';

export interface OwnedState {
  version: 1;
  /** IPVS service keys (see src/ipvs/keys.ts). */
  services: string[];
  addresses: AddressSpec[];
  sysctls: Record<string, OwnedSysctl>;
  /** The IPVS sync daemons this agent started. */
  syncDaemons: OwnedDaemon[];
  /**
   * VRRP instance -> its VIPs, while this node is (or was, before a crash) its master: a restarted
   * agent keeps those VIPs until the election says otherwise (vrrp-restart.ts).
   */
  vrrpMasters: Record<string, string[]>;
}

export const emptyOwnedState = (): OwnedState => ({ version: 1, services: [], addresses: [], sysctls: {}, syncDaemons: [], vrrpMasters: {} });

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

/** The record's content, or why it is no record (truncated, garbage, the wrong shape). */
function parseRecord(text: string): Partial<OwnedState> | string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    return (e as Error).message;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return 'not a JSON object';
  const r = parsed as Partial<OwnedState>;
  const strings = (v: unknown): boolean => Array.isArray(v) && v.every((x) => typeof x === 'string');
  if (r.services !== undefined && !strings(r.services)) return 'services is not a list of keys';
  if (r.addresses !== undefined && !Array.isArray(r.addresses)) return 'addresses is not a list';
  if (r.sysctls !== undefined && (typeof r.sysctls !== 'object' || r.sysctls === null)) return 'sysctls is not an object';
  if (r.syncDaemons !== undefined && !Array.isArray(r.syncDaemons)) return 'syncDaemons is not a list';
  if (r.vrrpMasters !== undefined && (typeof r.vrrpMasters !== 'object' || r.vrrpMasters === null || Array.isArray(r.vrrpMasters))) return 'vrrpMasters is not an object';
  return r;
}

export class FileOwnershipStore implements OwnershipStore {
  /** Set when the record on disk could not be read and was set aside (see load). */
  unreadable: { why: string; keptAs: string } | undefined;

  constructor(readonly path: string, private readonly log?: Logger) {}

  /**
   * An unreadable record (truncated, garbage) is set aside and the agent starts from an empty
   * one: it then claims nothing it finds in the kernel, so it deletes nothing, and a desired
   * service already there is reported as held by somebody else and keeps serving as it is
   * (docs/architecture.md, "A lost record"). Refusing to start would crash-loop the agent and
   * stop every repair on the node. A record of another version is refused: a newer agent wrote it.
   */
  async load(): Promise<OwnedState> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return emptyOwnedState();
      throw e;
    }
    const parsed = parseRecord(text);
    if (typeof parsed === 'string') return this.setAside(parsed);
    if (parsed.version !== 1) throw new Error(`${this.path}: unknown ownership record version ${String(parsed.version)}`);
    const state = { ...emptyOwnedState(), ...parsed, version: 1 as const };
    return { ...state, services: state.services.map(canonicalKeyText) };
  }

  private async setAside(why: string): Promise<OwnedState> {
    const keptAs = `${this.path}.unreadable-${new Date().toISOString().replace(/[:.]/g, '-')}`;
    await rename(this.path, keptAs);
    this.unreadable = { why, keptAs };
    this.log?.error({ path: this.path, keptAs, why }, 'ownership record unreadable: set aside; claiming nothing found in the kernel');
    return emptyOwnedState();
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
