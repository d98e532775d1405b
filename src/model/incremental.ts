import type { RealServer, VirtualService } from '../api/index.js';
import { type EndpointSlice, type Node, type Service, serviceNameLabel } from '../kube/types.js';
import type { Claim, ClaimOutcome } from './conflicts.js';
import { DependentIndex } from './dependents.js';
import { placeClaims, regroupedOrSame } from './groups.js';
import { type Change, diffByIdentity, sameItems } from './identity-diff.js';
import { invalidRealServerModel, type RealServerPart, realServerModel } from './real-servers.js';
import { keep, sameContent } from './same-content.js';
import { matchesSelector } from './selector.js';
import { baseServiceModel, claimOf, completeService, invalidServiceModel, type ServiceContext } from './service.js';
import { SourceIndex } from './source-index.js';
import type { ClusterModel, GroupModel, InvalidObject, RealServerModel, ServiceModel, Snapshot, VridAllocation } from './types.js';
import { type MapVersion, VersionedMap } from './versioned-map.js';

/** What the services that select one RealServer say about it: one pair, or a Map by service key. */
type PartsOf = readonly [string, RealServerPart] | Map<string, RealServerPart>;

/** What the resolver keeps per VirtualService between calls. */
interface Entry {
  vs: VirtualService;
  /** baseServiceModel: depends on the service and the groups only. */
  base: ServiceModel;
  claim: Claim | undefined;
  /** From the last placement; undefined without a claim. */
  outcome: ClaimOutcome | undefined;
  /** Router ids of its group, from the last placement. */
  ids: ReadonlyMap<string, VridAllocation> | undefined;
  /** What it said about RealServers when last completed, by RealServer name. */
  parts: ReadonlyMap<string, RealServerPart>;
}

/** The work one call finds to do. */
interface Pass {
  /** VirtualService keys to complete again. */
  services: Set<string>;
  /** RealServer keys whose model to build again. */
  realServers: Set<string>;
  /** Claims changed: settle them and the router ids again. */
  claims: boolean;
  /** New values for the model's maps; undefined removes the key. */
  groupModels: Map<string, GroupModel | undefined>;
  serviceModels: Map<string, ServiceModel | undefined>;
  realServerModels: Map<string, RealServerModel | undefined>;
}

/** The three maps as versions, each built when first read (see VersionedMap). */
function clusterModel(groups: MapVersion<GroupModel>, services: MapVersion<ServiceModel>, realServers: MapVersion<RealServerModel>, changes: ClusterModel['changes']): ClusterModel {
  const model: ClusterModel = {
    get groups() {
      return groups.read();
    },
    get services() {
      return services.read();
    },
    get realServers() {
      return realServers.read();
    },
  };
  Object.defineProperty(model, 'changes', { value: changes, enumerable: false });
  return model;
}

const emptySnapshot: Snapshot = { directorGroups: [], virtualServices: [], realServers: [], services: [], endpointSlices: [], nodes: [], invalid: [] };
const noParts: ReadonlyMap<string, RealServerPart> = new Map();

/** What target Nodes backends read of the nodes: their names and addresses. */
function nodeAddressKey(nodes: readonly Node[]): string {
  return JSON.stringify(nodes.map((n) => [n.metadata.name, n.status?.addresses ?? []]));
}

function keyOf(o: { metadata: { namespace?: string | undefined; name?: string | undefined } }): string {
  return `${o.metadata.namespace ?? ''}/${o.metadata.name ?? ''}`;
}

/**
 * resolve() at the cost of what changed since the previous call instead of the cluster's size,
 * for the agent, which resolves on every watch event.
 *
 * Contract:
 * 1. `resolve(s)` is deep-equal to the full `resolve(s)` for every snapshot, whatever
 *    snapshots came before.
 * 2. A ServiceModel, GroupModel or RealServerModel whose content did not change since the
 *    previous call is the same object as before, and a map of the model in which nothing
 *    changed is the same Map (the whole model too when nothing changed), so callers can skip
 *    work by identity. Returned models are never changed afterwards. The maps are getters
 *    that build a Map on first read (see VersionedMap): a caller that never reads one (the
 *    agent and `realServers`) never pays for copying it.
 * 3. Changes are found by object identity, as buildSnapshot hands them out (the parsed object
 *    of an unchanged raw object is the same object; listings keep informer order): an object
 *    replaced by a new one counts as changed. Snapshot arrays must not be mutated after the
 *    call, and keys (namespace/name) are unique per kind.
 * 4. A RealServer change re-resolves the services of its namespace whose selector matches its
 *    old or new labels; a Service or EndpointSlice change the services that name that Service;
 *    a VirtualService change that service, plus claims and router ids when its claim changed
 *    (then only services whose outcome or ids changed). RealServerModels are rebuilt only for
 *    RealServers those services say something different about. Changes of DirectorGroups,
 *    Nodes, Secrets or unsupported schedulers that change the groups re-resolve everything.
 */
