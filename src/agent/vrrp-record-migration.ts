// Earlier agents kept their VRRP state in `<state dir>/vrrp.json`, beside the ownership
// record: which instances were master, which sync daemons they started. A newer agent moves it
// into the ownership record once, so an upgrade keeps a VIP held before it (vrrp-restart.ts) and
// still stops the sync daemons the old agent started.
import { readFile, rm } from 'node:fs/promises';
import type { Logger } from 'pino';
import type { SyncState } from '../ipvs/types.js';
import type { OwnershipRecord } from './ownership-record.js';

/** The file as those agents wrote it. */
interface LegacyVrrpRecord {
  version: 1;
  masters?: Record<string, string[]>;
  daemons?: { state: SyncState; mcastIfn: string; syncId: number }[];
}

/** Moves `path` (the old vrrp.json) into `record`; false when there was none. Repeating it after a crash is harmless. */
export async function migrateVrrpRecord(path: string, record: OwnershipRecord, log?: Logger): Promise<boolean> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw e;
  }
  let old: LegacyVrrpRecord | undefined;
  try {
    const parsed = JSON.parse(text) as LegacyVrrpRecord;
    if (parsed.version === 1) old = parsed;
  } catch (e) {
    if (!(e instanceof SyntaxError)) throw e;
  }
  // The old agent read an unreadable file or an unknown version as empty; so does this.
  if (old) {
    const masters = old.masters ?? {};
    const daemons = (old.daemons ?? []).map((d) => ({ state: d.state, mcastIfn: d.mcastIfn, syncId: d.syncId }));
    await record.update((s) => ({
      vrrpMasters: { ...s.vrrpMasters, ...masters },
      syncDaemons: [...s.syncDaemons.filter((d) => !daemons.some((o) => o.state === d.state)), ...daemons],
    }));
  }
  // Removed only once the record holds it.
  await rm(path, { force: true });
  await rm(`${path}.tmp`, { force: true });
  log?.info({ path, masters: Object.keys(old?.masters ?? {}), daemons: old?.daemons?.map((d) => d.state) ?? [] }, 'VRRP record moved into the ownership record');
  return true;
}
