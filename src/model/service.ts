// The steps that make one VirtualService's ServiceModel. Both the full resolve and the
// incremental resolver run them, so the two cannot drift apart.
import { type DirectorGroupSpec, type IpFamily, type VirtualService, type VirtualServiceSpec, serviceFamily } from '../api/index.js';
import { serviceKeyLabel } from '../ipvs/keys.js';
import type { VirtualServiceKey } from '../ipvs/types.js';
import { canonical } from './canonical.js';
import { type BackendResult, resolveBackends, selectRealServers } from './backends.js';
import type { Claim, ClaimOutcome } from './conflicts.js';
import { pinnedRouterIds, takesRouterIds } from './groups.js';
import type { RealServerPart } from './real-servers.js';
import { formatSelector } from './selector.js';
import type { SourceIndex } from './source-index.js';
import type { Backend, GroupModel, InvalidObject, Issue, ServiceModel, ServiceSpec, VridAllocation } from './types.js';
import { compareText } from './vrid.js';

function emptyService(key: string, namespace: string, name: string, generation: number | undefined): ServiceModel {
  return {
    key,
    namespace,
    name,
    generation,
    spec: undefined,
    accepted: false,
    issues: [],
    ipvsService: undefined,
    ipvsKey: undefined,
    family: undefined,
    group: '',
    directors: [],
    vips: [],
    backends: [],
  };
}

export function invalidServiceModel(inv: InvalidObject): ServiceModel {
  const namespace = inv.namespace ?? '';
  return {
    ...emptyService(`${namespace}/${inv.name}`, namespace, inv.name, inv.generation),
    issues: [{ reason: 'InvalidSpec', message: inv.error, blocking: true }],
  };
}

/** The IPVS service of a (canonical) spec: the API's protocol spelled as IPVS's. */
function ipvsServiceOf(spec: VirtualServiceSpec, af: IpFamily): VirtualServiceKey {
  if (spec.fwmark !== undefined) return { af, fwmark: spec.fwmark };
  return { af, protocol: spec.protocol === 'UDP' ? 'udp' : spec.protocol === 'SCTP' ? 'sctp' : 'tcp', addr: spec.vip ?? '', port: spec.port ?? 0 };
}

/**
 * The scheduler of a spec that names none: a consistent hash in a group that announces over BGP
 * (the routers move flows between directors, and only mh with mh-port picks the same real server
 * on each), else wlc, the default of ipvsadm and keepalived.
 */
function defaultScheduler(group: DirectorGroupSpec | undefined): Pick<ServiceSpec, 'scheduler' | 'schedulerFlags'> {
  return group?.announce === 'BGP' ? { scheduler: 'mh', schedulerFlags: ['mh-port'] } : { scheduler: 'wlc' };
}

/**
 * The spec with its addresses as the kernel reads them back (RFC 5952) and its scheduler named:
 * compile and status get this, never the raw spelling. The same object when it already is.
 */
function canonicalSpec(spec: VirtualServiceSpec, group: DirectorGroupSpec | undefined): ServiceSpec {
  const vip = spec.vip === undefined ? undefined : canonical(spec.vip);
  const fwmarkVIPs = spec.fwmarkVIPs?.map(canonical);
  const sorry = spec.sorryServer === undefined ? undefined : canonical(spec.sorryServer.address);
  const same = vip === spec.vip && sorry === spec.sorryServer?.address && (fwmarkVIPs ?? []).every((v, i) => v === spec.fwmarkVIPs![i]);
  if (same && spec.scheduler !== undefined) return spec as ServiceSpec;
  return {
    ...spec,
    ...(spec.scheduler === undefined ? defaultScheduler(group) : { scheduler: spec.scheduler }),
    ...(vip !== undefined ? { vip } : {}),
    ...(fwmarkVIPs !== undefined ? { fwmarkVIPs } : {}),
    ...(spec.sorryServer !== undefined ? { sorryServer: { ...spec.sorryServer, address: sorry! } } : {}),
  };
}

/**
 * The per-service checks that need only the service and its group (from resolveGroups). Its
 * issues are all blocking: a service with none goes on to claim its IPVS service and VIPs.
 */
