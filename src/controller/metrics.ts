import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/** The controller's Prometheus metrics, on a registry of its own (two controllers can share a process in tests). */
export class ControllerMetrics {
  readonly reconciles: Counter<'result'>;
  readonly reconcileDuration: Histogram;
  readonly statusWrites: Counter<'kind' | 'result'>;
  readonly objects: Gauge<'kind' | 'condition' | 'status' | 'reason'>;
  readonly vrids: Gauge<'group' | 'interface'>;
  readonly leader: Gauge;
  readonly events: Counter<'type' | 'reason'>;

  constructor(readonly registry: Registry = new Registry()) {
    const registers = [registry];
    this.reconciles = new Counter({
      name: 'lvs_controller_reconcile_total',
      help: 'Full reconciles of the cluster model, by result (success, error).',
      labelNames: ['result'],
      registers,
    });
    this.reconcileDuration = new Histogram({
      name: 'lvs_controller_reconcile_duration_seconds',
      help: 'Time to resolve the model and write the statuses that changed.',
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.statusWrites = new Counter({
      name: 'lvs_controller_status_writes_total',
      help: 'Server-side apply writes of status subresources, by kind and result.',
      labelNames: ['kind', 'result'],
      registers,
    });
    this.objects = new Gauge({
      name: 'lvs_controller_objects',
      help: 'lvs.dev objects by condition type, status and reason after the last reconcile.',
      labelNames: ['kind', 'condition', 'status', 'reason'],
      registers,
    });
    this.vrids = new Gauge({
      name: 'lvs_controller_vrids_allocated',
      help: 'VRRP router ids allocated, per DirectorGroup and interface (255 at most per interface).',
      labelNames: ['group', 'interface'],
      registers,
    });
    this.leader = new Gauge({ name: 'lvs_controller_leader', help: '1 while this replica holds the leader Lease.', registers });
    this.events = new Counter({
      name: 'lvs_controller_events_total',
      help: 'Kubernetes Events recorded, by type and reason.',
      labelNames: ['type', 'reason'],
      registers,
    });
  }
}
