// In-memory fakes for the checker's pure-logic tests: a manual clock and a scripted probe.
import type { Clock, TimerHandle } from '../../../src/health/clock.js';
import { abortText } from '../../../src/health/probes/abort.js';
import type { Probe, ProbeResult, ProbeTarget } from '../../../src/health/types.js';

const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export class FakeClock implements Clock {
  private t = 0;
  private seq = 0;
  private readonly timers = new Map<number, { at: number; fn: () => void }>();

  now(): number {
    return this.t;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = ++this.seq;
    this.timers.set(id, { at: this.t + Math.max(0, ms), fn });
    return id;
  }

  clearTimeout(handle: TimerHandle): void {
    this.timers.delete(handle as number);
  }

  get pendingTimers(): number {
    return this.timers.size;
  }

  /** Moves time forward, firing due timers in order and letting promise chains settle after each. */
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    for (;;) {
      await flush();
      let nextId: number | undefined;
      let nextAt = Infinity;
      for (const [id, timer] of this.timers) {
        if (timer.at <= end && timer.at < nextAt) {
          nextAt = timer.at;
          nextId = id;
        }
      }
      if (nextId === undefined) break;
      const timer = this.timers.get(nextId)!;
      this.timers.delete(nextId);
      this.t = timer.at;
      timer.fn();
    }
    this.t = end;
    await flush();
  }
}

/**
 * up: succeeds at once; down: fails at once; hang: settles only when its signal aborts;
 * hold: settles when the test calls release() (or on abort).
 */
export type Mode = 'up' | 'down' | 'hang' | 'hold';

export class ScriptedProbe {
  readonly modes = new Map<string, Mode>();
  readonly calls: Array<{ at: number; address: string }> = [];
  private readonly held: Array<{ address: string; settle: (r: ProbeResult) => void }> = [];
  inFlight = 0;
  maxInFlight = 0;

  constructor(private readonly clock: FakeClock) {}

  set(address: string, mode: Mode): void {
    this.modes.set(address, mode);
  }

  callsFor(address: string): number[] {
    return this.calls.filter((c) => c.address === address).map((c) => c.at);
  }

  /** Settles held probes (all, or those of one address) with success. */
  release(address?: string): number {
    const mine = this.held.filter((h) => address === undefined || h.address === address);
    for (const h of mine) {
      this.held.splice(this.held.indexOf(h), 1);
      h.settle({ ok: true, latencyMs: 7 });
    }
    return mine.length;
  }

  readonly probe: Probe = (target: ProbeTarget, spec, signal) => {
    this.calls.push({ at: this.clock.now(), address: target.address });
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    const mode = this.modes.get(target.address) ?? 'up';
    return new Promise<ProbeResult>((resolve) => {
      let done = false;
      const settle = (r: ProbeResult): void => {
        if (done) return;
        done = true;
        this.inFlight--;
        resolve(r);
      };
      signal.addEventListener('abort', () => settle({ ok: false, latencyMs: spec.timeoutMs, reason: abortText(signal) }));
      if (mode === 'up') queueMicrotask(() => settle({ ok: true, latencyMs: 3 }));
      if (mode === 'down') queueMicrotask(() => settle({ ok: false, latencyMs: 1, reason: 'connect ECONNREFUSED' }));
      if (mode === 'hold') this.held.push({ address: target.address, settle });
    });
  };
}
