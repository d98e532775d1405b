// Which desired services the reconciler leaves alone this pass. A service whose IPVS change
// failed for good (terminal: a scheduler the kernel lacks, a definition it refuses) is not tried
// again until its content or the kernel changes; one that failed otherwise backs off on its own
// (exponential, capped), so neither is retried on every pass nor delays the others.
import type { ReconcileError } from './reconciler.js';

interface Entry {
  fingerprint: string;
  terminal: boolean;
  failures: number;
  due: number;
  errors: ReconcileError[];
}

export interface ServiceRetryOptions {
  now?: () => number;
  baseDelayMs?: number;
  maxDelayMs?: number;
}

export class ServiceRetry {
  private readonly entries = new Map<string, Entry>();
  private readonly now: () => number;

  constructor(private readonly o: ServiceRetryOptions = {}) {
    this.now = o.now ?? (() => performance.now());
  }

  /**
   * The errors to report again when `key` with this content is to be left alone now; else
   * undefined. `fingerprint` is called only for a key that failed: every pass asks about every
   * service, and serialising 1,000 of them per pass was most of a pass's cost.
   */
  held(key: string, fingerprint: () => string): ReconcileError[] | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    if (e.fingerprint !== fingerprint()) {
      this.entries.delete(key); // the object changed: try it at once
      return undefined;
    }
    return e.terminal || this.now() < e.due ? e.errors : undefined;
  }

  failed(key: string, fingerprint: string, errors: ReconcileError[], terminal: boolean): void {
    const prev = this.entries.get(key);
    const failures = prev?.fingerprint === fingerprint && !terminal ? prev.failures + 1 : 1;
    const delay = Math.min(this.o.maxDelayMs ?? 30_000, (this.o.baseDelayMs ?? 500) * 2 ** (failures - 1));
    this.entries.set(key, { fingerprint, terminal, failures, due: this.now() + delay, errors });
  }

  succeeded(key: string): void {
    this.entries.delete(key);
  }

  /** The kernel changed (e.g. its schedulers): terminal failures may succeed now. */
  kernelChanged(): void {
    for (const [k, e] of this.entries) if (e.terminal) this.entries.delete(k);
  }

  /** How many services are failing (0: no pass needs to ask about any). */
  get size(): number {
    return this.entries.size;
  }

  /** Consecutive failures of `key` (0 when not failing). */
  failuresOf(key: string): number {
    return this.entries.get(key)?.failures ?? 0;
  }

  isTerminal(key: string): boolean {
    return this.entries.get(key)?.terminal ?? false;
  }

  /** Milliseconds until the next backed-off service is due; undefined when none waits. */
  nextRetryMs(): number | undefined {
    let next = Infinity;
    for (const e of this.entries.values()) if (!e.terminal) next = Math.min(next, e.due);
    return Number.isFinite(next) ? Math.max(0, next - this.now()) : undefined;
  }
}
