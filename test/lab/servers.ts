// Real TCP servers and clients inside lab namespaces, for tests that send real packets.
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Netns } from './netns.js';
import { spawnTracked } from './reaper.js';

const serverScript = fileURLToPath(new URL('./name-server.mjs', import.meta.url));
const clientScript = fileURLToPath(new URL('./name-client.mjs', import.meta.url));

export interface RunningServer { stop(): Promise<void> }

/** Spawns a server script in `ns`; resolves with the child once it prints its first line (listening). */
function spawnServer(ns: Netns, script: string, args: string[], what: string): Promise<{ child: ChildProcess; stop: () => Promise<void> }> {
  const [cmd, ...rest] = ns.command(process.execPath, [script, ...args]);
  const { child } = spawnTracked(cmd!, rest, { name: what, stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => { stderr += d; });
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const closed = new Promise<void>((r) => child.once('close', () => r()));
    child.kill('SIGKILL');
    await closed;
  };
  return new Promise((resolve, reject) => {
    child.stdout!.once('data', () => resolve({ child, stop }));
    child.once('close', (code) => reject(new Error(`${what} exited (${code}): ${stderr.trim()}`)));
  });
}

/** Starts a server in `ns` that answers each connection with `name`; resolves once it listens. */
export async function startNameServer(ns: Netns, host: string, port: number, name: string): Promise<RunningServer> {
  const { stop } = await spawnServer(ns, serverScript, [host, String(port), name], `name server ${name}`);
  return { stop };
}

/** How a client reads who served it: the name protocol (the server writes it), or an HTTP GET's body. */
export type TallyMode = 'name' | 'http';

/** Makes `count` sequential connections from `ns` and returns who answered how often. */
export async function tallyConnections(ns: Netns, host: string, port: number, count: number, mode: TallyMode = 'name'): Promise<Record<string, number>> {
  const { stdout } = await ns.exec(process.execPath, [clientScript, host, String(port), String(count), '3000', mode]);
  return JSON.parse(stdout.trim()) as Record<string, number>;
}

const httpScript = fileURLToPath(new URL('./http-server.mjs', import.meta.url));

export interface HttpServer extends RunningServer {
  /** Changes the status code of every later answer. */
  setStatus(code: number): void;
}

/** An HTTP(S) server in `ns` answering with `name`; HTTPS needs `certDir` with key.pem and cert.pem. */
export async function startHttpServer(ns: Netns, scheme: 'http' | 'https', host: string, port: number, name: string, certDir = ''): Promise<HttpServer> {
  const { child, stop } = await spawnServer(ns, httpScript, [scheme, host, String(port), name, '200', certDir], `http server ${name}`);
  return { stop, setStatus: (code) => child.stdin!.write(`${code}\n`) };
}

/** Starts back-to-back connections from `ns` for `durationMs`; resolves with the tally when done. */
export async function steadyLoad(ns: Netns, host: string, port: number, durationMs: number, mode: TallyMode = 'name'): Promise<Record<string, number>> {
  const { stdout } = await ns.exec(process.execPath, [clientScript, host, String(port), `${durationMs}ms`, '3000', mode]);
  return JSON.parse(stdout.trim()) as Record<string, number>;
}
