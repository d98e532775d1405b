// Pure diff of desired against observed IPVS tables, restricted to what this agent owns.
// Emits only the edits needed, field by field, like keepalived's reload diff; never an op on a
// service it does not own (kube-proxy's, keepalived's or a human's).
import type { IpvsDest, IpvsOp, IpvsService, IpvsServiceWithDests } from '../ipvs/types.js';
import { destKeyString, serviceKeyString } from '../ipvs/keys.js';

export interface IpvsDiff {
  /** Kernel operations, in an order the kernel accepts: deletions first, then additions and edits. */
  ops: IpvsOp[];
  /** Service keys the agent owns after the plan is applied (before it knows the results). */
  owned: Set<string>;
  /** Desired services held by somebody else: left alone, reported as conflicts. */
  foreign: string[];
  /** Services somebody else made that this plan takes over (desired with adopt). */
  adopted: string[];
}

const flagsOf = (s: IpvsService): string => s.flags.filter((f) => f !== 'hashed').sort().join(',');

/** Whether the service attributes that an edit can change differ. */
export function serviceChanged(want: IpvsService, have: IpvsService): boolean {
  if (want.scheduler !== have.scheduler || flagsOf(want) !== flagsOf(have)) return true;
  if ((want.peName ?? '') !== (have.peName ?? '')) return true;
  // Timeout and netmask only mean something for persistent services; the kernel reports
  // defaults for the others.
  if (want.flags.includes('persistent')) return want.timeout !== have.timeout || want.netmask !== have.netmask;
  return false;
}

export function destChanged(want: IpvsDest, have: IpvsDest): boolean {
  if (want.fwd !== have.fwd || want.weight !== have.weight) return true;
  if (want.upperThreshold !== have.upperThreshold || want.lowerThreshold !== have.lowerThreshold) return true;
  if (want.fwd !== 'tunnel') return false;
  const w = want.tunnel ?? { type: 'ipip', port: 0, flags: [] };
  const h = have.tunnel ?? { type: 'ipip', port: 0, flags: [] };
  return w.type !== h.type || w.port !== h.port || [...w.flags].sort().join() !== [...h.flags].sort().join();
}

/**
 * `adoptable`: keys of desired services whose VirtualService asks to take over a service
 * somebody else made (spec.adopt); such a service is edited like one of ours, never recreated.
 */
export function diffIpvs(desired: IpvsServiceWithDests[], observed: IpvsServiceWithDests[], owned: ReadonlySet<string>, adoptable: ReadonlySet<string> = new Set()): IpvsDiff {
  const have = new Map(observed.map((s) => [serviceKeyString(s.key), s]));
  const want = new Map(desired.map((s) => [serviceKeyString(s.key), s]));
  const nextOwned = new Set<string>();
  const deletes: IpvsOp[] = [];
  const changes: IpvsOp[] = [];
  const foreign: string[] = [];
  const adopted: string[] = [];

  for (const [key, h] of have) {
    if (owned.has(key) && !want.has(key)) deletes.push({ op: 'del-service', key: h.key });
  }
  for (const [key, w] of want) {
    const h = have.get(key);
    const { dests: wantDests, ...wantService } = w;
    if (!h) {
      nextOwned.add(key);
      changes.push({ op: 'add-service', service: wantService });
      for (const dest of wantDests) changes.push({ op: 'add-dest', key: w.key, dest });
      continue;
    }
    if (!owned.has(key)) {
      if (!adoptable.has(key)) {
        foreign.push(key);
        continue;
      }
      adopted.push(key);
    }
    nextOwned.add(key);
    if (serviceChanged(w, h)) changes.push({ op: 'edit-service', service: wantService });
    changes.push(...diffDests(w, h));
  }
  return { ops: [...deletes, ...changes], owned: nextOwned, foreign, adopted };
}

function diffDests(want: IpvsServiceWithDests, have: IpvsServiceWithDests): IpvsOp[] {
  const haveDests = new Map(have.dests.map((d) => [destKeyString(d), d]));
  const wantKeys = new Set(want.dests.map(destKeyString));
  const ops: IpvsOp[] = [];
  for (const [k, d] of haveDests) {
    if (!wantKeys.has(k)) ops.push({ op: 'del-dest', key: want.key, dest: { addr: d.addr, port: d.port } });
  }
  for (const d of want.dests) {
    const h = haveDests.get(destKeyString(d));
    if (!h) ops.push({ op: 'add-dest', key: want.key, dest: d });
    else if (destChanged(d, h)) ops.push({ op: 'edit-dest', key: want.key, dest: d });
  }
  return ops;
}
