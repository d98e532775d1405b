// What one agent reports about its own node, computed from its passes: one
// `VirtualService.status.directors[]` entry per service it directs, with each real server's health
// (and why it fails) in its backends[]. The agent writes nothing on RealServers: the controller
// derives their per-director health from these entries, so a change costs one write per director
// and service, and 10,000 RealServers add no agent writes. Incremental: a service's entry is
// computed again only when its compiled state, model, errors or VRRP state changed.
import type { DirectorView } from '../api/index.js';
import type { ServiceModel } from '../model/index.js';
import type { AgentPass } from './agent.js';
import type { CompiledService } from './compile.js';
import type { VrrpStateLookup } from './vrrp-leadership.js';

/** Health failure reasons by `service|address|port` check key, for messages. */
export type FailureReasons = (service: string, address: string, port: number) => string | undefined;

/** Views that changed in one pass, by `namespace/name`; undefined: the node no longer reports on it. */
export interface ViewChanges {
  services: Map<string, DirectorView | undefined>;
}

interface ServiceEntry {
  compiled: CompiledService;
  model: ServiceModel | undefined;
  errors: string;
  vrrpState: DirectorView['vrrpState'];
  announced: boolean | undefined;
  view: DirectorView;
}

export type StoredEntry = (key: string) => DirectorView | undefined;

/** Blocking issues only an agent knows (its own kernel): the controller learns them from the director entry. */
const agentOnlyReasons: ReadonlySet<string> = new Set(['UnsupportedScheduler']);

export class NodeViews {
  private readonly services = new Map<string, ServiceEntry>();
  /** Services this node directs but its own model blocks (a scheduler its kernel lacks): not compiled, still reported. */
  private readonly blocked = new Map<string, DirectorView>();
  /** The last pass's compiled services, in its order: this pass looks again only at those that differ. */
  private lastServices: readonly CompiledService[] = [];
  /** The last pass's inputs shared by every entry (held VIPs, BGP groups, announced VIPs). */
  private lastShared = '';
  /** Services that had errors in the last pass. */
  private lastErrors = new Set<string>();
  /** VRRP state by group and VIP set, as last looked up. */
  private readonly vrrpStates = new Map<string, { group: string; vips: readonly string[]; state: DirectorView['vrrpState'] }>();

  /**
   * `stored`: this node's entry as the API server holds it (written before a restart), so a
   * restarted agent keeps its transition times and its first pass writes only what changed.
   */
  constructor(private readonly node: string, private readonly reasons: FailureReasons = () => undefined, private readonly vrrp?: VrrpStateLookup, private readonly stored?: StoredEntry) {}

  service(key: string): DirectorView | undefined {
    return this.services.get(key)?.view ?? this.blocked.get(key);
  }

  /** `now`: the transition time for views whose state changes in this pass. */
  update(pass: AgentPass, now: string): ViewChanges {
    const changes: ViewChanges = { services: new Map() };
    const errorsBy = new Map<string, string[]>();
    const reasonBy = new Map<string, string>();
    for (const e of pass.result.errors) {
      for (const s of e.services) {
        errorsBy.set(s, [...(errorsBy.get(s) ?? []), `${e.what}: ${e.message}`]);
        if (e.reason && !reasonBy.has(s)) reasonBy.set(s, e.reason);
      }
    }
    const held = new Set(pass.desired.addresses.map((a) => a.address));
    const bgpGroups = new Set((pass.desired.bgp ?? []).map((g) => g.group));
    const ctx: PassContext = { pass, now, errorsBy, reasonBy, held, bgpGroups, changes };
    const services = pass.desired.services;
    // What every entry depends on besides its own service: the VIPs held here, the BGP groups and
    // what they announce, each VIP set's VRRP state. While those stay, only the services whose
    // compiled object changed (compile makes a new one whenever the model or health of a service
    // changes) or that have or had errors are looked at: a single change at 10,000 services costs
    // a walk of pointer comparisons, not 10,000 entries checked.
    const shared = JSON.stringify([[...held].sort(), [...bgpGroups].sort(), bgpGroups.size ? [...(pass.announced ?? [])].sort() : []]);
    const last = this.lastServices;
    let full = shared !== this.lastShared || services.length !== last.length || this.vrrpStates.size > services.length + 64 || this.vrrpMoved(held);
    const touched: number[] = [];
    for (let i = 0; !full && i < services.length; i++) {
      if (services[i] === last[i]) continue;
      if (services[i]!.key !== last[i]!.key) full = true; // a service came or went
      else touched.push(i);
    }
    if (full) {
      this.vrrpStates.clear();
      const seen = new Set<string>();
      for (const c of services) {
        seen.add(c.key);
        this.refresh(c, ctx);
      }
      for (const key of this.services.keys()) {
        if (seen.has(key)) continue;
        this.services.delete(key);
        changes.services.set(key, undefined);
      }
    } else {
      for (const i of touched) this.refresh(services[i]!, ctx);
      // Errors come and go without a new compiled object.
      for (const key of new Set([...this.lastErrors, ...errorsBy.keys()])) {
        const entry = this.services.get(key);
        if (entry && !changes.services.has(key)) this.refresh(entry.compiled, ctx);
      }
    }
    this.lastServices = services;
    this.lastShared = shared;
    this.lastErrors = new Set(errorsBy.keys());
    this.updateBlocked(pass, this.services, now, changes);
    return changes;
  }

