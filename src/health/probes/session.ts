import { performance } from 'node:perf_hooks';
import type { ProbeResult } from '../types.js';
import { abortText, describeError } from './abort.js';

export type Finish = (ok: boolean, reason?: string) => void;

/**
 * One probe run: `start` opens sockets and returns their teardown; whichever comes first
 * of finish(), an error thrown by start, or the signal decides the result, exactly once,
 * and the teardown always runs. Latency is measured from the call to the decision.
 */
export function probeSession(
  signal: AbortSignal,
  start: (finish: Finish) => () => void,
  onAbort: (signal: AbortSignal) => { ok: boolean; reason?: string } = (s) => ({ ok: false, reason: abortText(s) }),
): Promise<ProbeResult> {
  const began = performance.now();
  return new Promise<ProbeResult>((resolve) => {
    let done = false;
    let teardown: (() => void) | undefined;
    const finish: Finish = (ok, reason) => {
      if (done) return;
      done = true;
      signal.removeEventListener('abort', abortListener);
      teardown?.();
      const latencyMs = performance.now() - began;
      resolve(ok && reason === undefined ? { ok, latencyMs } : { ok, latencyMs, reason });
    };
    const abortListener = (): void => {
      const r = onAbort(signal);
      finish(r.ok, r.reason);
    };
    if (signal.aborted) {
      abortListener();
      return;
    }
    signal.addEventListener('abort', abortListener, { once: true });
    try {
      teardown = start(finish);
    } catch (err) {
      finish(false, describeError(err));
    }
    // finish() may have run inside start(), before teardown was known.
    if (done) teardown?.();
  });
}
