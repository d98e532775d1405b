// The source-NAT tests' peers (snat-peer.mjs) driven from a test: servers that say who they are
// and whom they saw, a tally of answers, and one connection held open.
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { expect } from 'vitest';
import type { Netns } from '../../lab/netns.js';
import { spawnTracked } from '../../lab/reaper.js';

const peer = fileURLToPath(new URL('./snat-peer.mjs', import.meta.url));

/** A server in `ns` on port 8080 answering "<name> <source address it saw> <line>"; resolves with its stop once it listens. */
export async function startPeerServer(ns: Netns, name: string): Promise<() => Promise<void>> {
  const [cmd, ...args] = ns.command(process.execPath, [peer, 'server', '0.0.0.0', '8080', name]);
  const { child, stop } = spawnTracked(cmd!, args, { name: `snat server ${name}`, stdio: ['pipe', 'pipe', 'pipe'] });
  await new Promise((r) => child.stdout!.once('data', r));
  return stop;
}

/** `count` connections to vip:80 one after another: {"rs1 10.0.0.1": 3, "error:timeout": 1}. */
export async function tally(client: Netns, vip: string, count: number): Promise<Record<string, number>> {
  const { stdout } = await client.exec(process.execPath, [peer, 'tally', vip, '80', String(count)]);
  return JSON.parse(stdout.trim()) as Record<string, number>;
}

/** One connection to vip:80 held open; `say` sends a line and resolves with the answer (or an `error:` line). */
export async function hold(client: Netns, vip: string): Promise<{ say(line: string): Promise<string>; stop(): Promise<void> }> {
  const [cmd, ...args] = client.command(process.execPath, [peer, 'hold', vip, '80']);
  const { child, stop } = spawnTracked(cmd!, args, { name: 'snat hold client', stdio: ['pipe', 'pipe', 'pipe'] });
  const lines: string[] = [];
  const waiters: ((l: string) => void)[] = [];
  createInterface({ input: child.stdout! }).on('line', (l) => { const w = waiters.shift(); if (w) w(l); else lines.push(l); });
  const next = (): Promise<string> => (lines.length ? Promise.resolve(lines.shift()!) : new Promise((r) => waiters.push(r)));
  expect(await next()).toBe('connected');
  return { say: (line) => { child.stdin!.write(`${line}\n`); return next(); }, stop };
}
