import { EventEmitter } from 'node:events';
import { logger } from '../util/log.js';
import { realClock, type Clock, type TimerHandle } from './clock.js';
import { ewma, latencyHistogram, type LatencyTotals } from './latency.js';
import { ProbeTimeoutError, describeError } from './probes/abort.js';
import { runProbe } from './probes/index.js';
import { applyResult, initialState, type InitialHealth, type RiseFallState } from './rise-fall.js';
import { Semaphore } from './semaphore.js';
import type { Probe, ProbeResult, ProbeSpec, ProbeTarget, ProbeType } from './types.js';

const log = logger('health');

export interface CheckConfig {
  target: ProbeTarget;
  /** What to probe; spec.timeoutMs is enforced by the checker through the probe's AbortSignal. */
  spec: ProbeSpec;
  /** Time from the end of one probe to the start of the next (keepalived's delay_loop), before jitter. */
  intervalMs: number;
  /** Consecutive successes that bring a down target up; default 2. */
  rise?: number;
  /** Consecutive failures that take an up target down; default 3. */
  fall?: number;
  /** State before any probe; default 'down' (keepalived `alpha`). Only used when the key is first added. */
  initial?: InitialHealth;
  /**
   * After a failure of a healthy target, the next probe comes after this instead of the interval,
   * until fall is reached (keepalived's delay_before_retry). Default: the interval.
   */
  retryDelayMs?: number;
  /** The first probe comes after random() * warmupMs (keepalived's warmup). Default: random() * interval * jitter. */
  warmupMs?: number;
}

export interface HealthChange {
  key: string;
  target: ProbeTarget;
  healthy: boolean;
  /** Why: the failing probe's reason when going down, 'ok' when coming up. */
  reason: string;
  /** Consecutive results (of the new kind) that caused the transition: rise or fall, usually. */
  consecutive: number;
}

export interface LastResult extends ProbeResult {
  /** Clock time at which the result arrived. */
  at: number;
}

export interface TargetStatus {
  key: string;
  target: ProbeTarget;
  type: ProbeType;
  healthy: boolean;
  consecutiveOk: number;
  consecutiveFail: number;
  /** Absent until the first probe finishes. */
  lastResult?: LastResult;
  /** Clock time of the last transition; absent if the target never changed state. */
  lastChangeAt?: number;
  probes: number;
  failures: number;
  /** Moving average of probe latency (successes and failures). */
  latencyEwmaMs?: number;
}

export interface CheckerStats {
  targets: number;
  healthy: number;
  inFlight: number;
  queued: number;
  maxInFlight: number;
  probesTotal: number;
  failuresTotal: number;
  /** Milliseconds; the buckets are in `latencyHistogram`. */
  latency: Partial<Record<ProbeType, LatencyTotals>>;
}

export interface HealthCheckerOptions {
  /** Probes running at once across all targets; default 256. Others wait in FIFO order. */
  maxInFlight?: number;
  /** Spread of each interval, as a fraction: interval * (1 ± jitter); the first probe comes after random() * interval * jitter. Default 0.1. */
  jitter?: number;
  clock?: Clock;
  /** [0, 1), for jitter; injectable for deterministic tests. */
  random?: () => number;
  /** Default: the real probes, dispatched on spec.type. */
  probe?: Probe;
}

interface Entry {
  key: string;
  config: CheckConfig;
  rise: number;
  fall: number;
  state: RiseFallState;
  /** Bumped whenever in-flight work must be forgotten (probe changed, target removed). */
  generation: number;
  timer?: TimerHandle;
  cancelWait?: () => void;
  running?: AbortController;
  last?: LastResult;
  lastChangeAt?: number;
  probes: number;
  failures: number;
  latencyEwmaMs?: number;
}

type Events = { change: [HealthChange] };

/**
 * Runs health probes for many targets on their own intervals, with a global cap on
 * probes in flight, and turns raw results into healthy/unhealthy with rise/fall
 * hysteresis. `change` is emitted only on transitions.
 *
 * Probes must settle soon after their signal aborts (all built-in ones do): a slot is
 * released when the probe's promise settles, which is what makes the cap real.
 */
export class HealthChecker extends EventEmitter<Events> {
  private readonly entries = new Map<string, Entry>();
  private readonly semaphore: Semaphore;
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly jitter: number;
  private readonly probe: Probe;
  private readonly latency = new Map<ProbeType, LatencyTotals>();
  /** Probe latency by type, for the agent's registry. */
  readonly latencyHistogram = latencyHistogram();
  private probesTotal = 0;
  private failuresTotal = 0;
  private closed = false;

