// compile() for an agent that runs it on every change: a service's piece is kept until its model
// object changes (the incremental resolver returns the same object for an unchanged service) or
// the health of one of its backends does, so one RealServer change recompiles one service, not
// the cluster. The output equals compile() over the same inputs.
import type { ClusterModel, ServiceModel } from '../model/index.js';
import { assemble, byKey, compilePiece, neverMaster, type HealthLookup, type NodeDesired, type ServicePiece, type SyncMastership, type VipLeadership } from './compile.js';

export class CompileCache {
  private readonly pieces = new Map<string, { model: ServiceModel; piece: ServicePiece }>();
  private readonly stale = new Set<string>();
  private services: ClusterModel['services'] | undefined;
  private order: string[] = [];

  constructor(private readonly node: string) {}

  /** A backend of this VirtualService changed health: compile it again on the next pass. */
  invalidate(serviceKey: string): void {
    this.stale.add(serviceKey);
  }

  compile(model: ClusterModel, health: HealthLookup, leads: VipLeadership, isMaster: SyncMastership = neverMaster): NodeDesired {
    if (model.services !== this.services) this.reorder(model.services);
    const ordered = this.order.map((k) => model.services.get(k)!);
    const desired = assemble(model, ordered, this.node, leads, isMaster, (s) => {
      const hit = this.pieces.get(s.key);
      if (hit && hit.model === s && !this.stale.has(s.key)) return hit.piece;
      // Quorum's hysteresis depends on whether it held before: the last piece of this service says.
      const piece = compilePiece(s, this.node, health, hit?.piece.service?.quorumUp);
      this.pieces.set(s.key, { model: s, piece });
      return piece;
    });
    this.stale.clear();
    return desired;
  }

  /** Keeps the sorted order while the set of keys stays the same (the common case: an edit). */
  private reorder(services: ClusterModel['services']): void {
    const same = services.size === this.order.length && this.order.every((k) => services.has(k));
    if (!same) {
      this.order = [...services.values()].sort(byKey).map((s) => s.key);
      for (const k of this.pieces.keys()) if (!services.has(k)) this.pieces.delete(k);
    }
    this.services = services;
  }
}
