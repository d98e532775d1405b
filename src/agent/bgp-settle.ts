// A director that starts announcing an active-active VIP must pick the same real server for a
// flow as every other director (mh over the same servers with the same weights), or the flows
// the routers rehash onto it land elsewhere and break. A returning director starts with every
// real server down (keepalived's alpha) and brings each up as its first checks pass: announced
// then, it would hash over a subset. So a VIP not yet announced waits until every health check of
// its services has a verdict (up, or a failed probe); a VIP already announced is never withdrawn
// for this (a new real server, still unchecked, must not take a VIP off the routers).
import type { ClusterModel } from '../model/types.js';
import type { NodeDesired } from './compile.js';
import { backendKeys } from './health-config.js';

/** What the gate needs of a health check target (HealthChecker.get). */
export interface CheckVerdict {
  healthy: boolean;
  consecutiveFail: number;
}

/** Up, or down after a failed probe: a verdict the other directors reach too. */
const decided = (v: CheckVerdict | undefined): boolean => v === undefined || v.healthy || v.consecutiveFail > 0;

export interface SettleResult {
  desired: NodeDesired;
  /** VIPs that could be served but wait for their checks, sorted. */
  held: string[];
}

export function holdUnchecked(
  model: ClusterModel,
  desired: NodeDesired,
  announcing: ReadonlySet<string>,
  verdict: (checkKey: string) => CheckVerdict | undefined,
): SettleResult {
  if (!desired.bgp) return { desired, held: [] };
  // Steady state: every servable VIP is announced already, and nothing needs looking at.
  if (desired.bgp.every((g) => g.serving.every((v) => announcing.has(v)))) return { desired, held: [] };
  const held = new Set<string>();
  const unsettledVips = new Set<string>();
  for (const c of desired.services) {
    const s = model.services.get(c.key);
    if (!s || !s.group) continue;
    const pending = s.backends.some((b) => backendKeys(s.key, b).some((k) => !decided(verdict(k))));
    if (pending) for (const v of s.vips) unsettledVips.add(v.vip);
  }
  if (unsettledVips.size === 0) return { desired, held: [] };
  const bgp = desired.bgp.map((g) => ({
    ...g,
    serving: g.serving.filter((v) => {
      if (announcing.has(v) || !unsettledVips.has(v)) return true;
      held.add(v);
      return false;
    }),
  }));
  return { desired: { ...desired, bgp }, held: [...held].sort() };
}
