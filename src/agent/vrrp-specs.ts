// Model -> what VRRP runs on one director: the instances (one per VIP with a router id, in groups
// with two or more directors; all of a group's instances form one sync group, keepalived's
// vrrp_sync_group, named after the group) and the IPVS sync daemons. Pure: compile and
// VrrpLeadership use it.
import { canonicalIp, ipFamily } from '../address/index.js';
import type { SyncDaemon } from '../ipvs/types.js';
import { gatewayText } from '../model/gateways.js';
import type { ClusterModel, GroupModel, Snapshot } from '../model/types.js';
import type { VrrpInstanceSpec } from '../vrrp/runtime/index.js';

export interface LeadershipInstance {
  group: string;
  vip: string;
  iface: string;
  spec: VrrpInstanceSpec;
}

export const instanceName = (group: string, iface: string, vip: string): string => `${group}/${iface}/${vip}`;

/** Whether VRRP elects the group's VIP holder: two or more directors, or `election: Always`. */
function electsByVrrp(g: GroupModel): boolean {
  return g.group !== undefined && g.group.spec.announce === 'VRRP' && (g.directors.length >= 2 || (g.directors.length === 1 && g.group.spec.vrrp.election === 'Always'));
}

/** Groups where `node` is a director and VRRP elects who holds their VIPs. */
export function vrrpGroups(model: ClusterModel, node: string): string[] {
  return [...model.groups.values()]
    .filter((g) => electsByVrrp(g) && g.directors.includes(node))
    .map((g) => g.name)
    .sort();
}

/** Whether `node` is the group's only director and holds its VIPs itself, without VRRP. */
export function isSoleDirector(g: GroupModel | undefined, node: string): boolean {
  return g !== undefined && g.group?.spec.announce !== 'BGP' && g.directors.length === 1 && g.directors[0] === node && !electsByVrrp(g);
}

/** Groups where `node` is the only director: it holds their VIPs itself, without VRRP. */
export function soleGroups(model: ClusterModel, node: string): string[] {
  return [...model.groups.values()].filter((g) => isSoleDirector(g, node)).map((g) => g.name);
}

/** Node annotation that overrides the group's VRRP priority on one director (keepalived MASTER 150 / BACKUP 100). */
export const priorityAnnotation = 'lvs.dev/vrrp-priority';

/** The node's priority override (1..254), or undefined when absent or not a valid priority. */
export function nodePriority(snapshot: Pick<Snapshot, 'nodes'>, node: string): number | undefined {
  const text = snapshot.nodes.find((n) => n.metadata.name === node)?.metadata.annotations?.[priorityAnnotation];
  if (text === undefined || !/^\d{1,3}$/.test(text.trim())) return undefined;
  const p = Number(text.trim());
  return p >= 1 && p <= 254 ? p : undefined;
}

/**
 * Node annotation with this director's VRRP advert sources (keepalived unicast_src_ip), a
 * comma-separated list such as "10.0.0.11, 10.0.1.11": each instance sends from the listed
 * address of its family that is on its interface (vrrp-source.ts checks that).
 */
export const unicastSrcAnnotation = 'lvs.dev/vrrp-unicast-src-ip';

/** The annotation's addresses, canonical; `invalid`: entries that are no address. */
export function nodeUnicastSources(snapshot: Pick<Snapshot, 'nodes'>, node: string): { sources: string[]; invalid: string[] } {
  const text = snapshot.nodes.find((n) => n.metadata.name === node)?.metadata.annotations?.[unicastSrcAnnotation];
  const sources: string[] = [];
  const invalid: string[] = [];
  for (const item of (text ?? '').split(',').map((x) => x.trim()).filter((x) => x !== '')) {
    if (ipFamily(item) === undefined) invalid.push(item);
    else if (!sources.includes(canonicalIp(item))) sources.push(canonicalIp(item));
  }
  return { sources, invalid };
}

export interface SpecOptions {
  /** This director's priority (the Node annotation); default: the group's, else 100. */
  priority?: number | undefined;
  /** Group -> v2 PASS password, where the caller could read the Secret. */
  passwords?: ReadonlyMap<string, string>;
}

