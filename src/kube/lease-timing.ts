/**
 * client-go's checks on leader election timings: the lease outlasts the renew deadline (the
 * margin covers a leader's requests still in flight when it stops), and the renew deadline
 * leaves room for a failed renewal to be retried (1.2: the retry jitter). No imports, so the
 * command line can check its flags without loading a Kubernetes client.
 */
export function leaseTimingError(leaseMs: number, renewDeadlineMs: number, retryMs: number): string | undefined {
  if (!(retryMs > 0)) return 'retry period must be positive';
  if (!(renewDeadlineMs > retryMs * 1.2)) return 'renew deadline must exceed 1.2 x retry period';
  if (!(leaseMs > renewDeadlineMs)) return 'lease duration must exceed renew deadline';
  return undefined;
}