  constructor(opts: HealthCheckerOptions = {}) {
    super();
    this.semaphore = new Semaphore(opts.maxInFlight ?? 256);
    this.clock = opts.clock ?? realClock;
    this.random = opts.random ?? Math.random;
    this.jitter = opts.jitter ?? 0.1;
    if (!(this.jitter >= 0 && this.jitter < 1)) throw new RangeError(`jitter must be in [0, 1), got ${this.jitter}`);
    this.probe = opts.probe ?? runProbe;
  }

  /** Adds or updates a target. A changed target or probe spec restarts its counters (not its health). */
  set(key: string, config: CheckConfig): 'added' | 'updated' | 'unchanged' {
    if (this.closed) throw new Error('HealthChecker is closed');
    validate(key, config);
    const rise = config.rise ?? 2;
    const fall = config.fall ?? 3;
    const existing = this.entries.get(key);
    if (!existing) {
      const entry: Entry = {
        key,
        config,
        rise,
        fall,
        state: initialState(config.initial ?? 'down'),
        generation: 0,
        probes: 0,
        failures: 0,
      };
      this.entries.set(key, entry);
      this.scheduleFirst(entry);
      return 'added';
    }
    const probeChanged = !sameProbe(existing.config, config);
    if (!probeChanged && sameTiming(existing.config, config) && existing.rise === rise && existing.fall === fall) {
      existing.config = config;
      return 'unchanged';
    }
    existing.config = config;
    existing.rise = rise;
    existing.fall = fall;
    if (probeChanged) {
      // Results about the old address or spec say nothing about the new one.
      this.stop(existing);
      existing.state = { healthy: existing.state.healthy, consecutiveOk: 0, consecutiveFail: 0 };
      this.scheduleFirst(existing);
    }
    // Otherwise the new interval and thresholds apply from the next probe on.
    return 'updated';
  }

  remove(key: string): boolean {
    const entry = this.entries.get(key);
    if (!entry) return false;
    this.stop(entry);
    this.entries.delete(key);
    return true;
  }

  /** Level-based update: exactly these keys afterwards. */
  sync(desired: Iterable<readonly [string, CheckConfig]>): void {
    const keep = new Set<string>();
    for (const [key, config] of desired) {
      keep.add(key);
      this.set(key, config);
    }
    for (const key of [...this.entries.keys()]) if (!keep.has(key)) this.remove(key);
  }

  has(key: string): boolean {
    return this.entries.has(key);
  }

  get(key: string): TargetStatus | undefined {
    const entry = this.entries.get(key);
    return entry && status(entry);
  }

  snapshot(): TargetStatus[] {
    return [...this.entries.values()].map(status);
  }

  stats(): CheckerStats {
    let healthy = 0;
    for (const e of this.entries.values()) if (e.state.healthy) healthy++;
    const latency: CheckerStats['latency'] = {};
    for (const [type, t] of this.latency) latency[type] = { ...t };
    return {
      targets: this.entries.size,
      healthy,
      inFlight: this.semaphore.inUse,
      queued: this.semaphore.queued,
      maxInFlight: this.semaphore.limit,
      probesTotal: this.probesTotal,
      failuresTotal: this.failuresTotal,
      latency,
    };
  }

  /** Stops every timer and aborts every probe; the checker cannot be used afterwards. */
  close(): void {
    this.closed = true;
    for (const entry of this.entries.values()) this.stop(entry);
    this.entries.clear();
  }

  private stop(entry: Entry): void {
    entry.generation++;
    if (entry.timer !== undefined) this.clock.clearTimeout(entry.timer);
    entry.timer = undefined;
    entry.cancelWait?.();
    entry.cancelWait = undefined;
    entry.running?.abort(new Error('check cancelled'));
    entry.running = undefined;
  }

  private scheduleFirst(entry: Entry): void {
    const { warmupMs, intervalMs } = entry.config;
    this.schedule(entry, this.random() * (warmupMs ?? intervalMs * this.jitter));
  }

  private scheduleNext(entry: Entry): void {
    const { retryDelayMs, intervalMs } = entry.config;
    // A healthy target that failed and has not reached fall yet is retried (keepalived's retries).
    const retrying = entry.state.healthy && entry.state.consecutiveFail > 0;
    if (retrying && retryDelayMs !== undefined) return this.schedule(entry, retryDelayMs);
    const spread = 1 + this.jitter * (2 * this.random() - 1);
    this.schedule(entry, intervalMs * spread);
  }

  private schedule(entry: Entry, delayMs: number): void {
    const generation = entry.generation;
    entry.timer = this.clock.setTimeout(() => {
      entry.timer = undefined;
      if (entry.generation !== generation) return;
      entry.cancelWait = this.semaphore.acquire(() => {
        entry.cancelWait = undefined;
        this.run(entry, generation);
      });
    }, delayMs);
  }

