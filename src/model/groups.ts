import type { DirectorGroup } from '../api/index.js';
import { canonical } from './canonical.js';
import { type Claim, type ClaimOutcome, resolveClaims } from './conflicts.js';
import { resolveGateways, withoutServiceVips } from './gateways.js';
import { sameItems } from './identity-diff.js';
import { sameContent } from './same-content.js';
import { formatSelector, matchesSelector } from './selector.js';
import type { GatewayModel, GroupModel, InvalidObject, Issue, Snapshot, VridAllocation } from './types.js';
import { allocateVrids, compareText, keepPrevious } from './vrid.js';

function groupOrder(a: DirectorGroup, b: DirectorGroup): number {
  return (
    compareText(a.metadata.creationTimestamp ?? '', b.metadata.creationTimestamp ?? '') ||
    compareText(a.metadata.name ?? '', b.metadata.name ?? '')
  );
}

/**
 * The DirectorGroups with their directors and own issues, before any VirtualService is placed
 * (no router ids, no services yet). Oldest first: that order decides router-id clashes.
 */
export function resolveGroups(s: Snapshot): Map<string, GroupModel> {
  const groups = new Map<string, GroupModel>();
  const ordered = [...s.directorGroups].sort(groupOrder);
  const gateways = resolveGateways(ordered);
  for (const g of ordered) {
    const name = g.metadata.name ?? '';
    const directors = s.nodes
      .filter((n) => matchesSelector(g.spec.nodeSelector, n.metadata.labels))
      .map((n) => n.metadata.name ?? '')
      .sort(compareText);
    const issues: Issue[] = [];
    if (directors.length === 0) {
      issues.push({
        reason: 'NoDirectors',
        message: `no node matches nodeSelector ${formatSelector(g.spec.nodeSelector)}`,
        blocking: true,
      });
    }
    const auth = g.spec.vrrp.authSecretRef;
    if (auth && s.secrets && !s.secrets.has(`${auth.namespace}/${auth.name}`)) {
      issues.push({
        reason: 'AuthSecretNotFound',
        message: `Secret ${auth.namespace}/${auth.name} named by vrrp.authSecretRef does not exist`,
        blocking: true,
      });
    }
    const gw = gateways.get(name);
    issues.push(...(gw?.issues ?? []));
    groups.set(name, { name, generation: g.metadata.generation, group: canonicalGroup(g), directors, gateways: gw?.gateways ?? [], vrids: [], vips: [], services: [], issues });
  }
  for (const inv of s.invalid ?? []) {
    if (inv.kind !== 'DirectorGroup') continue;
    groups.set(inv.name, {
      name: inv.name,
      generation: inv.generation,
      group: undefined,
      directors: [],
      gateways: [],
      vrids: [],
      vips: [],
      services: [],
      issues: [{ reason: 'InvalidSpec', message: inv.error, blocking: true }],
    });
  }
  return groups;
}

/**
 * The group with its unicast peers canonical (RFC 5952), as the VRRP speaker compares them: equal
 * groups spelled differently must give equal VRRP instances. The same object when it already is.
 */
function canonicalGroup(g: DirectorGroup): DirectorGroup {
  const peers = g.spec.vrrp.unicastPeers;
  const canon = peers?.map(canonical);
  if (!peers || canon!.every((p, i) => p === peers[i])) return g;
  return { ...g, spec: { ...g.spec, vrrp: { ...g.spec.vrrp, unicastPeers: [...new Set(canon)] } } };
}

/**
 * resolveGroups(s), or `current` when the groups come out the same (Node heartbeats and the
 * like change no group). Skips the work when none of its inputs changed since `prev`.
 */
export function regroupedOrSame(prev: Snapshot, s: Snapshot, current: Map<string, GroupModel>): Map<string, GroupModel> {
  const unchanged =
    sameItems(prev.directorGroups, s.directorGroups) &&
    sameItems(prev.nodes, s.nodes) &&
    sameSecrets(prev.secrets, s.secrets) &&
    sameContent(invalidGroups(prev), invalidGroups(s));
  if (unchanged) return current;
  const groups = resolveGroups(s);
  return sameGroups(current, groups) ? current : groups;
}

