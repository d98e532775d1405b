// The controller process as the benchmarks run it: the image's V8 flags, a free metrics port,
// its memory and CPU from /proc, its Prometheus metrics.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { sleep } from './shapes.js';

// The controller's V8 flags as the chart gives them (controller.nodeOptions in
// charts/lvs-operator/values.yaml, less --enable-source-maps); LVS_CONTROLLER_NODE_FLAGS='' runs
// it with Node's defaults.
const chartNodeFlags = '--max-old-space-size=384 --max-semi-space-size=8';
export const controllerNodeFlags = (): string[] => (process.env.LVS_CONTROLLER_NODE_FLAGS ?? chartNodeFlags).split(' ').filter(Boolean);

export function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => res(port));
    });
  });
}

/** VmRSS, VmHWM (MB) and CPU seconds of a process. */
export function proc(pid: number): { rss: number; hwm: number; cpu: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (f: string): number => Number(new RegExp(`${f}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  // utime and stime: fields 14 and 15, counted after the command's closing parenthesis.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(f[11]) + Number(f[12]);
  return { rss: kb('VmRSS') / 1024, hwm: kb('VmHWM') / 1024, cpu: ticks / 100 };
}

export async function metrics(port: number): Promise<Map<string, number>> {
  let text: string | undefined;
  // A scrape can fail while the controller is busy (a heap snapshot stops it for a minute): try again.
  for (let attempt = 1; text === undefined; attempt++) {
    try {
      text = await (await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(120_000) })).text();
    } catch (err) {
      if (attempt >= 10) throw err;
      await sleep(5000);
    }
  }
  const m = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    m.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return m;
}

/** Sum of a metric over the series whose labels contain every `match` fragment. */
export function sum(m: Map<string, number>, name: string, ...match: string[]): number {
  let s = 0;
  for (const [k, v] of m) if ((k === name || k.startsWith(`${name}{`)) && match.every((x) => k.includes(x))) s += v;
  return s;
}