  private run(entry: Entry, generation: number): void {
    const { target, spec } = entry.config;
    const controller = new AbortController();
    entry.running = controller;
    const started = this.clock.now();
    const deadline = this.clock.setTimeout(
      () => controller.abort(new ProbeTimeoutError(spec.timeoutMs)),
      spec.timeoutMs,
    );
    let outcome: Promise<ProbeResult>;
    try {
      outcome = this.probe(target, spec, controller.signal);
    } catch (err) {
      outcome = Promise.reject(err);
    }
    outcome
      .catch((err: unknown): ProbeResult => ({ ok: false, latencyMs: this.clock.now() - started, reason: describeError(err) }))
      .then((result) => {
        this.clock.clearTimeout(deadline);
        this.semaphore.release();
        if (entry.generation !== generation || this.entries.get(entry.key) !== entry) return;
        entry.running = undefined;
        this.record(entry, spec.type, result);
        this.scheduleNext(entry);
      })
      .catch((err: unknown) => log.error({ err, key: entry.key }, 'health check bookkeeping failed'));
  }

  private record(entry: Entry, type: ProbeType, result: ProbeResult): void {
    const at = this.clock.now();
    entry.last = { ...result, at };
    entry.probes++;
    this.probesTotal++;
    if (!result.ok) {
      entry.failures++;
      this.failuresTotal++;
    }
    entry.latencyEwmaMs = ewma(entry.latencyEwmaMs, result.latencyMs);
    let totals = this.latency.get(type);
    if (!totals) this.latency.set(type, (totals = { sum: 0, count: 0 }));
    totals.sum += result.latencyMs;
    totals.count++;
    this.latencyHistogram.observe({ type }, result.latencyMs / 1000);

    const { state, changed } = applyResult(entry.state, result.ok, entry);
    entry.state = state;
    if (!changed) return;
    entry.lastChangeAt = at;
    const change: HealthChange = {
      key: entry.key,
      target: entry.config.target,
      healthy: state.healthy,
      reason: result.ok ? 'ok' : (result.reason ?? 'failed'),
      consecutive: state.healthy ? state.consecutiveOk : state.consecutiveFail,
    };
    log.info(change, state.healthy ? 'target up' : 'target down');
    try {
      this.emit('change', change);
    } catch (err) {
      log.error({ err, key: entry.key }, 'health change listener threw');
    }
  }
}

function status(e: Entry): TargetStatus {
  return {
    key: e.key,
    target: e.config.target,
    type: e.config.spec.type,
    healthy: e.state.healthy,
    consecutiveOk: e.state.consecutiveOk,
    consecutiveFail: e.state.consecutiveFail,
    ...(e.last ? { lastResult: e.last } : {}),
    ...(e.lastChangeAt !== undefined ? { lastChangeAt: e.lastChangeAt } : {}),
    probes: e.probes,
    failures: e.failures,
    ...(e.latencyEwmaMs !== undefined ? { latencyEwmaMs: e.latencyEwmaMs } : {}),
  };
}

function validate(key: string, c: CheckConfig): void {
  const bad = (what: string): never => {
    throw new RangeError(`health check ${key}: ${what}`);
  };
  if (!(c.intervalMs > 0)) bad(`intervalMs must be > 0, got ${c.intervalMs}`);
  if (!(c.spec.timeoutMs > 0)) bad(`timeoutMs must be > 0, got ${c.spec.timeoutMs}`);
  if (c.retryDelayMs !== undefined && !(c.retryDelayMs > 0)) bad(`retryDelayMs must be > 0, got ${c.retryDelayMs}`);
  if (c.warmupMs !== undefined && !(c.warmupMs >= 0)) bad(`warmupMs must be >= 0, got ${c.warmupMs}`);
  for (const [name, v] of [['rise', c.rise], ['fall', c.fall]] as const) {
    if (v !== undefined && !(Number.isInteger(v) && v >= 1)) bad(`${name} must be an integer >= 1, got ${v}`);
  }
  if (!(Number.isInteger(c.target.port) && c.target.port >= 0 && c.target.port <= 65535)) bad(`bad port ${c.target.port}`);
}

function sameTiming(a: CheckConfig, b: CheckConfig): boolean {
  return a.intervalMs === b.intervalMs && a.retryDelayMs === b.retryDelayMs && a.warmupMs === b.warmupMs;
}

/** Same address, port and probe spec (Buffers and RegExps compared by content). */
function sameProbe(a: CheckConfig, b: CheckConfig): boolean {
  return canonical({ t: a.target, s: a.spec }) === canonical({ t: b.target, s: b.spec });
}

function canonical(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => {
    if (v instanceof RegExp) return `re:${v.source}/${v.flags}`;
    if (v instanceof Uint8Array) return `bytes:${Buffer.from(v).toString('hex')}`;
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      return Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([x], [y]) => x.localeCompare(y)));
    }
    return v;
  });
}
