// Keeps the health checker's targets equal to healthChecks(model) without rebuilding them all on
// every pass: only services whose model object changed are looked at again, and those whose
// client-certificate material changed.
import type { HealthChecker } from '../health/index.js';
import { servicesChangedSince, type ClusterModel, type ServiceModel } from '../model/index.js';
import { serviceChecks, type TlsLookup } from './health-config.js';

/** Loaded client certificates and a version that changes with them. */
export interface TlsSource {
  lookup: TlsLookup;
  readonly version: number;
}

const noTls: TlsSource = { lookup: () => undefined, version: 0 };

const usesTls = (s: ServiceModel): boolean => s.backends.some((b) => b.healthChecks.some((c) => c.http?.clientCertificateSecret !== undefined));

export class CheckSync {
  private readonly byService = new Map<string, { model: ServiceModel; keys: Set<string>; tls: boolean }>();
  private model: ClusterModel | undefined;
  private tlsVersion = 0;

  constructor(private readonly checker: HealthChecker, private readonly node: string, private readonly tls: TlsSource = noTls) {}

  /** `known`: check keys already in the kernel (start-up only), which begin healthy. */
  sync(model: ClusterModel, known?: ReadonlySet<string>): void {
    const tlsChanged = this.tls.version !== this.tlsVersion;
    if (model === this.model && !tlsChanged) return;
    // A model that says which services changed since the one synced last: those alone.
    const changes = tlsChanged ? undefined : servicesChangedSince(model, this.model);
    if (changes) {
      for (const [key, s] of changes) {
        if (s) this.syncService(s, known, false);
        else this.drop(key);
      }
    } else {
      for (const s of model.services.values()) this.syncService(s, known, tlsChanged);
      for (const key of this.byService.keys()) if (!model.services.has(key)) this.drop(key);
    }
    this.model = model;
    this.tlsVersion = this.tls.version;
  }

  private syncService(s: ServiceModel, known: ReadonlySet<string> | undefined, tlsChanged: boolean): void {
    const prev = this.byService.get(s.key);
    if (prev?.model === s && !(tlsChanged && prev.tls)) return;
    const checks = serviceChecks(s, this.node, known, this.tls.lookup);
    const keys = new Set(checks.map(([k]) => k));
    for (const [k, c] of checks) this.checker.set(k, c);
    for (const k of prev?.keys ?? []) if (!keys.has(k)) this.checker.remove(k);
    this.byService.set(s.key, { model: s, keys, tls: usesTls(s) });
  }

  private drop(key: string): void {
    const e = this.byService.get(key);
    if (!e) return;
    for (const k of e.keys) this.checker.remove(k);
    this.byService.delete(key);
  }
}
