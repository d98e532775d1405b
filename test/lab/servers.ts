// Real TCP servers and clients inside lab namespaces, for tests that send real packets.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Netns } from './netns.js';

const serverScript = fileURLToPath(new URL('./name-server.mjs', import.meta.url));
const clientScript = fileURLToPath(new URL('./name-client.mjs', import.meta.url));

export interface RunningServer { stop(): Promise<void> }

/** Starts a server in `ns` that answers each connection with `name`; resolves once it listens. */
export function startNameServer(ns: Netns, host: string, port: number, name: string): Promise<RunningServer> {
  const [cmd, ...args] = ns.command(process.execPath, [serverScript, host, String(port), name]);
  const child = spawn(cmd!, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => { stderr += d; });
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const closed = new Promise<void>((r) => child.once('close', () => r()));
    child.kill('SIGKILL');
    await closed;
  };
  return new Promise((resolve, reject) => {
    child.stdout.once('data', () => resolve({ stop }));
    child.once('close', (code) => reject(new Error(`name server ${name} exited (${code}): ${stderr.trim()}`)));
  });
}

/** Makes `count` sequential connections from `ns` and returns who answered how often. */
export async function tallyConnections(ns: Netns, host: string, port: number, count: number): Promise<Record<string, number>> {
  const { stdout } = await ns.exec(process.execPath, [clientScript, host, String(port), String(count)]);
  return JSON.parse(stdout.trim()) as Record<string, number>;
}

const httpScript = fileURLToPath(new URL('./http-server.mjs', import.meta.url));
const loadScript = fileURLToPath(new URL('./load-client.mjs', import.meta.url));

export interface HttpServer extends RunningServer {
  /** Changes the status code of every later answer. */
  setStatus(code: number): void;
}

/** An HTTP(S) server in `ns` answering with `name`; HTTPS needs `certDir` with key.pem and cert.pem. */
export function startHttpServer(ns: Netns, scheme: 'http' | 'https', host: string, port: number, name: string, certDir = ''): Promise<HttpServer> {
  const [cmd, ...args] = ns.command(process.execPath, [httpScript, scheme, host, String(port), name, '200', certDir]);
  const child = spawn(cmd!, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => { stderr += d; });
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const closed = new Promise<void>((r) => child.once('close', () => r()));
    child.kill('SIGKILL');
    await closed;
  };
  return new Promise((resolve, reject) => {
    child.stdout.once('data', () => resolve({ stop, setStatus: (code) => child.stdin.write(`${code}\n`) }));
    child.once('close', (code) => reject(new Error(`http server ${name} exited (${code}): ${stderr.trim()}`)));
  });
}

/** Starts back-to-back connections from `ns` for `durationMs`; resolves with the tally when done. */
export async function steadyLoad(ns: Netns, host: string, port: number, durationMs: number): Promise<Record<string, number>> {
  const { stdout } = await ns.exec(process.execPath, [loadScript, host, String(port), String(durationMs)]);
  return JSON.parse(stdout.trim()) as Record<string, number>;
}
