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
  /**
   * Counts the objects for `lvs_controller_objects` when it is scraped (one walk over every object
   * per scrape, not per reconcile: at 100,000 objects a walk per pass cost more than the pass).
   */
  countObjects: ((count: (kind: string, condition: { type: string; status: string; reason: string }) => void) => void) | undefined;

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
    const metrics = this;
    this.objects = new Gauge({
      name: 'lvs_controller_objects',
      help: 'lvs.dev objects by condition type, status and reason after the last reconcile.',
      labelNames: ['kind', 'condition', 'status', 'reason'],
      registers,
      collect() {
        const source = metrics.countObjects;
        if (!source) return;
        const counts = new Map<string, { labels: { kind: string; condition: string; status: string; reason: string }; n: number }>();
        source((kind, c) => {
          const key = `${kind}\0${c.type}\0${c.status}\0${c.reason}`;
          const e = counts.get(key);
          if (e) e.n++;
          else counts.set(key, { labels: { kind, condition: c.type, status: c.status, reason: c.reason }, n: 1 });
        });
        this.reset();
        for (const { labels, n } of counts.values()) this.set(labels, n);
      },
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