function invalidGroups(s: Snapshot): InvalidObject[] {
  return (s.invalid ?? []).filter((i) => i.kind === 'DirectorGroup');
}

function sameSecrets(a: ReadonlySet<string> | undefined, b: ReadonlySet<string> | undefined): boolean {
  if (a === b) return true;
  if (!a || !b || a.size !== b.size) return false;
  for (const x of a) if (!b.has(x)) return false;
  return true;
}

/** Same groups in the same order (the order decides router-id clashes). */
function sameGroups(a: ReadonlyMap<string, GroupModel>, b: ReadonlyMap<string, GroupModel>): boolean {
  if (a.size !== b.size) return false;
  const bs = [...b];
  let i = 0;
  for (const [key, g] of a) {
    const other = bs[i++];
    if (!other || other[0] !== key || !sameContent(g, other[1])) return false;
  }
  return true;
}

/** Who won which claim, and what that makes of the groups. */
export interface Placement {
  /** By VirtualService key, for every claim. */
  outcomes: Map<string, ClaimOutcome>;
  /** The groups with their winners and router ids. */
  groups: Map<string, GroupModel>;
  /** Router ids by group name, then VIP. */
  ids: Map<string, Map<string, VridAllocation>>;
}

/**
 * Settles the claims (see resolveClaims) and gives the winners' VIPs router ids, stable and
 * unique per interface across groups. `groups` (from resolveGroups) is not changed.
 */
export function placeClaims(groups: ReadonlyMap<string, GroupModel>, claims: readonly Claim[]): Placement {
  const outcomes = resolveClaims(claims);
  const vipsByGroup = new Map<string, Set<string>>();
  const winnersByGroup = new Map<string, string[]>();
  const vipOwners = new Map<string, string>();
  for (const c of claims) {
    if (!outcomes.get(c.key)?.won) continue;
    for (const v of c.vips) if (!vipOwners.has(v)) vipOwners.set(v, c.key);
    const vips = vipsByGroup.get(c.group) ?? new Set<string>();
    for (const v of c.vips) vips.add(v);
    vipsByGroup.set(c.group, vips);
    const winners = winnersByGroup.get(c.group) ?? [];
    winners.push(c.key);
    winnersByGroup.set(c.group, winners);
  }
  const gateways = new Map([...groups].map(([name, g]) => [name, withoutServiceVips(g.gateways, vipOwners)] as const));
  const vrids = assignVrids(groups, vipsByGroup, gateways);
  const placed = new Map<string, GroupModel>();
  const ids = new Map<string, Map<string, VridAllocation>>();
  for (const [name, g] of groups) {
    const v = vrids.get(name);
    const gw = gateways.get(name)!;
    const issues = [...g.issues, ...gw.issues, ...(v?.issue ? [v.issue] : [])];
    const services = (winnersByGroup.get(name) ?? []).sort(compareText);
    const vips = [...(vipsByGroup.get(name) ?? [])].sort(compareText);
    placed.set(name, { ...g, gateways: gw.gateways, vrids: v?.allocations ?? [], vips, services, issues: issues.length === g.issues.length ? g.issues : issues });
    ids.set(name, new Map((v?.allocations ?? []).map((a) => [a.vip, a] as const)));
  }
  return { outcomes, groups: placed, ids };
}

/**
 * Three passes so no group can take an id another group already uses: first the pinned ids
 * (spec.vrrp.routerIds), each refused if another group pinned or recorded it on that interface;
 * then every group keeps what its status recorded (older groups win a clash); then new addresses
 * get the lowest id free on their interface. A group asks on its interface for its service VIPs
 * and on each gateway address's interface for those: router ids are unique per interface.
 */
