/**
 * `read`, shared by the callers of the next `ms` milliseconds: one scrape reads the kernel once
 * for all the metrics that need it, and a burst of requests does not multiply the reads.
 */
export function cachedFor<T>(ms: number, read: () => Promise<T>, now: () => number = () => performance.now()): () => Promise<T> {
  let last: { at: number; value: Promise<T> } | undefined;
  return () => {
    if (!last || now() - last.at >= ms) {
      const value = read();
      last = { at: now(), value };
      // A failed read is not kept: the next caller tries again.
      value.catch(() => { if (last?.value === value) last = undefined; });
    }
    return last.value;
  };
}
