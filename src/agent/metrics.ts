// Prometheus metrics of one agent: what it programmed, how reconciling goes, how checks go.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { processMetrics } from '../util/process-metrics.js';
import type { HealthChecker } from '../health/index.js';
import type { AgentPass } from './agent.js';

export class AgentMetrics {
  readonly registry = new Registry();
  /** The gauges of what is programmed are read from the last pass when scraped, not on every pass. */
  private last: AgentPass | undefined;
  private readonly duration = new Histogram({ name: 'lvs_agent_reconcile_duration_seconds', help: 'Duration of one reconcile pass (read back, diff, apply)', buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10], registers: [this.registry] });
  private readonly passes = new Counter({ name: 'lvs_agent_reconcile_total', help: 'Reconcile passes by result', labelNames: ['result'], registers: [this.registry] });
  private readonly ops = new Counter({ name: 'lvs_agent_kernel_operations_total', help: 'Kernel changes applied, by kind', labelNames: ['kind'], registers: [this.registry] });
  private readonly errors = new Counter({ name: 'lvs_agent_kernel_errors_total', help: 'Kernel operations that failed (netlink errors and others)', registers: [this.registry] });
  private readonly foreign = new Gauge({ name: 'lvs_agent_foreign_conflicts', help: 'Desired IPVS services held by someone else and left alone', registers: [this.registry] });

  constructor(checker: HealthChecker) {
    const reg = [this.registry];
    const last = (): AgentPass | undefined => this.last;
    new Gauge({ name: 'lvs_agent_programmed_services', help: 'IPVS services this agent programs', registers: reg, collect() { this.set(last()?.desired.services.length ?? 0); } });
    new Gauge({
      name: 'lvs_agent_programmed_destinations', help: 'IPVS destinations this agent programs', registers: reg,
      collect() { this.set(last()?.desired.services.reduce((n, s) => n + s.ipvs.dests.length, 0) ?? 0); },
    });
    new Gauge({ name: 'lvs_agent_vips_held', help: 'Addresses (director VIPs and real-server VIPs) this agent holds', registers: reg, collect() { this.set(last()?.desired.addresses.length ?? 0); } });
    new Gauge({
      name: 'lvs_agent_healthy_backends', help: 'Healthy real servers per virtual service as this node sees them', labelNames: ['virtualservice'], registers: reg,
      collect() {
        this.reset();
        for (const s of last()?.desired.services ?? []) this.set({ virtualservice: s.key }, s.healthy);
      },
    });
    new Gauge({ name: 'lvs_agent_healthcheck_targets', help: 'Health checks run (one per check of each real server)', registers: reg, collect() { this.set(checker.stats().targets); } });
    new Gauge({ name: 'lvs_agent_healthcheck_healthy', help: 'Health checks passing (a real server is healthy when all of its pass)', registers: reg, collect() { this.set(checker.stats().healthy); } });
    // Read from the checker when scraped; counters all the same (they reset only with the process).
    new Counter({ name: 'lvs_agent_healthcheck_probes_total', help: 'Health probes run since start', registers: reg, collect() { this.reset(); this.inc(checker.stats().probesTotal); } });
    new Counter({ name: 'lvs_agent_healthcheck_failures_total', help: 'Health probes that failed since start', registers: reg, collect() { this.reset(); this.inc(checker.stats().failuresTotal); } });
    this.registry.registerMetric(checker.latencyHistogram);
    // process_* and nodejs_*: memory, CPU, event loop lag, open file descriptors of the agent.
    processMetrics(this.registry);
  }

  /** The status writes still to do (StatusReporter.pending), scraped as a gauge. */
  watchStatus(pending: () => number): void {
    new Gauge({ name: 'lvs_agent_status_writes_pending', help: 'Status writes to the API server wanted and not done yet', registers: [this.registry], collect() { this.set(pending()); } });
  }

  observe(pass: AgentPass): void {
    const r = pass.result;
    this.duration.observe(r.durationMs / 1000);
    this.passes.inc({ result: r.errors.length ? 'error' : 'ok' });
    this.ops.inc({ kind: 'ipvs' }, r.ipvsOps);
    this.ops.inc({ kind: 'address' }, r.addressOps);
    this.ops.inc({ kind: 'sysctl' }, r.sysctlOps);
    this.ops.inc({ kind: 'nft' }, r.nftOps);
    this.errors.inc(r.errors.length - r.foreign.length);
    this.foreign.set(r.foreign.length);
    this.last = pass;
  }
}