/** The services changed since `seen` (see ClusterModel.changes); undefined: walk them all. */
export function servicesChangedSince(model: ClusterModel, seen: ClusterModel | undefined): ReadonlyMap<string, ServiceModel | undefined> | undefined {
  return seen !== undefined && model.changes?.previous.deref() === seen ? model.changes.services : undefined;
}

export interface ResolverOptions {
  /**
   * Build the RealServer models (what the controller writes into RealServer status). An agent
   * reads none: without them it keeps no per-RealServer model or parts (at 10,000 x 10, 100,000
   * of each). Default true; false leaves the model's realServers empty.
   */
  realServers?: boolean;
}

export class IncrementalResolver {
  constructor(private readonly options: ResolverOptions = {}) {}

  private last: Snapshot = emptySnapshot;
  private readonly groupsOut = new VersionedMap<GroupModel>();
  private readonly servicesOut = new VersionedMap<ServiceModel>();
  private readonly realServersOut = new VersionedMap<RealServerModel>();
  /** The last model returned, with its versions. */
  private model: ClusterModel | undefined;
  private versions: readonly MapVersion<unknown>[] = [];
  /** From resolveGroups (no services or router ids). */
  private groups = new Map<string, GroupModel>();
  private unsupported: ReadonlySet<string> = new Set();
  private readonly sources = new SourceIndex();
  private readonly dependents = new DependentIndex();
  private readonly entries = new Map<string, Entry>();
  /**
   * RealServer key, then VirtualService key: what that service says about it. Most real servers
   * are selected by one service: theirs is one [service key, part] pair, not a Map of one entry.
   */
  private readonly parts = new Map<string, PartsOf>();
  private invalidServices = new Map<string, InvalidObject>();
  private nodeAddresses = '';
  private invalidRealServers = new Map<string, InvalidObject>();

  resolve(s: Snapshot): ClusterModel {
    try {
      return this.advance(s);
    } catch (e) {
      // Indexes updated half way would drift from resolve(): start over on the next call.
      Object.assign(this, new IncrementalResolver(this.options));
      throw e;
    }
  }

  private advance(s: Snapshot): ClusterModel {
    const prev = this.last;
    const pass: Pass = { services: new Set(), realServers: new Set(), claims: false, groupModels: new Map(), serviceModels: new Map(), realServerModels: new Map() };
    const groups = regroupedOrSame(prev, s, this.groups);
    const regroup = groups !== this.groups;
    this.groups = groups;
    const reschedule = !sameItems(prev.unsupportedSchedulers ?? [], s.unsupportedSchedulers ?? []);
    if (reschedule) this.unsupported = new Set(s.unsupportedSchedulers ?? []);

    for (const c of diffByIdentity(prev.virtualServices, s.virtualServices, keyOf)) this.virtualServiceChanged(c, pass);
    if (regroup) {
      pass.claims = true;
      for (const [key, e] of this.entries) {
        if (pass.services.has(key)) continue; // just based on the new groups
        e.base = baseServiceModel(e.vs, this.groups);
        e.claim = claimOf(e.vs, e.base);
        pass.services.add(key);
      }
    }
    if (reschedule) for (const key of this.entries.keys()) pass.services.add(key);
    if (prev.nodes !== s.nodes) {
      this.sources.setNodes(s.nodes);
      // Services whose real servers are nodes follow the nodes' addresses (heartbeats change none).
      const addresses = nodeAddressKey(s.nodes);
      if (addresses !== this.nodeAddresses) {
        this.nodeAddresses = addresses;
        for (const [key, e] of this.entries) if (e.vs.spec.backends.service?.target === 'Nodes') pass.services.add(key);
      }
    }
    for (const c of diffByIdentity(prev.realServers, s.realServers, keyOf)) this.realServerChanged(c, pass);
    for (const c of diffByIdentity(prev.services, s.services, keyOf)) this.serviceChanged(c, pass);
    for (const c of diffByIdentity(prev.endpointSlices, s.endpointSlices, keyOf)) this.sliceChanged(c, pass);
    this.invalidChanged(s, pass);

    if (pass.claims) this.place(pass);
    const ctx: ServiceContext = { groups: this.groups, unsupported: this.unsupported, sources: this.sources };
    for (const key of pass.services) this.complete(key, ctx, pass);
    if (this.options.realServers !== false) for (const key of pass.realServers) this.rebuildRealServer(key, pass);
    else pass.realServerModels.clear();
    this.last = s;

    const versions = [
      publish(this.groupsOut, pass.groupModels),
      publish(this.servicesOut, pass.serviceModels),
      publish(this.realServersOut, pass.realServerModels),
    ] as const;
    if (!this.model || versions.some((v, i) => v !== this.versions[i])) {
      const changes = this.model ? { previous: new WeakRef(this.model), services: pass.serviceModels } : undefined;
      this.model = clusterModel(this.groupsOut.share(), this.servicesOut.share(), this.realServersOut.share(), changes);
      this.versions = versions;
    }
    return this.model;
  }

