// Source NAT of NAT services: desired rules compiled from the desired services (pure), and the
// diff against our nftables table as read back (pure): one whole-table transaction, or nothing.
import { canonicalIp, ipBytes } from '../address/index.js';
import type { IpvsServiceWithDests } from '../ipvs/types.js';
import type { GatewayModel } from '../model/index.js';
import { isVipRule, normalizeRules, parseTable, tableBatch, type NftObject, type NftRule, type SnatRule, type VipRule } from '../nft/index.js';

/** Whether `address` lies in `gw`'s subnet (same family). */
export function inSubnet(address: string, gw: Pick<GatewayModel, 'address' | 'prefixLen'>): boolean {
  const a = ipBytes(address);
  const g = ipBytes(gw.address);
  if (!a || !g || a.length !== g.length) return false;
  for (let bit = 0; bit < gw.prefixLen; bit++) {
    const mask = 0x80 >> (bit % 8);
    if ((a[bit >> 3]! & mask) !== (g[bit >> 3]! & mask)) return false;
  }
  return true;
}

/**
 * The rules of one service with snat: what IPVS sends to its NAT destinations is given the
 * group's gateway address on the destination's subnet when there is one (it moves with VRRP,
 * so a backup that inherits a synced connection rewrites it to the same source), otherwise the
 * outgoing interface's own address (masquerade: real servers anywhere, e.g. pods on other nodes).
 */
export function snatRules(svc: IpvsServiceWithDests, gateways: readonly GatewayModel[]): SnatRule[] {
  const family = svc.key.af === 'IPv6' ? 'ip6' : 'ip';
  const match: SnatRule['match'] = 'fwmark' in svc.key ? { fwmark: svc.key.fwmark } : { protocol: svc.key.protocol, vip: canonicalIp(svc.key.addr), port: svc.key.port };
  const bySource = new Map<string, string[]>();
  for (const d of svc.dests) {
    if (d.fwd !== 'masq') continue;
    const addr = canonicalIp(d.addr);
    const gw = gateways.find((g) => inSubnet(addr, g));
    const to = gw ? canonicalIp(gw.address) : '';
    bySource.set(to, [...(bySource.get(to) ?? []), addr]);
  }
  return [...bySource].map(([to, dests]) => ({ family, match, dests, ...(to ? { to } : {}) }));
}

/**
 * The rule that keeps kube-proxy on this director from taking one VIP service's packets: notrack
 * (real servers that are nodes) or claim (NAT with snat, which needs conntrack). None for fwmark
 * services: kube-proxy matches addresses, and the mark is set after the raw hook.
 */
export function vipRule(svc: IpvsServiceWithDests, verdict: VipRule['verdict']): VipRule | undefined {
  if ('fwmark' in svc.key) return undefined;
  return { verdict, family: svc.key.af === 'IPv6' ? 'ip6' : 'ip', protocol: svc.key.protocol, vip: canonicalIp(svc.key.addr), port: svc.key.port };
}

export type SnatPlan =
  | { op: 'none' }
  /** `batch` makes the table hold `rules` (no rules: removes it); `why` is for the log. */
  | { op: 'write'; batch: NftObject[]; rules: NftRule[]; why: string };

const same = (a: readonly NftRule[], b: readonly NftRule[]): boolean =>
  JSON.stringify(normalizeRules(a).map(canonical)) === JSON.stringify(normalizeRules(b).map(canonical));

const canonical = (r: NftRule): unknown[] => (isVipRule(r) ? [r.verdict, r.family, r.protocol, r.vip, r.port] : [r.family, r.match, r.dests, r.to ?? null]);

/** desired rules vs our table as listed (undefined: absent). */
export function diffSnat(desired: readonly NftRule[], observed: readonly NftObject[] | undefined): SnatPlan {
  const rules = normalizeRules(desired);
  if (observed === undefined) {
    return rules.length === 0 ? { op: 'none' } : { op: 'write', batch: tableBatch(rules), rules, why: 'table absent' };
  }
  if (rules.length === 0) return { op: 'write', batch: tableBatch([]), rules, why: 'no service needs source NAT or untracked or claimed VIPs: table removed' };
  const parsed = parseTable(observed);
  if ('unknown' in parsed) return { op: 'write', batch: tableBatch(rules), rules, why: `table rewritten: ${parsed.unknown}` };
  if (same(parsed.rules, rules)) return { op: 'none' };
  return { op: 'write', batch: tableBatch(rules), rules, why: 'rules changed' };
}
