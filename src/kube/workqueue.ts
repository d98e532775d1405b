// A keyed, rate-limited work queue after client-go's workqueue as controller-runtime uses it:
// a key queued many times is processed once (and once more if queued while processing), a
// failing key backs off on its own (exponential, capped, reset on success) so it never delays
// the others, and a terminal failure is not retried until the key is added again with a new
// version (the object changed).
import { type Clock, type TimerHandle, realClock } from '../health/clock.js';

/** A failure that retrying cannot fix (controller-runtime's reconcile.TerminalError). */
export class TerminalError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TerminalError';
  }
}

export interface WorkQueueOptions {
  /** First retry delay; doubles per consecutive failure of the same key (default 500 ms). */
  baseDelayMs?: number;
  /** Cap of the per-key delay (default 60 s). */
  maxDelayMs?: number;
  /** Keys processed at once (default 8). */
  concurrency?: number;
  /**
   * A key's class, a small whole number: every ready key of a lower class is taken before any of
   * a higher one; within a class, first in first out (default: one class).
   */
  priority?: (key: string) => number;
  clock?: Clock;
  /** Told of every failure: the key, the error, and the retry delay (undefined when terminal). */
  onError?: (key: string, err: unknown, retryMs: number | undefined) => void;
}

type Version = readonly unknown[];

/** Ready keys by class, each class in the order its keys were added. */
class ReadyKeys {
  private readonly classes: Set<string>[] = [];
  private count = 0;
  constructor(private readonly classOf: (key: string) => number) {}
  get size(): number { return this.count; }
  add(key: string): void {
    const c = (this.classes[this.classOf(key)] ??= new Set());
    if (c.has(key)) return;
    c.add(key);
    this.count++;
  }
  delete(key: string): void {
    if (this.classes[this.classOf(key)]?.delete(key)) this.count--;
  }
  /** Removes and returns the first key of the lowest class that has one. */
  take(): string | undefined {
    for (const c of this.classes) {
      if (!c || c.size === 0) continue;
      const key = c.values().next().value as string;
      c.delete(key);
      this.count--;
      return key;
    }
    return undefined;
  }
  clear(): void {
    this.classes.length = 0;
    this.count = 0;
  }
}

const sameVersion = (a: Version | undefined, b: Version | undefined): boolean =>
  a !== undefined && b !== undefined && a.length === b.length && a.every((x, i) => x === b[i]);

export class WorkQueue {
  private readonly ready: ReadyKeys;
  private readonly processing = new Set<string>();
  /** Keys added again while processing: run once more when done. */
  private readonly dirty = new Set<string>();
  private readonly waiting = new Map<string, TimerHandle>();
  private readonly failures = new Map<string, number>();
  /** Keys that failed for good, with the version that failed. */
  private readonly terminal = new Map<string, Version | undefined>();
  /** The version each key was last added with. */
  private readonly versions = new Map<string, Version>();
  private readonly clock: Clock;
  private readonly idlers = new Set<() => void>();
  private closed = false;
  private pumping = false;

  constructor(private readonly handler: (key: string) => Promise<void>, private readonly o: WorkQueueOptions = {}) {
    this.clock = o.clock ?? realClock;
    const classOf = o.priority;
    this.ready = new ReadyKeys(classOf ? (key) => Math.max(0, Math.floor(classOf(key))) : () => 0);
  }

  /**
   * Queues `key` now. With a `version` (compared item by item with ===), adding the version a
   * backing-off or terminal key already has is a no-op: only a change retries it early.
   */
  add(key: string, version?: Version): void {
    if (this.closed) return;
    const known = this.versions.get(key);
    if (version) this.versions.set(key, version);
    const unchanged = version !== undefined && sameVersion(known, version);
    if (this.terminal.has(key)) {
      if (unchanged) return;
      this.terminal.delete(key);
    }
    if (this.waiting.has(key)) {
      if (unchanged) return;
      this.clock.clearTimeout(this.waiting.get(key)!);
      this.waiting.delete(key);
    }
    if (this.processing.has(key)) {
      this.dirty.add(key);
      return;
    }
    this.ready.add(key);
    this.soon();
  }

  /** Drops everything about `key` (the object is gone). */
  forget(key: string): void {
    this.ready.delete(key);
    this.dirty.delete(key);
    const t = this.waiting.get(key);
    if (t !== undefined) this.clock.clearTimeout(t);
    this.waiting.delete(key);
    this.failures.delete(key);
    this.terminal.delete(key);
    this.versions.delete(key);
  }

  /** Consecutive failures of `key` (0 after a success). */
  failuresOf(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  isTerminal(key: string): boolean {
    return this.terminal.has(key);
  }

  /** Keys waiting for a retry timer. */
  get backingOff(): number {
    return this.waiting.size;
  }

  /** Resolves when nothing is ready or processing (backing-off keys may remain). */
  idle(): Promise<void> {
    if (this.ready.size === 0 && this.processing.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idlers.add(resolve));
  }

  /** Stops: nothing new starts, retry timers are cancelled. */
  close(): void {
    this.closed = true;
    for (const t of this.waiting.values()) this.clock.clearTimeout(t);
    this.waiting.clear();
    this.ready.clear();
    this.dirty.clear();
  }

  /** Starts work on a microtask, so adds made in one go are deduplicated before anything runs. */
  private soon(): void {
    if (this.pumping) return;
    this.pumping = true;
    queueMicrotask(() => {
      this.pumping = false;
      this.pump();
    });
  }

  private pump(): void {
    const limit = this.o.concurrency ?? 8;
    while (!this.closed && this.processing.size < limit && this.ready.size > 0) {
      const key = this.ready.take()!;
      this.processing.add(key);
      void this.run(key);
    }
    if (this.ready.size === 0 && this.processing.size === 0) {
      for (const r of this.idlers) r();
      this.idlers.clear();
    }
  }

  private async run(key: string): Promise<void> {
    try {
      await this.handler(key);
      this.failures.delete(key);
      this.versions.delete(key); // only a parked key needs its version
    } catch (err) {
      this.failed(key, err);
    } finally {
      this.processing.delete(key);
      if (this.dirty.delete(key) && !this.closed) {
        // Changed while processing: run again now, whatever the outcome.
        const t = this.waiting.get(key);
        if (t !== undefined) this.clock.clearTimeout(t);
        this.waiting.delete(key);
        this.terminal.delete(key);
        this.ready.add(key);
      }
      this.pump();
    }
  }

  private failed(key: string, err: unknown): void {
    if (err instanceof TerminalError) {
      this.failures.delete(key);
      this.terminal.set(key, this.versions.get(key));
      this.o.onError?.(key, err, undefined);
      return;
    }
    const n = (this.failures.get(key) ?? 0) + 1;
    this.failures.set(key, n);
    const delay = Math.min(this.o.maxDelayMs ?? 60_000, (this.o.baseDelayMs ?? 500) * 2 ** (n - 1));
    this.o.onError?.(key, err, delay);
    if (this.closed) return;
    this.waiting.set(key, this.clock.setTimeout(() => {
      this.waiting.delete(key);
      if (this.processing.has(key)) this.dirty.add(key);
      else this.ready.add(key);
      this.pump();
    }, delay));
  }
}
