// A deterministic Clock for unit tests: time only moves when the test says so, and timers
// fire in due-time order (then in the order they were set), each seeing now() == its due time.
import type { Clock, TimerHandle } from './clock.js';

export interface PendingTimer {
  id: number;
  /** When it was set and for how long: tests assert exact VRRP timer values with these. */
  setAt: number;
  delayMs: number;
  dueAt: number;
}

interface Entry extends PendingTimer {
  fire: () => void;
}

export class FakeClock implements Clock {
  private time: number;
  private nextId = 1;
  private readonly entries = new Map<number, Entry>();

  constructor(start = 0) {
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  setTimer(delayMs: number, fire: () => void): TimerHandle {
    if (!(delayMs >= 0)) throw new RangeError(`timer delay must be >= 0, got ${delayMs}`);
    const id = this.nextId++;
    this.entries.set(id, { id, setAt: this.time, delayMs, dueAt: this.time + delayMs, fire });
    return id as unknown as TimerHandle;
  }

  cancel(handle: TimerHandle): void {
    this.entries.delete(handle as unknown as number);
  }

  /** Timers not yet fired, soonest first. */
  pending(): PendingTimer[] {
    return [...this.entries.values()]
      .sort((a, b) => a.dueAt - b.dueAt || a.id - b.id)
      .map(({ id, setAt, delayMs, dueAt }) => ({ id, setAt, delayMs, dueAt }));
  }

  /** Move time forward by `ms`, firing every timer that falls due on the way (including new ones). */
  advance(ms: number): void {
    this.advanceTo(this.time + ms);
  }

  advanceTo(t: number): void {
    if (t < this.time) throw new RangeError(`cannot go back in time from ${this.time} to ${t}`);
    for (;;) {
      const next = this.soonest();
      if (!next || next.dueAt > t) break;
      this.entries.delete(next.id);
      this.time = next.dueAt;
      next.fire();
    }
    this.time = t;
  }

  /** Move time to the soonest pending timer and fire every timer due then; false when none is pending. */
  step(): boolean {
    const next = this.soonest();
    if (!next) return false;
    this.advanceTo(next.dueAt);
    return true;
  }

  private soonest(): Entry | undefined {
    let best: Entry | undefined;
    for (const e of this.entries.values()) {
      if (!best || e.dueAt < best.dueAt || (e.dueAt === best.dueAt && e.id < best.id)) best = e;
    }
    return best;
  }
}
