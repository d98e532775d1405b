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
    const vrrpStates = new Map<string, DirectorView['vrrpState']>();
    const bgpGroups = new Set((pass.desired.bgp ?? []).map((g) => g.group));
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
    for (const key of this.services.keys()) {
      if (seen.has(key)) continue;
      this.services.delete(key);
      changes.services.set(key, undefined);
    }
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
}