function assignVrids(
  groups: ReadonlyMap<string, GroupModel>,
  vipsByGroup: ReadonlyMap<string, Set<string>>,
  gateways: ReadonlyMap<string, { gateways: readonly GatewayModel[] }>,
): Map<string, { allocations: VridAllocation[]; issue: Issue | undefined }> {
  const live = [...groups.values()].filter((g) => g.group !== undefined);
  const requests = new Map(live.map((g) => [g.name, vridRequests(g, vipsByGroup.get(g.name), gateways.get(g.name)?.gateways ?? [])] as const));
  const previousOf = (g: GroupModel): VridAllocation[] => canonicalAllocations(g.group?.status?.vrids ?? []);
  const pinned = pinRouterIds(live, requests, previousOf);
  const keptByIface = new Map<string, Set<number>>();
  for (const [iface, ids] of pinned.idsByIface) keptByIface.set(iface, new Set(ids));
  const keptByGroup = new Map<string, Map<string, VridAllocation[]>>();
  for (const g of live) {
    const mine = new Map<string, VridAllocation[]>();
    const pins = pinned.byGroup.get(g.name)!;
    for (const [iface, vips] of requests.get(g.name)!) {
      const taken = keptByIface.get(iface) ?? new Set<number>();
      keptByIface.set(iface, taken);
      const free = vips.filter((v) => !pins.addresses.has(v));
      const kept = keepPrevious({ interface: iface, vips: free, previous: previousOf(g), taken });
      for (const k of kept) taken.add(k.vrid);
      mine.set(iface, [...pins.granted.filter((a) => a.interface === iface), ...kept]);
    }
    keptByGroup.set(g.name, mine);
  }
  const out = new Map<string, { allocations: VridAllocation[]; issue: Issue | undefined }>();
  const usedByIface = new Map([...keptByIface].map(([k, v]) => [k, new Set(v)] as const));
  for (const g of live) {
    const allocations: VridAllocation[] = [];
    const exhausted: string[] = [];
    const pins = pinned.byGroup.get(g.name)!;
    for (const [iface, vips] of requests.get(g.name)!) {
      const used = usedByIface.get(iface) ?? new Set<number>();
      usedByIface.set(iface, used);
      const mine = keptByGroup.get(g.name)?.get(iface) ?? [];
      const others = new Set([...used].filter((id) => !mine.some((m) => m.vrid === id)));
      // A refused pin leaves its address without an id rather than with another one.
      const wanted = vips.filter((v) => !pins.refused.some((r) => r.address === v));
      const r = allocateVrids({ interface: iface, vips: wanted, previous: mine, taken: others });
      for (const a of r.allocations) used.add(a.vrid);
      allocations.push(...r.allocations);
      exhausted.push(...r.exhausted.map((v) => `${v} on ${iface}`));
    }
    allocations.sort((a, b) => compareText(a.interface, b.interface) || compareText(a.vip, b.vip));
    const issues: Issue[] = [];
    if (exhausted.length > 0) {
      issues.push({ reason: 'VridExhausted', message: `no free VRRP router id for ${exhausted.length} address(es): ${exhausted.join(', ')}`, blocking: false });
    }
    if (pins.refused.length > 0) {
      const what = pins.refused.map((r) => `${r.address} (router id ${r.vrid} on ${r.interface} is ${r.heldBy})`).join('; ');
      issues.push({ reason: 'Conflict', message: `pinned VRRP router ids refused, these addresses get none: ${what}`, blocking: false });
    }
    const issue: Issue | undefined = issues.length === 0 ? undefined : issues.length === 1 ? issues[0] : { reason: issues[0]!.reason, message: issues.map((i) => i.message).join('; '), blocking: false };
    out.set(g.name, { allocations, issue });
  }
  return out;
}

interface RefusedPin { address: string; interface: string; vrid: number; heldBy: string }

