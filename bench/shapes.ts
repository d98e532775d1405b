// What the convergence benchmarks share: the cluster's shapes and small helpers.
// A VIP needs a VRRP router id (1..255 per interface), so services share 50 VIPs on many ports,
// as large LVS sites do; real server addresses are unique, up to 125,000, away from the lab LANs.
export const vipOf = (i: number): string => `10.252.0.${(i % 50) + 1}`;
export const portOf = (i: number): number => 1000 + i;
export const realServerAddress = (backends: number) => (i: number, j: number): string => {
  const k = i * backends + j;
  return `10.${128 + Math.floor(k / 62_500)}.${Math.floor(k / 250) % 250}.${(k % 250) + 1}`;
};

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Runs `fn` over `items`, `width` at a time. */
export async function pool<T>(items: readonly T[], width: number, fn: (t: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < items.length) await fn(items[next++]!);
  }));
}

/** The p-th percentile of ascending `sorted`. */
export function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}
