// What one agent reports about its own node, computed from its passes: one
// `VirtualService.status.directors[]` entry per service it directs and one
// `RealServer.status.directors[]` entry per real server it checks. Incremental: a service's entry
// is computed again only when its compiled state, model, errors or VRRP state changed, and a real
// server's only when one of the services using it changed, so a pass reports what changed.
import type { DirectorView } from '../api/index.js';
import type { ServiceModel } from '../model/index.js';
import type { AgentPass } from './agent.js';
import type { CompiledService } from './compile.js';
import type { VrrpStateLookup } from './vrrp-leadership.js';

export interface RealServerView {
  node: string;
  healthy: boolean;
  message?: string;
  lastTransitionTime?: string;
}

/** Health failure reasons by `service|address|port` check key, for messages. */
export type FailureReasons = (service: string, address: string, port: number) => string | undefined;

/** Views that changed in one pass, by `namespace/name`; undefined: the node no longer reports on it. */
export interface ViewChanges {
  services: Map<string, DirectorView | undefined>;
  realServers: Map<string, RealServerView | undefined>;
}

/** One service's verdict on one RealServer it uses. */
interface Contribution {
  realServer: string;
  healthy: boolean;
  reason: string | undefined;
}

interface ServiceEntry {
  compiled: CompiledService;
  model: ServiceModel | undefined;
  errors: string;
  vrrpState: DirectorView['vrrpState'];
  announced: boolean | undefined;
  view: DirectorView;
  contributions: Contribution[];
}

/** Blocking issues only an agent knows (its own kernel): the controller learns them from the director entry. */
const agentOnlyReasons: ReadonlySet<string> = new Set(['UnsupportedScheduler']);

export class NodeViews {
  private readonly services = new Map<string, ServiceEntry>();
  /** Services this node directs but its own model blocks (a scheduler its kernel lacks): not compiled, still reported. */
  private readonly blocked = new Map<string, DirectorView>();
  private readonly realServers = new Map<string, RealServerView>();
  /** RealServer key -> keys of the services whose contributions name it. */
  private readonly users = new Map<string, Set<string>>();

  constructor(private readonly node: string, private readonly reasons: FailureReasons = () => undefined, private readonly vrrp?: VrrpStateLookup) {}

  service(key: string): DirectorView | undefined {
    return this.services.get(key)?.view ?? this.blocked.get(key);
  }

  realServer(key: string): RealServerView | undefined {
    return this.realServers.get(key);
  }

  /** `now`: the transition time for views whose state changes in this pass. */
  update(pass: AgentPass, now: string): ViewChanges {
    const changes: ViewChanges = { services: new Map(), realServers: new Map() };
    const errorsBy = new Map<string, string[]>();
    const reasonBy = new Map<string, string>();
    for (const e of pass.result.errors) {
      for (const s of e.services) {
        errorsBy.set(s, [...(errorsBy.get(s) ?? []), `${e.what}: ${e.message}`]);
        if (e.reason && !reasonBy.has(s)) reasonBy.set(s, e.reason);
      }
    }
    const held = new Set(pass.desired.addresses.map((a) => a.address));
    const vrrpStates = new Map<string, DirectorView['vrrpState']>();
    const bgpGroups = new Set((pass.desired.bgp ?? []).map((g) => g.group));
    const dirtyRealServers = new Set<string>();
    const seen = new Set<string>();
    for (const c of pass.desired.services) {
      seen.add(c.key);
      const model = pass.model.services.get(c.key);
      const errors = (errorsBy.get(c.key) ?? []).join('; ').slice(0, 4096);
      const vrrpState = this.vrrpState(c, model, held, vrrpStates);
      const reason = reasonBy.get(c.key);
      const announced = bgpGroups.has(c.group) && model
        ? model.vips.length > 0 && model.vips.every((v) => pass.announced?.has(v.vip) ?? false)
        : undefined;
      const prev = this.services.get(c.key);
      if (prev && prev.compiled === c && prev.model === model && prev.errors === errors && prev.vrrpState === vrrpState && prev.announced === announced && prev.view.reason === reason) continue;
      const view: DirectorView = {
        node: this.node,
        ...(errors === '' && c.generation !== undefined ? { programmedGeneration: c.generation } : {}),
        vrrpState,
        ...(announced !== undefined ? { announced } : {}),
        healthy: c.healthy,
        total: c.backends.length,
        liveWeight: c.liveWeight,
        quorumLost: !c.quorumUp,
        backends: c.backends.map((b) => ({ address: b.address, port: b.port, healthy: b.healthy, weight: b.weight ?? 0 })),
        message: errors,
        ...(reason ? { reason } : {}),
      };
      const transition = !prev || prev.view.vrrpState !== vrrpState || prev.view.healthy !== view.healthy || prev.view.quorumLost !== view.quorumLost;
      view.lastTransitionTime = transition ? now : (prev.view.lastTransitionTime ?? now);
      const contributions = this.contributions(c, model);
      this.replaceContributions(c.key, prev?.contributions ?? [], contributions, dirtyRealServers);
      this.services.set(c.key, { compiled: c, model, errors, vrrpState, announced, view, contributions });
      if (!prev || JSON.stringify(prev.view) !== JSON.stringify(view)) changes.services.set(c.key, view);
    }
    for (const [key, e] of this.services) {
      if (seen.has(key)) continue;
      this.replaceContributions(key, e.contributions, [], dirtyRealServers);
      this.services.delete(key);
      changes.services.set(key, undefined);
    }
    for (const rs of dirtyRealServers) this.updateRealServer(rs, now, changes);
    this.updateBlocked(pass, seen, now, changes);
    return changes;
  }

