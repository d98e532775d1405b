// Host side of bench/failover-traffic.mjs: echo servers on the real servers, long-lived
// connections and probes from the client namespace, and the figures a failover drill reports.
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Netns } from '../test/lab/netns.js';
import { spawnTracked } from '../test/lab/reaper.js';

const script = fileURLToPath(new URL('./failover-traffic.mjs', import.meta.url));

interface Line { ev: string; [k: string]: unknown }

function start(ns: Netns, args: string[]): { child: ChildProcess; lines: Line[]; next(ev: string, timeoutMs: number): Promise<Line> } {
  const [cmd, ...rest] = ns.command(process.execPath, [script, ...args]);
  const { child } = spawnTracked(cmd!, rest, { name: `failover-traffic ${args[0]}`, stdio: ['pipe', 'pipe', 'inherit'] });
  const lines: Line[] = [];
  const waiters: { ev: string; from: number; resolve(l: Line): void }[] = [];
  createInterface({ input: child.stdout! }).on('line', (text) => {
    let l: Line;
    try { l = JSON.parse(text) as Line; } catch { return; }
    lines.push(l);
    for (const w of [...waiters]) {
      if (w.ev === l.ev) { waiters.splice(waiters.indexOf(w), 1); w.resolve(l); }
    }
  });
  const next = (ev: string, timeoutMs: number): Promise<Line> => new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no ${ev} from failover-traffic ${args[0]} within ${timeoutMs} ms`)), timeoutMs);
    waiters.push({ ev, from: lines.length, resolve: (l) => { clearTimeout(t); resolve(l); } });
  });
  return { child, lines, next };
}

const stopChild = async (child: ChildProcess): Promise<void> => {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const closed = new Promise<void>((r) => child.once('close', () => r()));
  child.kill('SIGKILL');
  await closed;
};

export interface EchoServer { stop(): Promise<void> }

/** A line-echo server in `ns` answering "<name> <line>". */
export async function startEchoServer(ns: Netns, port: number, name: string): Promise<EchoServer> {
  const p = start(ns, ['server', '0.0.0.0', String(port), name]);
  await p.next('listening', 20_000);
  return { stop: () => stopChild(p.child) };
}

export interface HoldReport { established: number; lost: number; reasons: string[]; maxGapMs: number; answered: number; by: string[]; ports: number[]; lostDetail: { port: number; by: string; at: string; why: string }[] }

export interface HeldConnections {
  /** Resolves once every connection has had an answer. */
  ready: Promise<void>;
  report(): Promise<HoldReport>;
  stop(): Promise<void>;
}

/** `count` long-lived connections from `ns` to host:port, each sending a line every `everyMs`. */
export function holdConnections(ns: Netns, host: string, port: number, count: number, everyMs: number): HeldConnections {
  const p = start(ns, ['hold', host, String(port), String(count), String(everyMs)]);
  return {
    ready: p.next('ready', 30_000).then(() => undefined),
    async report() {
      const r = p.next('report', 10_000);
      p.child.stdin!.write('report\n');
      return (await r) as unknown as HoldReport;
    },
    stop: () => stopChild(p.child),
  };
}

/**
 * Whether an `ipvsadm -Lnc` listing has an ESTABLISHED entry for every held connection (by the
 * client's port). A backup learns a connection from the sync daemon at its third packet, and the
 * master sends its sync buffer when full or after up to 2 s (IPVS_SYNC_FLUSH_TIME): a handover
 * before that resets the connections the new master never heard of, as with keepalived. Drills
 * wait for this, so they measure established connections, not the sync daemon's flush delay.
 */
export function knowsEvery(ipvsadmLnc: string, vip: string, port: number, clientPorts: readonly number[]): boolean {
  const known = new Set<number>();
  for (const l of ipvsadmLnc.split('\n')) {
    const m = /ESTABLISHED\s+\S+:(\d+)\s+(\S+)\s/.exec(l);
    if (m && m[2] === `${vip}:${port}`) known.add(Number(m[1]));
  }
  return clientPorts.every((p) => known.has(p));
}

export interface Probe { start: number; end: number; ok: boolean; by: string; /** A failure's kind (ECONNRESET, timeout, ... 'after connect' when the handshake had completed). */ why?: string }

export interface Prober {
  probes: Probe[];
  stop(): Promise<void>;
}

/** A fresh connection to host:port every `everyMs` (overlapping), each given `timeoutMs`. */
export function startProbes(ns: Netns, host: string, port: number, everyMs: number, timeoutMs: number): Prober {
  const p = start(ns, ['probe', host, String(port), String(everyMs), String(timeoutMs)]);
  const probes: Probe[] = [];
  createInterface({ input: p.child.stdout! }).on('line', (text) => {
    try {
      const l = JSON.parse(text) as Probe & { ev: string };
      if (l.ev === 'probe') probes.push({ start: l.start, end: l.end, ok: l.ok, by: l.by, ...(l.why ? { why: l.why } : {}) });
    } catch { /* partial line */ }
  });
  return { probes, stop: () => stopChild(p.child) };
}

/**
 * Time from `killAt` until the VIP serves again: the earliest answer to a connection begun after
 * the kill (an older connection may only be answered after a long SYN retransmission).
 */
export function recoveryMs(probes: readonly Probe[], killAt: number): number | undefined {
  const ends = probes.filter((p) => p.ok && p.start >= killAt).map((p) => p.end);
  return ends.length ? Math.min(...ends) - killAt : undefined;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The longest time without a successful answer after `from` (probe answers, by completion). */
export function longestGapMs(probes: readonly Probe[], from: number): number {
  const ends = probes.filter((p) => p.ok && p.end >= from).map((p) => p.end).sort((a, b) => a - b);
  let gap = 0;
  let prev = from;
  for (const e of ends) {
    gap = Math.max(gap, e - prev);
    prev = e;
  }
  return gap;
}
