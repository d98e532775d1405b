// Pure diff of the IPVS sync daemons (keepalived lvs_sync_daemon): which to stop and start, and
// which the agent owns afterwards. The kernel runs at most one master and one backup daemon.
import type { SyncDaemon, SyncState } from '../ipvs/types.js';

/** A sync daemon this agent started (kept in the ownership record). */
export interface OwnedDaemon {
  state: SyncState;
  mcastIfn: string;
  syncId: number;
}

export interface SyncDaemonDiff {
  /** In order: stop before start, master before backup. */
  ops: ({ op: 'stop'; state: SyncState } | { op: 'start'; daemon: OwnedDaemon })[];
  /** The daemons the agent owns once the plan is applied. */
  owned: OwnedDaemon[];
}

const owned = (d: OwnedDaemon): OwnedDaemon => ({ state: d.state, mcastIfn: d.mcastIfn, syncId: d.syncId });

/**
 * A running daemon with the wanted settings is kept (and counted as ours); one with other settings
 * is replaced when that state is wanted; one that is not wanted is stopped only if this agent
 * started it: a daemon someone else started is left alone.
 */
export function diffSyncDaemons(want: readonly SyncDaemon[], have: readonly SyncDaemon[], ours: readonly OwnedDaemon[]): SyncDaemonDiff {
  const diff: SyncDaemonDiff = { ops: [], owned: [] };
  for (const state of ['master', 'backup'] as const) {
    const w = want.find((d) => d.state === state);
    const h = have.find((d) => d.state === state);
    if (w && h && h.mcastIfn === w.mcastIfn && h.syncId === w.syncId) {
      diff.owned.push(owned(w));
      continue;
    }
    if (h && (w || ours.some((d) => d.state === state))) diff.ops.push({ op: 'stop', state });
    if (w) {
      diff.ops.push({ op: 'start', daemon: owned(w) });
      diff.owned.push(owned(w));
    }
  }
  return diff;
}