/** The group's pinned router ids (spec.vrrp.routerIds), by canonical address (the schema validated them). */
export function pinnedRouterIds(g: GroupModel): Map<string, number> {
  return new Map((g.group?.spec.vrrp.routerIds ?? []).map((p) => [canonical(p.address), p.vrid] as const));
}

/**
 * The pinned router ids, group by group in order: a pin is granted unless its id on that
 * interface is pinned by an earlier group, recorded by another group for an address it still
 * carries, or pinned twice within the group.
 */
function pinRouterIds(
  live: readonly GroupModel[],
  requests: ReadonlyMap<string, Map<string, string[]>>,
  previousOf: (g: GroupModel) => VridAllocation[],
): { byGroup: Map<string, { granted: VridAllocation[]; refused: RefusedPin[]; addresses: Set<string> }>; idsByIface: Map<string, Set<number>> } {
  const recorded = new Map<string, Map<number, string>>(); // iface -> id -> group
  for (const g of live) {
    const carried = requests.get(g.name)!;
    for (const a of previousOf(g)) {
      if (!carried.get(a.interface)?.includes(a.vip)) continue;
      const ids = recorded.get(a.interface) ?? new Map<number, string>();
      if (!ids.has(a.vrid)) ids.set(a.vrid, g.name);
      recorded.set(a.interface, ids);
    }
  }
  const pinnedBy = new Map<string, Map<number, string>>(); // iface -> id -> group
  const byGroup = new Map<string, { granted: VridAllocation[]; refused: RefusedPin[]; addresses: Set<string> }>();
  for (const g of live) {
    const granted: VridAllocation[] = [];
    const refused: RefusedPin[] = [];
    const addresses = new Set<string>();
    const pins = pinnedRouterIds(g);
    for (const [iface, vips] of requests.get(g.name)!) {
      const ids = pinnedBy.get(iface) ?? new Map<number, string>();
      pinnedBy.set(iface, ids);
      for (const address of [...vips].sort(compareText)) {
        const vrid = pins.get(address);
        if (vrid === undefined) continue;
        addresses.add(address);
        const other = recorded.get(iface)?.get(vrid);
        const holder = ids.get(vrid) ?? (other !== undefined && other !== g.name ? other : undefined);
        if (holder !== undefined) {
          refused.push({ address, interface: iface, vrid, heldBy: holder === g.name ? 'pinned twice in this group' : `held by DirectorGroup ${holder}` });
          continue;
        }
        ids.set(vrid, g.name);
        granted.push({ vip: address, interface: iface, vrid });
      }
    }
    byGroup.set(g.name, { granted, refused, addresses });
  }
  const idsByIface = new Map([...pinnedBy].map(([iface, ids]) => [iface, new Set(ids.keys())] as const));
  return { byGroup, idsByIface };
}

/**
 * A group that announces over BGP runs no VRRP (and may not have gateway addresses): its VIPs take
 * no router id from the ones VRRP groups on the same segment share, and need none to be served.
 */
export const takesRouterIds = (g: GroupModel): boolean => g.group?.spec.announce !== 'BGP';

/** Interface -> the addresses a group needs router ids for there (service VIPs on the group interface first). */
function vridRequests(g: GroupModel, vips: ReadonlySet<string> | undefined, gateways: readonly GatewayModel[]): Map<string, string[]> {
  const byIface = new Map<string, string[]>();
  if (!takesRouterIds(g)) return byIface;
  const add = (iface: string, address: string): void => {
    const list = byIface.get(iface) ?? [];
    list.push(address);
    byIface.set(iface, list);
  };
  const iface = g.group?.spec.interface ?? '';
  byIface.set(iface, [...(vips ?? [])]);
  for (const gw of gateways) add(gw.interface, gw.address);
  return byIface;
}

function canonicalAllocations(list: readonly VridAllocation[]): VridAllocation[] {
  return list.flatMap((a) => {
    try {
      return [{ ...a, vip: canonical(a.vip) }];
    } catch {
      return [];
    }
  });
}
