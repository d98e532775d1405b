// compile() for an agent that runs it on every change: a service's piece is kept until its model
// object changes (the incremental resolver returns the same object for an unchanged service) or
// the health of one of its backends does, so one RealServer change recompiles one service, not
// the cluster. The output equals compile() over the same inputs.
import { servicesChangedSince, type ClusterModel, type ServiceModel } from '../model/index.js';
import { assemble, byKey, compilePiece, neverMaster, type HealthLookup, type NodeDesired, type ServicePiece, type SyncMastership, type VipLeadership } from './compile.js';

export class CompileCache {
  /** By service key: what a reorder takes the slots from, and the last piece for quorum's hysteresis. */
  private readonly pieces = new Map<string, { model: ServiceModel; piece: ServicePiece }>();
  private readonly stale = new Set<string>();
  private model: ClusterModel | undefined;
  private index = new Map<string, number>();
  /** The services in key order, and each one's last model and piece at the same index. */
  private order: string[] = [];
  private ordered: ServiceModel[] = [];
  private slots: ({ model: ServiceModel; piece: ServicePiece } | undefined)[] = [];

  constructor(private readonly node: string) {}

  /** A backend of this VirtualService changed health: compile it again on the next pass. */
  invalidate(serviceKey: string): void {
    this.stale.add(serviceKey);
  }

  compile(model: ClusterModel, health: HealthLookup, leads: VipLeadership, isMaster: SyncMastership = neverMaster): NodeDesired {
    // The same model: the same services in the same order, no lookups. A model that says which
    // services changed since the last one: only those are put in place.
    if (model !== this.model) {
      if (!this.patch(servicesChangedSince(model, this.model))) {
        this.reorder(model.services);
        this.ordered = this.order.map((k) => model.services.get(k)!);
      }
      this.model = model;
    }
    let i = 0;
    const desired = assemble(model, this.ordered, this.node, leads, isMaster, (s) => {
      const at = i++;
      const hit = this.slots[at];
      if (hit && hit.model === s && (this.stale.size === 0 || !this.stale.has(s.key))) return hit.piece;
      // Quorum's hysteresis depends on whether it held before: the last piece of this service says.
      const last = hit?.model.key === s.key ? hit : this.pieces.get(s.key);
      const piece = compilePiece(s, this.node, health, last?.piece.service?.quorumUp);
      const slot = { model: s, piece };
      this.slots[at] = slot;
      this.pieces.set(s.key, slot);
      return piece;
    });
    this.stale.clear();
    return desired;
  }

  /** Puts changed services in their places; false when a service came or went (then: reorder). */
  private patch(changes: ReadonlyMap<string, ServiceModel | undefined> | undefined): boolean {
    if (!changes) return false;
    for (const [key, s] of changes) {
      const at = this.index.get(key);
      if (s === undefined || at === undefined) return false;
      this.ordered[at] = s;
    }
    return true;
  }

  /** Keeps the sorted order while the set of keys stays the same (the common case: an edit). */
  private reorder(services: ClusterModel['services']): void {
    const same = services.size === this.order.length && this.order.every((k) => services.has(k));
    if (!same) {
      this.order = [...services.values()].sort(byKey).map((s) => s.key);
      this.index = new Map(this.order.map((k, i) => [k, i]));
      for (const k of this.pieces.keys()) if (!services.has(k)) this.pieces.delete(k);
      this.slots = this.order.map((k) => this.pieces.get(k));
    }
  }
}
