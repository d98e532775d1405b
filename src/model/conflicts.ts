import { compareText } from './vrid.js';

/** What one VirtualService wants to own. */
export interface Claim {
  /** `namespace/name`. */
  key: string;
  /** metadata.creationTimestamp (RFC 3339, so text order is time order); '' sorts first. */
  created: string;
  /** The IPVS service identity: `TCP 192.0.2.10:80`, `FWM 7 IPv4`. */
  ipvsKey: string;
  /** The DirectorGroup whose VRRP master will hold the VIPs. */
  group: string;
  /** Canonical VIPs. */
  vips: readonly string[];
}

export type ClaimOutcome = { won: true } | { won: false; holder: string; message: string };

/** Oldest first, then by namespace/name: the order every process agrees on. */
export function claimOrder(a: Claim, b: Claim): number {
  return compareText(a.created, b.created) || compareText(a.key, b.key);
}

/**
 * Decides who owns each IPVS service and each VIP. A claim loses when an earlier claim
 * (see claimOrder) already holds its IPVS service, or holds one of its VIPs in a different
 * DirectorGroup (two VRRP groups would fight over the address). Losers claim nothing, so
 * deleting a winner lets the next claim in order win on the next resolve.
 */
export function resolveClaims(claims: readonly Claim[]): Map<string, ClaimOutcome> {
  const out = new Map<string, ClaimOutcome>();
  const services = new Map<string, string>();
  const vipOwners = new Map<string, { group: string; key: string }>();
  for (const c of [...claims].sort(claimOrder)) {
    const holder = services.get(c.ipvsKey);
    if (holder !== undefined) {
      out.set(c.key, {
        won: false,
        holder,
        message: `${c.ipvsKey} is already claimed by VirtualService ${holder}, which is older; this one is not programmed until that one goes away or changes`,
      });
      continue;
    }
    const clash = c.vips
      .map((vip) => ({ vip, owner: vipOwners.get(vip) }))
      .find((v) => v.owner !== undefined && v.owner.group !== c.group);
    if (clash?.owner) {
      out.set(c.key, {
        won: false,
        holder: clash.owner.key,
        message: `VIP ${clash.vip} is already carried by DirectorGroup ${clash.owner.group} for VirtualService ${clash.owner.key}, which is older; one VIP can only live in one DirectorGroup`,
      });
      continue;
    }
    services.set(c.ipvsKey, c.key);
    for (const vip of c.vips) if (!vipOwners.has(vip)) vipOwners.set(vip, { group: c.group, key: c.key });
    out.set(c.key, { won: true });
  }
  return out;
}
