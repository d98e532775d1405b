import { type DirectorGroup, type IpFamily, type RealServer, type VirtualService, serviceFamily } from '../api/index.js';
import type { Service } from '../kube/types.js';
import { canonicalAddress } from '../link/address.js';
import { type BackendSources, indexByLabel, indexSlices, resolveBackends } from './backends.js';
import { type Claim, resolveClaims } from './conflicts.js';
import { formatSelector, matchesSelector } from './selector.js';
import type { ClusterModel, GroupModel, Issue, RealServerModel, ServiceModel, Snapshot, VridAllocation } from './types.js';
import { allocateVrids, compareText, keepPrevious } from './vrid.js';

/**
 * The cluster-wide picture: which VirtualServices are programmed where, with which real
 * servers and VRRP router ids, and what is wrong with the rest. Pure and deterministic:
 * it depends on the snapshot alone (no clock, no randomness, no iteration-order
 * accidents), because the controller and every agent run it on their own caches and must
 * agree on the answer.
 */
export function resolve(s: Snapshot): ClusterModel {
  const groups = resolveGroups(s);
  const services = new Map<string, ServiceModel>();
  const realServers = initRealServers(s);

  // 1. What each VirtualService is, before it competes with the others.
  interface Candidate {
    vs: VirtualService;
    model: ServiceModel;
    claim: Claim;
  }
  const candidates: Candidate[] = [];
  for (const vs of s.virtualServices) {
    const model = baseServiceModel(vs, groups);
    services.set(model.key, model);
    if (model.issues.some((i) => i.blocking)) continue;
    candidates.push({
      vs,
      model,
      claim: {
        key: model.key,
        created: vs.metadata.creationTimestamp ?? '',
        ipvsKey: model.ipvsKey ?? model.key,
        group: model.group,
        vips: model.vips.map((v) => v.vip),
      },
    });
  }
  for (const inv of s.invalid ?? []) {
    if (inv.kind !== 'VirtualService') continue;
    const key = `${inv.namespace ?? ''}/${inv.name}`;
    services.set(key, {
      ...emptyService(key, inv.namespace ?? '', inv.name, inv.generation),
      issues: [{ reason: 'InvalidSpec', message: inv.error, blocking: true }],
    });
  }

  // 2. Who owns each IPVS service and VIP.
  const outcomes = resolveClaims(candidates.map((c) => c.claim));
  const winners = candidates.filter((c) => outcomes.get(c.model.key)?.won);
  for (const c of candidates) {
    const o = outcomes.get(c.model.key);
    if (o && !o.won) c.model.issues.push({ reason: 'Conflict', message: o.message, blocking: true });
  }

  // 3. Router ids for the winners' VIPs, stable and unique per interface across groups.
  const vipsByGroup = new Map<string, Set<string>>();
  for (const w of winners) {
    const set = vipsByGroup.get(w.model.group) ?? new Set<string>();
    for (const v of w.model.vips) set.add(v.vip);
    vipsByGroup.set(w.model.group, set);
    groups.get(w.model.group)?.services.push(w.model.key);
  }
  assignVrids(groups, vipsByGroup);

  // 4. Per service: router ids, scheduler support, directors, backends.
  const namespaces = indexNamespaces(s);
  const unsupported = new Set(s.unsupportedSchedulers ?? []);
  const idsByGroup = new Map([...groups.values()].map((g) => [g.name, new Map(g.vrids.map((a) => [a.vip, a] as const))] as const));
  for (const w of winners) {
    const m = w.model;
    const g = groups.get(m.group);
    if (!g) continue;
    const ids = idsByGroup.get(g.name) ?? new Map<string, VridAllocation>();
    m.vips = m.vips.map((v) => ids.get(v.vip) ?? v);
    const missing = m.vips.filter((v) => !ids.has(v.vip)).map((v) => v.vip);
    if (missing.length > 0) {
      m.issues.push({
        reason: 'VridExhausted',
        message: `no free VRRP router id on interface ${g.group?.spec.interface ?? '?'} for VIP ${missing.join(', ')} (all of 1..255 are in use)`,
        blocking: true,
      });
    }
    if (unsupported.has(w.vs.spec.scheduler)) {
      m.issues.push({
        reason: 'UnsupportedScheduler',
        message: `the kernel has no IPVS scheduler ${w.vs.spec.scheduler} (module ip_vs_${w.vs.spec.scheduler} missing)`,
        blocking: true,
      });
    }
    if (g.directors.length === 0) {
      m.issues.push({
        reason: 'NoDirectors',
        message: `DirectorGroup ${m.group} selects no node (nodeSelector ${formatSelector(g.group?.spec.nodeSelector ?? {})})`,
        blocking: false,
      });
    }
    const ns = namespaces.get(m.namespace) ?? emptySources;
    const r = resolveBackends(w.vs, m.family ?? 'IPv4', ns);
    m.backends = r.backends;
    m.issues.push(...r.issues);
    for (const name of r.selected) realServers.get(`${m.namespace}/${name}`)?.selectedBy.push(m.key);
    for (const name of r.used) realServers.get(`${m.namespace}/${name}`)?.usedBy.push(m.key);
    for (const [name, list] of r.realServerIssues) realServers.get(`${m.namespace}/${name}`)?.issues.push(...list);
    m.accepted = !m.issues.some((i) => i.blocking);
  }
  // Losers still show which RealServers their selector matches.
  for (const c of candidates) {
    if (outcomes.get(c.model.key)?.won) continue;
    const sel = c.vs.spec.backends.realServerSelector;
    if (!sel) continue;
    for (const rs of s.realServers) {
      if (rs.metadata.namespace === c.model.namespace && matchesSelector(sel, rs.metadata.labels)) {
        realServers.get(`${c.model.namespace}/${rs.metadata.name ?? ''}`)?.selectedBy.push(c.model.key);
      }
    }
  }

  for (const rs of realServers.values()) {
    rs.selectedBy.sort(compareText);
    rs.usedBy.sort(compareText);
    if (rs.selectedBy.length === 0 && !rs.issues.some((i) => i.reason === 'InvalidSpec')) {
      rs.issues.push({ reason: 'NotSelected', message: 'no VirtualService selects this RealServer', blocking: false });
    }
  }
  for (const g of groups.values()) g.services.sort(compareText);
  return { groups, services, realServers };
}