export function baseServiceModel(vs: VirtualService, groups: ReadonlyMap<string, GroupModel>): ServiceModel {
  const namespace = vs.metadata.namespace ?? '';
  const name = vs.metadata.name ?? '';
  const key = `${namespace}/${name}`;
  const family = serviceFamily(vs.spec);
  const vipTexts = vs.spec.vip !== undefined ? [vs.spec.vip] : (vs.spec.fwmarkVIPs ?? []);
  const vips = [...new Set(vipTexts.map(canonical))].sort(compareText);
  const groupName = vs.spec.directorGroup;
  const g = groups.get(groupName);
  const spec = canonicalSpec(vs.spec, g?.group?.spec);
  const ipvsService = ipvsServiceOf(spec, family);
  const m: ServiceModel = {
    ...emptyService(key, namespace, name, vs.metadata.generation),
    spec,
    ipvsService,
    ipvsKey: serviceKeyLabel(ipvsService),
    family,
    group: groupName,
    directors: g?.directors ?? [],
    vips: vips.map((vip) => ({ vip, interface: g?.group?.spec.interface ?? '', vrid: 0 })),
  };
  if (!g) {
    m.issues.push({ reason: 'DirectorGroupNotFound', message: `DirectorGroup ${groupName} does not exist`, blocking: true });
  } else if (!g.group) {
    m.issues.push({ reason: 'DirectorGroupNotFound', message: `DirectorGroup ${groupName} is invalid: ${g.issues[0]?.message ?? ''}`, blocking: true });
  } else if (g.group.spec.vrrp.version === 2 && family === 'IPv6') {
    m.issues.push({
      reason: 'FamilyMismatch',
      message: `DirectorGroup ${groupName} runs VRRP version 2, which carries only IPv4; an IPv6 VIP needs version 3`,
      blocking: true,
    });
  }
  return m;
}

/** What the service competes for; undefined when a blocking issue keeps it out. */
export function claimOf(vs: VirtualService, base: ServiceModel): Claim | undefined {
  if (base.issues.some((i) => i.blocking)) return undefined;
  return {
    key: base.key,
    created: vs.metadata.creationTimestamp ?? '',
    ipvsKey: base.ipvsKey ?? base.key,
    group: base.group,
    vips: base.vips.map((v) => v.vip),
  };
}

/** What completeService needs beside the service itself. */
export interface ServiceContext {
  /** From resolveGroups. */
  groups: ReadonlyMap<string, GroupModel>;
  /** IPVS schedulers the kernel lacks. */
  unsupported: ReadonlySet<string>;
  sources: SourceIndex;
}

export interface ResolvedService {
  model: ServiceModel;
  /** What it says about the RealServers its selector matches, by name. */
  parts: ReadonlyMap<string, RealServerPart>;
}

const noParts: ReadonlyMap<string, RealServerPart> = new Map();
const noIssues: readonly Issue[] = Object.freeze([]);
/** The parts of most real servers, shared (one object per RealServer and service adds up at 100,000). */
const usedPart: RealServerPart = Object.freeze({ used: true, issues: noIssues });
const unusedPart: RealServerPart = Object.freeze({ used: false, issues: noIssues });

/**
 * The finished model: a service without a claim stays as it is; a loser says who holds its
 * claim (and still shows which RealServers it selects); a winner gets its router ids, the
 * checks that need them, and its backends. `base` is not changed.
 */