  private virtualServiceChanged({ before, after }: Change<VirtualService>, pass: Pass): void {
    if (!after) {
      if (before) this.dropService(keyOf(before), pass);
      return;
    }
    const key = keyOf(after);
    const base = baseServiceModel(after, this.groups);
    const claim = claimOf(after, base);
    const e = this.entries.get(key);
    if (e) {
      this.dependents.remove(key, e.vs);
      if (!sameContent(e.claim, claim)) pass.claims = true;
      Object.assign(e, { vs: after, base, claim });
    } else {
      this.entries.set(key, { vs: after, base, claim, outcome: undefined, ids: undefined, parts: noParts });
      if (claim) pass.claims = true;
    }
    this.dependents.add(key, after);
    pass.services.add(key);
  }

  private dropService(key: string, pass: Pass): void {
    const e = this.entries.get(key);
    if (!e) return;
    this.dependents.remove(key, e.vs);
    this.entries.delete(key);
    if (e.claim) pass.claims = true;
    this.updateParts(key, e.base.namespace, e.parts, noParts, pass);
    pass.serviceModels.set(key, undefined);
  }

  private realServerChanged({ before, after }: Change<RealServer>, pass: Pass): void {
    // The services that selected the old version or select the new one.
    for (const rs of [before, after]) {
      if (!rs) continue;
      const labels = rs.metadata.labels;
      this.dependents.forLabels(rs.metadata.namespace ?? '', labels, (key) => {
        const selector = this.entries.get(key)?.vs.spec.backends.realServerSelector;
        if (selector && matchesSelector(selector, labels)) pass.services.add(key);
      });
    }
    if (before) {
      this.sources.removeRealServer(before);
      if (!after) pass.realServerModels.set(keyOf(before), undefined);
    }
    if (after) {
      this.sources.addRealServer(after);
      pass.realServers.add(keyOf(after));
    }
  }

  private serviceChanged({ before, after }: Change<Service>, pass: Pass): void {
    for (const svc of [before, after]) {
      if (svc) this.dependents.forService(svc.metadata.namespace ?? '', svc.metadata.name ?? '', (key) => pass.services.add(key));
    }
    if (before) this.sources.removeService(before);
    if (after) this.sources.addService(after);
  }

  private sliceChanged({ before, after }: Change<EndpointSlice>, pass: Pass): void {
    for (const slice of [before, after]) {
      const svc = slice?.metadata.labels?.[serviceNameLabel];
      if (slice && svc) this.dependents.forService(slice.metadata.namespace ?? '', svc, (key) => pass.services.add(key));
    }
    if (before) this.sources.removeSlice(before);
    if (after) this.sources.addSlice(after);
  }