  /** Entries for the services this node would direct but its kernel cannot serve (agent-only issues). */
  private updateBlocked(pass: AgentPass, compiled: ReadonlySet<string>, now: string, changes: ViewChanges): void {
    const next = new Map<string, DirectorView>();
    for (const s of pass.model.services.values()) {
      if (s.accepted || compiled.has(s.key) || !s.directors.includes(this.node)) continue;
      const issue = s.issues.find((i) => agentOnlyReasons.has(i.reason));
      if (!issue) continue;
      const prev = this.blocked.get(s.key);
      const view: DirectorView = { node: this.node, reason: issue.reason, message: issue.message, lastTransitionTime: prev?.reason === issue.reason ? (prev.lastTransitionTime ?? now) : now };
      next.set(s.key, view);
      if (!prev || prev.message !== view.message || prev.reason !== view.reason) changes.services.set(s.key, view);
    }
    for (const key of this.blocked.keys()) if (!next.has(key) && !compiled.has(key)) changes.services.set(key, undefined);
    this.blocked.clear();
    for (const [k, v] of next) this.blocked.set(k, v);
  }

  private vrrpState(c: CompiledService, model: ServiceModel | undefined, held: ReadonlySet<string>, memo: Map<string, DirectorView['vrrpState']>): DirectorView['vrrpState'] {
    const vips = model?.vips ?? [];
    const memoKey = `${c.group}\0${vips.map((v) => v.vip).join(',')}`;
    let state = memo.get(memoKey);
    if (state === undefined) {
      state = this.vrrp?.(c.group, vips.map((v) => v.vip)) ?? (vips.length > 0 && vips.every((v) => held.has(v.vip)) ? 'Master' : 'Backup');
      memo.set(memoKey, state);
    }
    return state;
  }

  private contributions(c: CompiledService, model: ServiceModel | undefined): Contribution[] {
    const out: Contribution[] = [];
    for (const [i, b] of (model?.backends ?? []).entries()) {
      if (b.source.kind !== 'RealServer') continue;
      const healthy = c.backends[i]?.healthy ?? false;
      out.push({ realServer: `${b.source.namespace}/${b.source.name}`, healthy, reason: healthy ? undefined : this.reasons(c.key, b.address, b.port) });
    }
    return out;
  }

  private replaceContributions(service: string, before: Contribution[], after: Contribution[], dirty: Set<string>): void {
    for (const x of before) {
      this.users.get(x.realServer)?.delete(service);
      dirty.add(x.realServer);
    }
    for (const x of after) {
      const set = this.users.get(x.realServer) ?? new Set<string>();
      set.add(service);
      this.users.set(x.realServer, set);
      dirty.add(x.realServer);
    }
  }

  /** One failing service check marks the real server failing (the first such service, by key, says why). */
  private updateRealServer(rs: string, now: string, changes: ViewChanges): void {
    const users = [...(this.users.get(rs) ?? [])].sort();
    const prev = this.realServers.get(rs);
    if (users.length === 0) {
      this.users.delete(rs);
      if (prev) {
        this.realServers.delete(rs);
        changes.realServers.set(rs, undefined);
      }
      return;
    }
    const mine = users.flatMap((u) => this.services.get(u)?.contributions.filter((x) => x.realServer === rs) ?? []);
    const failing = mine.find((x) => !x.healthy);
    const healthy = failing === undefined;
    const view: RealServerView = {
      node: this.node, healthy,
      ...(failing?.reason ? { message: failing.reason.slice(0, 4096) } : {}),
      lastTransitionTime: !prev || prev.healthy !== healthy ? now : (prev.lastTransitionTime ?? now),
    };
    if (prev && prev.healthy === view.healthy && prev.message === view.message) return;
    this.realServers.set(rs, view);
    changes.realServers.set(rs, view);
  }
}
