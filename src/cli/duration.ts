/** Go-style durations as Kubernetes flags use them: `500ms`, `15s`, `2m`, `1h30m`. Returns milliseconds. */
export function parseDuration(text: string): number {
  const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/gy;
  let total = 0;
  let matched = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    total += Number(m[1]) * (units[m[2] as string] ?? 0);
    matched = re.lastIndex;
  }
  if (text === '' || matched !== text.length) throw new Error(`invalid duration ${JSON.stringify(text)} (use e.g. 500ms, 15s, 2m, 1h)`);
  return total;
}
