// Keeps the health checker's targets equal to healthChecks(model) without rebuilding them all on
// every pass: only services whose model object changed are looked at again.
import type { HealthChecker } from '../health/index.js';
import type { ClusterModel, ServiceModel } from '../model/index.js';
import { serviceChecks } from './health-config.js';

export class CheckSync {
  private readonly byService = new Map<string, { model: ServiceModel; keys: Set<string> }>();
  private services: ClusterModel['services'] | undefined;

  constructor(private readonly checker: HealthChecker, private readonly node: string) {}

  /** `known`: check keys already in the kernel (start-up only), which begin healthy. */
  sync(model: ClusterModel, known?: ReadonlySet<string>): void {
    if (model.services === this.services) return;
    for (const s of model.services.values()) {
      const prev = this.byService.get(s.key);
      if (prev?.model === s) continue;
      const checks = serviceChecks(s, this.node, known);
      const keys = new Set(checks.map(([k]) => k));
      for (const [k, c] of checks) this.checker.set(k, c);
      for (const k of prev?.keys ?? []) if (!keys.has(k)) this.checker.remove(k);
      this.byService.set(s.key, { model: s, keys });
    }
    for (const [key, e] of this.byService) {
      if (model.services.has(key)) continue;
      for (const k of e.keys) this.checker.remove(k);
      this.byService.delete(key);
    }
    this.services = model.services;
  }
}