const emptySources: BackendSources = { realServers: [], services: new Map(), slicesByService: new Map() };

function groupOrder(a: DirectorGroup, b: DirectorGroup): number {
  return (
    compareText(a.metadata.creationTimestamp ?? '', b.metadata.creationTimestamp ?? '') ||
    compareText(a.metadata.name ?? '', b.metadata.name ?? '')
  );
}

function resolveGroups(s: Snapshot): Map<string, GroupModel> {
  const groups = new Map<string, GroupModel>();
  for (const g of [...s.directorGroups].sort(groupOrder)) {
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
    groups.set(name, { name, generation: g.metadata.generation, group: g, directors, vrids: [], services: [], issues });
  }
  for (const inv of s.invalid ?? []) {
    if (inv.kind !== 'DirectorGroup') continue;
    groups.set(inv.name, {
      name: inv.name,
      generation: inv.generation,
      group: undefined,
      directors: [],
      vrids: [],
      services: [],
      issues: [{ reason: 'InvalidSpec', message: inv.error, blocking: true }],
    });
  }
  return groups;
}

/**
 * Two passes so no group can take an id another group already recorded: first every
 * group keeps what its status recorded (older groups win a clash), then new VIPs get the
 * lowest id free on their interface.
 */
function assignVrids(groups: Map<string, GroupModel>, vipsByGroup: Map<string, Set<string>>): void {
  const live = [...groups.values()].filter((g) => g.group !== undefined);
  const keptByIface = new Map<string, Set<number>>();
  const keptByGroup = new Map<string, VridAllocation[]>();
  for (const g of live) {
    const iface = g.group?.spec.interface ?? '';
    const taken = keptByIface.get(iface) ?? new Set<number>();
    keptByIface.set(iface, taken);
    const kept = keepPrevious({
      interface: iface,
      vips: [...(vipsByGroup.get(g.name) ?? [])],
      previous: canonicalAllocations(g.group?.status?.vrids ?? []),
      taken,
    });
    for (const k of kept) taken.add(k.vrid);
    keptByGroup.set(g.name, kept);
  }
  const usedByIface = new Map([...keptByIface].map(([k, v]) => [k, new Set(v)] as const));
  for (const g of live) {
    const iface = g.group?.spec.interface ?? '';
    const used = usedByIface.get(iface) ?? new Set<number>();
    usedByIface.set(iface, used);
    const mine = keptByGroup.get(g.name) ?? [];
    const others = new Set([...used].filter((id) => !mine.some((m) => m.vrid === id)));
    const r = allocateVrids({ interface: iface, vips: [...(vipsByGroup.get(g.name) ?? [])], previous: mine, taken: others });
    for (const a of r.allocations) used.add(a.vrid);
    g.vrids = r.allocations;
    if (r.exhausted.length > 0) {
      g.issues.push({
        reason: 'VridExhausted',
        message: `no free VRRP router id on interface ${iface} for ${r.exhausted.length} VIP(s): ${r.exhausted.join(', ')}`,
        blocking: false,
      });
    }
  }
}