  /** Recomputes one service's entry; records it in `changes` when it differs from the last. */
  private refresh(c: CompiledService, ctx: PassContext): void {
    const { pass, now, changes } = ctx;
    const model = pass.model.services.get(c.key);
    const errors = (ctx.errorsBy.get(c.key) ?? []).join('; ').slice(0, 4096);
    const vrrpState = this.vrrpState(c, model, ctx.held);
    const reason = ctx.reasonBy.get(c.key);
    const announced = ctx.bgpGroups.has(c.group) && model
      ? model.vips.length > 0 && model.vips.every((v) => pass.announced?.has(v.vip) ?? false)
      : undefined;
    const prev = this.services.get(c.key);
    if (prev && prev.compiled === c && prev.model === model && prev.errors === errors && prev.vrrpState === vrrpState && prev.announced === announced && prev.view.reason === reason) return;
    const view: DirectorView = {
      node: this.node,
      ...(errors === '' && c.generation !== undefined ? { programmedGeneration: c.generation } : {}),
      vrrpState,
      ...(announced !== undefined ? { announced } : {}),
      healthy: c.healthy,
      total: c.backends.length,
      liveWeight: c.liveWeight,
      quorumLost: !c.quorumUp,
      backends: c.backends.map((b) => {
        const why = b.healthy ? undefined : this.reasons(c.key, b.address, b.port);
        return { address: b.address, port: b.port, healthy: b.healthy, weight: b.weight ?? 0, ...(why ? { message: why.slice(0, 512) } : {}) };
      }),
      message: errors,
      ...(reason ? { reason } : {}),
    };
    const before = prev?.view ?? this.stored?.(c.key);
    const transition = !before || before.vrrpState !== vrrpState || before.healthy !== view.healthy || (before.quorumLost ?? false) !== view.quorumLost;
    view.lastTransitionTime = transition ? now : (before.lastTransitionTime ?? now);
    this.services.set(c.key, { compiled: c, model, errors, vrrpState, announced, view });
    if (!prev || JSON.stringify(prev.view) !== JSON.stringify(view)) changes.services.set(c.key, view);
  }

  /** Entries for the services this node would direct but its kernel cannot serve (agent-only issues). */
  private updateBlocked(pass: AgentPass, compiled: { has(key: string): boolean }, now: string, changes: ViewChanges): void {
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

  /** The VRRP state of a service's VIP set, once per distinct set and pass (services share VIPs). */
  private vrrpState(c: CompiledService, model: ServiceModel | undefined, held: ReadonlySet<string>): DirectorView['vrrpState'] {
    const vips = (model?.vips ?? []).map((v) => v.vip);
    const memoKey = `${c.group}\0${vips.join(',')}`;
    let memo = this.vrrpStates.get(memoKey);
    if (memo === undefined) {
      memo = { group: c.group, vips, state: this.lookupVrrp(c.group, vips, held) };
      this.vrrpStates.set(memoKey, memo);
    }
    return memo.state;
  }

  private lookupVrrp(group: string, vips: readonly string[], held: ReadonlySet<string>): DirectorView['vrrpState'] {
    return this.vrrp?.(group, vips) ?? (vips.length > 0 && vips.every((v) => held.has(v)) ? 'Master' : 'Backup');
  }

  /** Whether any VIP set's VRRP state differs from the last pass's (a transition: every entry is looked at). */
  private vrrpMoved(held: ReadonlySet<string>): boolean {
    for (const m of this.vrrpStates.values()) if (this.lookupVrrp(m.group, m.vips, held) !== m.state) return true;
    return false;
  }
}

interface PassContext {
  pass: AgentPass;
  now: string;
  errorsBy: ReadonlyMap<string, string[]>;
  reasonBy: ReadonlyMap<string, string>;
  held: ReadonlySet<string>;
  bgpGroups: ReadonlySet<string>;
  changes: ViewChanges;
}
