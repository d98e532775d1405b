// Time as the VRRP state machine sees it: milliseconds (fractions allowed, since Skew_Time is
// (256 - priority) / 256 of an interval) and one-shot timers. Tests inject a fake clock.

export type TimerHandle = { readonly __timer: unique symbol };

export interface Clock {
  /** Monotonic milliseconds; only differences matter. */
  now(): number;
  setTimer(delayMs: number, fire: () => void): TimerHandle;
  cancel(handle: TimerHandle): void;
}

/** The real clock: performance.now() and setTimeout (which rounds to whole milliseconds). */
export const systemClock: Clock = {
  now: () => performance.now(),
  setTimer: (delayMs, fire) => setTimeout(fire, delayMs) as unknown as TimerHandle,
  cancel: (handle) => clearTimeout(handle as unknown as ReturnType<typeof setTimeout>),
};