  /** buildSnapshot lists invalid objects anew on every call: compare them by content. */
  private invalidChanged(s: Snapshot, pass: Pass): void {
    if (!s.invalid?.length && this.invalidServices.size === 0 && this.invalidRealServers.size === 0) return;
    const services = new Map<string, InvalidObject>();
    const realServers = new Map<string, InvalidObject>();
    for (const inv of s.invalid ?? []) {
      if (inv.kind === 'VirtualService') services.set(`${inv.namespace ?? ''}/${inv.name}`, inv);
      if (inv.kind === 'RealServer') realServers.set(`${inv.namespace ?? ''}/${inv.name}`, inv);
    }
    diffInvalid(this.invalidServices, services, (key, inv) => pass.serviceModels.set(key, inv && invalidServiceModel(inv)));
    diffInvalid(this.invalidRealServers, realServers, (key, inv) => pass.realServerModels.set(key, inv && invalidRealServerModel(inv)));
    this.invalidServices = services;
    this.invalidRealServers = realServers;
  }

  /** Settles all claims again; services whose outcome or router ids changed are completed again. */
  private place(pass: Pass): void {
    const claims: Claim[] = [];
    for (const e of this.entries.values()) if (e.claim) claims.push(e.claim);
    const p = placeClaims(this.groups, claims);
    for (const [key, e] of this.entries) {
      const outcome = e.claim && p.outcomes.get(key);
      const ids = e.claim && p.ids.get(e.claim.group);
      const moved = outcome?.won && e.claim?.vips.some((vip) => !sameContent(ids?.get(vip), e.ids?.get(vip)));
      if (moved || !sameContent(outcome, e.outcome)) pass.services.add(key);
      e.outcome = outcome;
      e.ids = ids;
    }
    for (const [name, g] of p.groups) pass.groupModels.set(name, g);
    for (const name of this.groupsOut.keys()) if (!p.groups.has(name)) pass.groupModels.set(name, undefined);
  }

  private complete(key: string, ctx: ServiceContext, pass: Pass): void {
    const e = this.entries.get(key);
    if (!e) return;
    const r = completeService(e.vs, e.base, e.outcome, e.ids, ctx);
    pass.serviceModels.set(key, r.model);
    if (this.options.realServers === false) return;
    this.updateParts(key, e.base.namespace, e.parts, r.parts, pass);
    e.parts = r.parts;
  }

  /** Records what service `key` now says about RealServers; those it says something new about are rebuilt. */
  private updateParts(key: string, namespace: string, before: ReadonlyMap<string, RealServerPart>, after: ReadonlyMap<string, RealServerPart>, pass: Pass): void {
    for (const [name, part] of after) {
      const old = before.get(name);
      if (old && old.used === part.used && sameContent(old.issues, part.issues)) continue;
      const rsKey = `${namespace}/${name}`;
      const parts = this.parts.get(rsKey);
      if (!parts || (!(parts instanceof Map) && parts[0] === key)) this.parts.set(rsKey, [key, part]);
      else if (parts instanceof Map) parts.set(key, part);
      else this.parts.set(rsKey, new Map([parts, [key, part]]));
      pass.realServers.add(rsKey);
    }
    for (const name of before.keys()) {
      if (after.has(name)) continue;
      const rsKey = `${namespace}/${name}`;
      const parts = this.parts.get(rsKey);
      if (parts instanceof Map) {
        if (parts.delete(key) && parts.size === 1) this.parts.set(rsKey, parts.entries().next().value as readonly [string, RealServerPart]);
      } else if (parts?.[0] === key) this.parts.delete(rsKey);
      pass.realServers.add(rsKey);
    }
  }

  private rebuildRealServer(key: string, pass: Pass): void {
    const slash = key.indexOf('/');
    const rs = this.sources.realServer(key.slice(0, slash), key.slice(slash + 1));
    // Gone or invalid: realServerChanged / invalidChanged said so already.
    const parts = this.parts.get(key);
    if (rs) pass.realServerModels.set(key, realServerModel(rs, parts === undefined ? noParts : parts instanceof Map ? parts : [parts]));
  }
}

/** Applies `changes`, keeping the current object where a new one says the same. */
function publish<V>(out: VersionedMap<V>, changes: Map<string, V | undefined>): MapVersion<V> {
  for (const [key, v] of changes) if (v !== undefined) changes.set(key, keep(out.get(key), v));
  return out.update(changes);
}

function diffInvalid(prev: ReadonlyMap<string, InvalidObject>, next: ReadonlyMap<string, InvalidObject>, apply: (key: string, inv: InvalidObject | undefined) => void): void {
  for (const [key, inv] of next) if (!sameContent(prev.get(key), inv)) apply(key, inv);
  for (const key of prev.keys()) if (!next.has(key)) apply(key, undefined);
}