function canonicalAllocations(list: readonly VridAllocation[]): VridAllocation[] {
  return list.flatMap((a) => {
    try {
      return [{ ...a, vip: canonicalAddress(a.vip) }];
    } catch {
      return [];
    }
  });
}

function emptyService(key: string, namespace: string, name: string, generation: number | undefined): ServiceModel {
  return {
    key,
    namespace,
    name,
    generation,
    spec: undefined,
    accepted: false,
    issues: [],
    ipvsKey: undefined,
    family: undefined,
    group: '',
    directors: [],
    vips: [],
    backends: [],
  };
}

function ipvsKeyOf(vs: VirtualService, family: IpFamily): string {
  const s = vs.spec;
  if (s.fwmark !== undefined) return `FWM ${s.fwmark} ${family}`;
  const vip = canonicalAddress(s.vip ?? '');
  return `${s.protocol ?? 'TCP'} ${family === 'IPv6' ? `[${vip}]` : vip}:${s.port ?? 0}`;
}

/** The per-service checks that need only the service and its group. */
function baseServiceModel(vs: VirtualService, groups: Map<string, GroupModel>): ServiceModel {
  const namespace = vs.metadata.namespace ?? '';
  const name = vs.metadata.name ?? '';
  const key = `${namespace}/${name}`;
  const family = serviceFamily(vs.spec);
  const vipTexts = vs.spec.vip !== undefined ? [vs.spec.vip] : (vs.spec.fwmarkVIPs ?? []);
  const vips = [...new Set(vipTexts.map(canonicalAddress))].sort(compareText);
  const groupName = vs.spec.directorGroup;
  const g = groups.get(groupName);
  const m: ServiceModel = {
    ...emptyService(key, namespace, name, vs.metadata.generation),
    spec: vs.spec,
    ipvsKey: ipvsKeyOf(vs, family),
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

function initRealServers(s: Snapshot): Map<string, RealServerModel> {
  const out = new Map<string, RealServerModel>();
  for (const rs of s.realServers) {
    const namespace = rs.metadata.namespace ?? '';
    const name = rs.metadata.name ?? '';
    const key = `${namespace}/${name}`;
    out.set(key, { key, namespace, name, generation: rs.metadata.generation, selectedBy: [], usedBy: [], issues: [] });
  }
  for (const inv of s.invalid ?? []) {
    if (inv.kind !== 'RealServer') continue;
    const key = `${inv.namespace ?? ''}/${inv.name}`;
    out.set(key, {
      key,
      namespace: inv.namespace ?? '',
      name: inv.name,
      generation: inv.generation,
      selectedBy: [],
      usedBy: [],
      issues: [{ reason: 'InvalidSpec', message: inv.error, blocking: true }],
    });
  }
  return out;
}

function indexNamespaces(s: Snapshot): Map<string, BackendSources> {
  const slices = indexSlices(s.endpointSlices);
  const rss = new Map<string, RealServer[]>();
  const svcs = new Map<string, Map<string, Service>>();
  for (const rs of s.realServers) {
    const ns = rs.metadata.namespace ?? '';
    const list = rss.get(ns) ?? [];
    list.push(rs);
    rss.set(ns, list);
  }
  for (const svc of s.services) {
    const ns = svc.metadata.namespace ?? '';
    const m = svcs.get(ns) ?? new Map<string, Service>();
    m.set(svc.metadata.name ?? '', svc);
    svcs.set(ns, m);
  }
  const result = new Map<string, BackendSources>();
  for (const ns of new Set([...rss.keys(), ...svcs.keys(), ...slices.keys()])) {
    result.set(ns, {
      realServers: rss.get(ns) ?? [],
      realServersByLabel: indexByLabel(rss.get(ns) ?? []),
      services: svcs.get(ns) ?? new Map(),
      slicesByService: slices.get(ns) ?? new Map(),
    });
  }
  return result;
}

const resolved = new WeakMap<Snapshot, ClusterModel>();

/**
 * resolve() once per snapshot object: sources hand out the same snapshot until something the
 * model depends on changes, so the agent's pass and its VRRP update share one resolution.
 * Callers must not mutate the model.
 */
export function resolveCached(s: Snapshot): ClusterModel {
  let m = resolved.get(s);
  if (!m) {
    m = resolve(s);
    resolved.set(s, m);
  }
  return m;
}
