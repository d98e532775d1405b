/** Prometheus-style latency buckets, in milliseconds (upper bounds, cumulative on export). */
export const LATENCY_BUCKETS_MS: readonly number[] = [1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000];

export interface HistogramSnapshot {
  /** Cumulative: `count` is the number of observations <= `le`; the last bucket is +Inf. */
  buckets: Array<{ le: number; count: number }>;
  sum: number;
  count: number;
}

/** Fixed-bucket histogram: O(buckets) memory whatever the probe rate. */
export class LatencyHistogram {
  private readonly counts = new Array<number>(LATENCY_BUCKETS_MS.length + 1).fill(0);
  private sum = 0;
  private count = 0;

  observe(ms: number): void {
    let i = LATENCY_BUCKETS_MS.findIndex((le) => ms <= le);
    if (i < 0) i = LATENCY_BUCKETS_MS.length;
    this.counts[i] = (this.counts[i] ?? 0) + 1;
    this.sum += ms;
    this.count++;
  }

  snapshot(): HistogramSnapshot {
    let running = 0;
    const buckets = [...LATENCY_BUCKETS_MS, Infinity].map((le, i) => {
      running += this.counts[i] ?? 0;
      return { le, count: running };
    });
    return { buckets, sum: this.sum, count: this.count };
  }
}

/** Exponentially weighted moving average; the first sample seeds it. */
export function ewma(previous: number | undefined, sample: number, alpha = 0.2): number {
  return previous === undefined ? sample : previous + alpha * (sample - previous);
}
