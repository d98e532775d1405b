/** Abort reason used for probe deadlines, so a probe can tell "deadline reached" from "cancelled". */
export class ProbeTimeoutError extends Error {
  constructor(readonly ms: number) {
    super(`timeout after ${ms}ms`);
    this.name = 'ProbeTimeoutError';
  }
}

/**
 * A signal that aborts with ProbeTimeoutError after `ms` of real time, or when `parent` aborts.
 * For callers outside the checker (CLI, tests); the checker builds its own on its injected clock.
 */
export function deadlineSignal(ms: number, parent?: AbortSignal): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new ProbeTimeoutError(ms)), ms);
  const onParentAbort = (): void => controller.abort(parent?.reason);
  parent?.addEventListener('abort', onParentAbort, { once: true });
  if (parent?.aborted) onParentAbort();
  return {
    signal: controller.signal,
    dispose: () => {
      clearTimeout(timer);
      parent?.removeEventListener('abort', onParentAbort);
    },
  };
}

export function isTimeout(signal: AbortSignal): boolean {
  return signal.aborted && signal.reason instanceof ProbeTimeoutError;
}

/** Text for a probe that ended because its signal fired. */
export function abortText(signal: AbortSignal): string {
  return signal.reason instanceof ProbeTimeoutError ? signal.reason.message : 'aborted';
}

/** Short, stable text for a socket/TLS/HTTP error: `connect ECONNREFUSED`, `DEPTH_ZERO_SELF_SIGNED_CERT: ...`. */
export function describeError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const { code, syscall } = err as NodeJS.ErrnoException;
  if (code && syscall) return `${syscall} ${code}`;
  if (code) return `${code}: ${err.message}`;
  return err.message;
}
