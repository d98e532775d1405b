import { setMaxListeners } from 'node:events';

/**
 * A fence closes when the right to write ends (a leader's renew deadline passed, or it was
 * stopped). Writes go through clients that check it just before sending and abort their
 * requests in flight when it closes, so no write starts, or waits for its answer, afterwards.
 */
export interface Fence {
  /** Aborts the moment the fence closes. */
  readonly signal: AbortSignal;
  /** Throws when closed; checks the clock itself, so a timer delayed by a busy event loop cannot let a write through. */
  check(): void;
}

export class FenceClosed extends Error {
  override name = 'FenceClosed';
}

/** Open until a time on a monotonic clock (movable with extend) or until `parent` aborts. */
export class Deadline implements Fence {
  private readonly ac = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  private readonly onParentAbort = (): void => this.close('stopped');

  constructor(
    private readonly now: () => number,
    private at: number,
    private readonly parent?: AbortSignal,
  ) {
    // Every request in flight listens on it (hundreds when Events go out in a burst).
    setMaxListeners(0, this.ac.signal);
    parent?.addEventListener('abort', this.onParentAbort, { once: true });
    if (parent?.aborted) this.close('stopped');
    this.arm();
  }

  get signal(): AbortSignal {
    return this.ac.signal;
  }

  /** The monotonic time it closes at. */
  get until(): number {
    return this.at;
  }

  get open(): boolean {
    return this.remainingMs() > 0;
  }

  /** Milliseconds left; closes the fence when none are. */
  remainingMs(): number {
    if (this.ac.signal.aborted) return 0;
    const left = this.at - this.now();
    if (left <= 0) this.close('deadline passed');
    return Math.max(0, left);
  }

  check(): void {
    this.remainingMs();
    this.ac.signal.throwIfAborted();
  }

  /** Moves the deadline later (a renewal); a closed fence stays closed. */
  extend(at: number): void {
    if (this.ac.signal.aborted || at <= this.at) return;
    this.at = at;
    this.arm();
  }

  close(why: string): void {
    clearTimeout(this.timer);
    this.parent?.removeEventListener('abort', this.onParentAbort);
    if (!this.ac.signal.aborted) this.ac.abort(new FenceClosed(why));
  }

  private arm(): void {
    clearTimeout(this.timer);
    const left = this.remainingMs();
    // Re-checked when it fires: the clock is injectable and need not match the timers'.
    if (left > 0 && Number.isFinite(left)) this.timer = setTimeout(() => this.arm(), left);
  }
}