export function completeService(
  vs: VirtualService,
  base: ServiceModel,
  outcome: ClaimOutcome | undefined,
  ids: ReadonlyMap<string, VridAllocation> | undefined,
  ctx: ServiceContext,
): ResolvedService {
  if (!outcome) return { model: base, parts: noParts };
  const sources = ctx.sources.sources(base.namespace);
  if (!outcome.won) {
    const selector = vs.spec.backends.realServerSelector;
    const parts = new Map<string, RealServerPart>();
    if (selector) for (const rs of selectRealServers(selector, sources)) parts.set(rs.metadata.name ?? '', unusedPart);
    return { model: { ...base, issues: [...base.issues, { reason: 'Conflict', message: outcome.message, blocking: true }] }, parts };
  }
  const g = ctx.groups.get(base.group);
  if (!g) return { model: base, parts: noParts };
  const issues = [...base.issues];
  const vips = base.vips.map((v) => ids?.get(v.vip) ?? v);
  // A BGP group allocates no router ids: its VIPs keep vrid 0.
  const needsIds = takesRouterIds(g);
  // A pinned VIP without an id: its pin was refused (the group's Degraded condition says why).
  const pinned = pinnedRouterIds(g);
  const refused = new Set(base.vips.filter((v) => needsIds && !ids?.has(v.vip) && pinned.has(v.vip)).map((v) => v.vip));
  const pinRefused = [...refused];
  if (pinRefused.length > 0) {
    issues.push({
      reason: 'Conflict',
      message: `the router id pinned for VIP ${pinRefused.join(', ')} in DirectorGroup ${g.name} is held by another virtual router (see the group's Degraded condition): not programmed, so it never contends with it`,
      blocking: true,
    });
  }
  const missing = base.vips.filter((v) => needsIds && !ids?.has(v.vip) && !refused.has(v.vip)).map((v) => v.vip);
  if (missing.length > 0) {
    issues.push({
      reason: 'VridExhausted',
      message: `no free VRRP router id on interface ${g.group?.spec.interface ?? '?'} for VIP ${missing.join(', ')} (all of 1..255 are in use)`,
      blocking: true,
    });
  }
  // base holds the canonical spec for every service that gets here (a failed parse has no claim).
  const spec = base.spec ?? canonicalSpec(vs.spec, g.group?.spec);
  const scheduler = spec.scheduler;
  if (ctx.unsupported.has(scheduler)) {
    issues.push({
      reason: 'UnsupportedScheduler',
      message: `the kernel has no IPVS scheduler ${scheduler} (module ip_vs_${scheduler} missing)`,
      blocking: true,
    });
  }
  if (g.directors.length === 0) {
    issues.push({
      reason: 'NoDirectors',
      message: `DirectorGroup ${base.group} selects no node (nodeSelector ${formatSelector(g.group?.spec.nodeSelector ?? {})})`,
      blocking: false,
    });
  }
  const r = resolveBackends(vs, base.family ?? 'IPv4', sources);
  issues.push(...r.issues);
  issues.push(...activeActiveIssues(spec, g.group?.spec, r.backends));
  const model = { ...base, vips, issues, backends: r.backends, accepted: !issues.some((i) => i.blocking) };
  return { model, parts: partsOf(r) };
}

/** Schedulers that pick the same real server for a flow on every director given the same table. */
const consistentSchedulers: ReadonlySet<string> = new Set(['mh', 'sh']);

/**
 * What an active-active (BGP) group cannot serve: the routers move flows between directors on
 * every next-hop change, so each director must pick the same real server for a flow (a
 * consistent hash), and replies must not need to come back through the director that saw the
 * SYN (NAT does).
 */
function activeActiveIssues(spec: ServiceSpec, group: DirectorGroupSpec | undefined, backends: readonly Backend[]): Issue[] {
  if (group?.announce !== 'BGP') return [];
  const issues: Issue[] = [];
  if (!consistentSchedulers.has(spec.scheduler) && !group.bgp?.allowNonConsistentScheduler) {
    issues.push({
      reason: 'InvalidSpec',
      message: `scheduler ${spec.scheduler} is not consistent: DirectorGroup announces over BGP, the routers move flows between directors and only mh (with schedulerFlags [mh-port]) or sh picks the same real server on every director; set spec.bgp.allowNonConsistentScheduler on the group to accept broken connections on every route change`,
      blocking: true,
    });
  }
  if (spec.forwarding.method === 'NAT' || backends.some((b) => b.forwarding.method === 'NAT')) {
    issues.push({
      reason: 'InvalidSpec',
      message: 'NAT forwarding cannot be served active-active (DirectorGroup announces over BGP): the replies would have to return through the director that saw the first packet; use DR or TUN',
      blocking: true,
    });
  }
  return issues;
}

function partsOf(r: BackendResult): Map<string, RealServerPart> {
  const used = new Set(r.used);
  const parts = new Map<string, RealServerPart>();
  for (const name of r.selected) {
    const issues = r.realServerIssues.get(name);
    parts.set(name, issues ? { used: used.has(name), issues } : used.has(name) ? usedPart : unusedPart);
  }
  return parts;
}
