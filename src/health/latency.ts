import { Histogram } from 'prom-client';

/** Probe latency buckets in seconds: a LAN probe takes about a millisecond, timeouts reach 10 s. */
export const LATENCY_BUCKETS_SECONDS: readonly number[] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * The probe latency histogram by probe type, on no registry: the agent registers it on its own.
 * A prom-client Histogram, so /metrics has _bucket, _sum and _count that histogram_quantile reads.
 */
export function latencyHistogram(): Histogram<'type'> {
  return new Histogram({
    name: 'lvs_agent_healthcheck_latency_seconds',
    help: 'Health probe latency by probe type (successes and failures)',
    labelNames: ['type'],
    buckets: [...LATENCY_BUCKETS_SECONDS],
    registers: [],
  });
}

/** Sum and count of latencies, in milliseconds, for stats(). */
export interface LatencyTotals {
  sum: number;
  count: number;
}

/** Exponentially weighted moving average; the first sample seeds it. */
export function ewma(previous: number | undefined, sample: number, alpha = 0.2): number {
  return previous === undefined ? sample : previous + alpha * (sample - previous);
}