/**
 * The VRRP instances `node` runs: one per VIP with an allocated router id in each VRRP-managed
 * group, settings from DirectorGroup.spec.vrrp. Sorted by name; equal models give equal specs.
 */
export function vrrpInstanceSpecs(model: ClusterModel, node: string, opts: SpecOptions = {}): LeadershipInstance[] {
  const passwords = opts.passwords ?? new Map<string, string>();
  const out: LeadershipInstance[] = [];
  for (const name of vrrpGroups(model, node)) {
    const g = model.groups.get(name)!;
    const spec = g.group!.spec;
    const v = spec.vrrp;
    const password = passwords.get(name);
    for (const a of g.vrids) {
      if (a.vrid < 1) continue;
      const iface = a.interface || spec.interface;
      // A gateway address keeps its prefix (its connected route) and has its own peers, on its interface.
      const gateway = g.gateways.find((x) => x.address === a.vip && x.interface === iface);
      const vip = gateway ? gatewayText(gateway) : a.vip;
      const peers = gateway ? gateway.unicastPeers : (v.unicastPeers ?? []);
      out.push({
        group: name, vip, iface,
        spec: {
          name: instanceName(name, iface, a.vip),
          interface: iface,
          version: v.version,
          vrid: a.vrid,
          priority: opts.priority ?? v.priority ?? 100,
          advertIntervalMs: v.advertIntervalMs,
          vips: [vip],
          preempt: v.preempt,
          preemptDelayMs: v.preemptDelaySeconds * 1000,
          ...(v.version === 2 && v.authSecretRef && password !== undefined ? { auth: { type: 'pass' as const, password } } : {}),
          ...(peers.length ? { unicastPeers: [...peers] } : {}),
          garpRepeat: v.garpRepeat,
          garpIntervalMs: v.garpIntervalMs,
          garpMasterDelayMs: v.garpMasterDelaySeconds * 1000,
          garpRefreshMs: v.garpMasterRefreshSeconds * 1000,
          garpRefreshRepeat: v.garpMasterRefreshRepeat,
          // Every instance of the group on this node: one fate (Fault, Master, Backup), as keepalived's vrrp_sync_group.
          syncGroup: name,
          trackInterfaces: (v.trackInterfaces ?? []).map((t) => ({ name: t.name, weight: t.weight })),
        },
      });
    }
  }
  return out.sort((x, y) => x.spec.name.localeCompare(y.spec.name));
}

/** The sync daemon a node runs for its VRRP-managed groups (keepalived lvs_sync_daemon). */
export interface SyncWant {
  group: string;
  mcastIfn: string;
  syncId: number;
}

/**
 * The sync daemon this node runs: the first (by name) VRRP-managed group with sync on. The kernel
 * runs at most one master and one backup daemon per network namespace, so one group's settings win.
 */
export function desiredSync(model: ClusterModel, node: string): SyncWant | undefined {
  for (const name of vrrpGroups(model, node)) {
    const spec = model.groups.get(name)!.group!.spec;
    if (spec.sync.enabled) return { group: name, mcastIfn: spec.sync.interface ?? spec.interface, syncId: spec.sync.syncId };
  }
  return undefined;
}

/** Whether this node is VRRP master of a group (holds its VIPs): it runs the master sync daemon then. */
export type SyncMastership = (group: string) => boolean;

/**
 * The daemons to run: backup always (so this node has every connection before it may have to
 * take over), master while this node is master of the sync group. Both run at once in IPVS;
 * keepalived instead stops the backup daemon on the master, which leaves a gap when the roles
 * swap back and forth.
 */
export function desiredSyncDaemons(model: ClusterModel, node: string, isMaster: SyncMastership): SyncDaemon[] {
  const sync = desiredSync(model, node);
  if (!sync) return [];
  const daemon = { mcastIfn: sync.mcastIfn, syncId: sync.syncId };
  return isMaster(sync.group) ? [{ state: 'master', ...daemon }, { state: 'backup', ...daemon }] : [{ state: 'backup', ...daemon }];
}
