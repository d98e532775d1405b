// IPVS_CMD_ATTR_DAEMON nest: the connection-synchronisation daemon (master sends, backup receives).
import { IPVS_DAEMON_ATTR as A, IP_VS_STATE } from './constants.js';
import { formatV4, formatV6 } from '../../address/index.js';
import { encodeAddr, familyOf } from './addr.js';
import { NlDecodeError, type Attrs, type NlWriter } from './nla.js';
import type { SyncDaemon, SyncState } from '../types.js';

export const syncStateNumber = (s: SyncState): number => (s === 'master' ? IP_VS_STATE.MASTER : IP_VS_STATE.BACKUP);

function syncStateName(n: number): SyncState {
  if (n === IP_VS_STATE.MASTER) return 'master';
  if (n === IP_VS_STATE.BACKUP) return 'backup';
  throw new NlDecodeError(`unknown sync daemon state ${n}`);
}

/** For NEW_DAEMON. */
export function encodeDaemon(w: NlWriter, type: number, d: SyncDaemon): void {
  const nest = w.beginNest(type);
  w.u32(A.STATE, syncStateNumber(d.state));
  w.string(A.MCAST_IFN, d.mcastIfn);
  w.u32(A.SYNC_ID, d.syncId);
  if (d.syncMaxLen !== undefined) w.u16(A.SYNC_MAXLEN, d.syncMaxLen);
  if (d.mcastGroup !== undefined) {
    const bytes = encodeAddr(d.mcastGroup);
    if (familyOf(d.mcastGroup) === 'IPv4') w.bytes(A.MCAST_GROUP, bytes.subarray(0, 4));
    else w.bytes(A.MCAST_GROUP6, bytes);
  }
  if (d.mcastPort !== undefined) w.u16(A.MCAST_PORT, d.mcastPort);
  if (d.mcastTtl !== undefined) w.u8(A.MCAST_TTL, d.mcastTtl);
  w.endNest(nest);
}

/** For DEL_DAEMON: only the state says which daemon stops. */
export function encodeDaemonState(w: NlWriter, type: number, state: SyncState): void {
  const nest = w.beginNest(type);
  w.u32(A.STATE, syncStateNumber(state));
  w.endNest(nest);
}

export function decodeDaemon(a: Attrs): SyncDaemon {
  const d: SyncDaemon = {
    state: syncStateName(a.u32(A.STATE, 'daemon.state')),
    mcastIfn: a.string(A.MCAST_IFN, 'daemon.mcast_ifn'),
    syncId: a.u32(A.SYNC_ID, 'daemon.sync_id'),
  };
  if (a.has(A.SYNC_MAXLEN)) d.syncMaxLen = a.u16(A.SYNC_MAXLEN, 'daemon.sync_maxlen');
  if (a.size(A.MCAST_GROUP) >= 4) d.mcastGroup = formatV4(a.bytes(A.MCAST_GROUP, 'daemon.mcast_group'));
  else if (a.size(A.MCAST_GROUP6) >= 16) d.mcastGroup = formatV6(a.bytes(A.MCAST_GROUP6, 'daemon.mcast_group6'));
  if (a.has(A.MCAST_PORT)) d.mcastPort = a.u16(A.MCAST_PORT, 'daemon.mcast_port');
  if (a.has(A.MCAST_TTL)) d.mcastTtl = a.u8(A.MCAST_TTL, 'daemon.mcast_ttl');
  return d;
}
