import type { VridAllocation } from './types.js';

/** VRRP router ids are one octet; 0 is reserved. */
export const minVrid = 1;
export const maxVrid = 255;

export interface VridRequest {
  /** The interface the group's VIPs live on: router ids are unique per interface (per L2 segment). */
  interface: string;
  /** VIPs that need a router id, canonical text. */
  vips: readonly string[];
  /** What the group's status recorded; kept where still valid, so ids survive restarts. */
  previous: readonly VridAllocation[];
  /** Ids on this interface already held by other groups. */
  taken?: ReadonlySet<number>;
}

export interface VridResult {
  /** Sorted by VIP. */
  allocations: VridAllocation[];
  /** VIPs left without an id because 1..255 ran out. */
  exhausted: string[];
}

/** The previous allocations still valid for these VIPs on this interface, one per VIP and per id. */
export function keepPrevious(req: VridRequest): VridAllocation[] {
  const wanted = new Set(req.vips);
  const usedIds = new Set<number>();
  const seenVips = new Set<string>();
  const kept: VridAllocation[] = [];
  // Sorted so that a duplicate id in a hand-edited status resolves the same way everywhere.
  const prev = [...req.previous].sort((a, b) => a.vrid - b.vrid || compareText(a.vip, b.vip));
  for (const p of prev) {
    if (p.interface !== req.interface || !wanted.has(p.vip) || seenVips.has(p.vip)) continue;
    if (!Number.isInteger(p.vrid) || p.vrid < minVrid || p.vrid > maxVrid) continue;
    if (usedIds.has(p.vrid) || req.taken?.has(p.vrid)) continue;
    usedIds.add(p.vrid);
    seenVips.add(p.vip);
    kept.push({ vip: p.vip, interface: req.interface, vrid: p.vrid });
  }
  return kept;
}

/**
 * Stable router-id allocation for one group: what `previous` recorded stays; each new VIP
 * (in sorted order) takes the lowest id in 1..255 that neither this group nor `taken` uses.
 */
export function allocateVrids(req: VridRequest): VridResult {
  const kept = keepPrevious(req);
  const used = new Set<number>([...kept.map((k) => k.vrid), ...(req.taken ?? [])]);
  const have = new Set(kept.map((k) => k.vip));
  const fresh = [...new Set(req.vips)].filter((v) => !have.has(v)).sort(compareText);
  const allocations = [...kept];
  const exhausted: string[] = [];
  let next = minVrid;
  for (const vip of fresh) {
    while (next <= maxVrid && used.has(next)) next++;
    if (next > maxVrid) {
      exhausted.push(vip);
      continue;
    }
    used.add(next);
    allocations.push({ vip, interface: req.interface, vrid: next });
  }
  allocations.sort((a, b) => compareText(a.vip, b.vip));
  return { allocations, exhausted };
}

/** Plain code-unit order: locale-independent, so every process sorts alike. */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
