// Time as the VRRP state machine sees it: milliseconds (fractions allowed, since Skew_Time is
// (256 - priority) / 256 of an interval) and one-shot timers. Tests inject a fake clock.

export type TimerHandle = { readonly __timer: unique symbol };

export interface Clock {
  /** Monotonic milliseconds; only differences matter. */
  now(): number;
  setTimer(delayMs: number, fire: () => void): TimerHandle;
  cancel(handle: TimerHandle): void;
}

interface RealTimer {
  timeout?: ReturnType<typeof setTimeout> | undefined;
  immediate?: ReturnType<typeof setImmediate> | undefined;
}

/**
 * The real clock: performance.now() and setTimeout (which rounds to whole milliseconds). A timer
 * fires one event-loop turn late, from setImmediate: Node runs expired timers before it reads
 * sockets, so after the loop was held up (a busy agent on a loaded node) a Backup's
 * Master_Down_Interval would expire before the adverts waiting in its socket were read, and it
 * would take over from a live master. Deferred, the adverts are read first, re-arm the timer,
 * and the stale expiry is cancelled with it (seen in the lab: a restarted agent became master
 * 0.7 s after its start while the master advertised every 100 ms).
 */
export const systemClock: Clock = {
  now: () => performance.now(),
  setTimer: (delayMs, fire) => {
    const t: RealTimer = {};
    t.timeout = setTimeout(() => {
      t.timeout = undefined;
      t.immediate = setImmediate(() => {
        t.immediate = undefined;
        fire();
      });
    }, delayMs);
    return t as unknown as TimerHandle;
  },
  cancel: (handle) => {
    const t = handle as unknown as RealTimer;
    if (t.timeout) clearTimeout(t.timeout);
    if (t.immediate) clearImmediate(t.immediate);
    t.timeout = undefined;
    t.immediate = undefined;
  },
};
