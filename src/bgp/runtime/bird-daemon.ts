// The BIRD 2 process of one agent: configuration written under the state directory, the daemon
// started (or adopted: an agent restart keeps the running BIRD and its routes), reloaded with
// `birdc configure`, and read with `birdc show protocols`. The routing daemon is BIRD's: nothing
// here speaks BGP. Its control socket is the only handle, so a BIRD left by an earlier agent is
// found again by it.
import { spawn, type ChildProcess } from 'node:child_process';
import { execFile } from 'node:child_process';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Logger } from 'pino';

const run = promisify(execFile);

export interface BirdDaemonOptions {
  /** Directory for bird.conf (mode 0600: it may hold MD5 passwords) and, by default, the control socket. */
  dir: string;
  /** Control socket (a unix socket path is at most 107 bytes). */
  socket?: string;
  birdBin?: string;
  birdcBin?: string;
  log: Logger;
}

export class BirdDaemon {
  readonly config: string;
  readonly socket: string;
  private child: ChildProcess | undefined;
  private lastText: string | undefined;
  private readonly bird: string;
  private readonly birdc: string;

  constructor(private readonly o: BirdDaemonOptions) {
    this.config = join(o.dir, 'bird.conf');
    this.socket = o.socket ?? join(o.dir, 'bird.ctl');
    this.bird = o.birdBin ?? 'bird';
    this.birdc = o.birdcBin ?? 'birdc';
  }

  /** `birdc` with our socket; rejects when BIRD does not answer. */
  async birdcRun(...args: string[]): Promise<string> {
    const { stdout } = await run(this.birdc, ['-s', this.socket, ...args], { timeout: 5000, encoding: 'utf8' });
    return stdout;
  }

  /** Whether a BIRD answers on our socket (ours, or one an earlier agent started). */
  async alive(): Promise<boolean> {
    return this.birdcRun('show', 'status').then((out) => /Daemon is up and running/.test(out), () => false);
  }

  /**
   * Makes BIRD run `text`: written, then loaded by a reload of the running daemon or by starting
   * one. Unchanged text with a live daemon does nothing. Throws with BIRD's message when it
   * refuses the configuration (the old one stays in force).
   */
  async apply(text: string): Promise<'unchanged' | 'reconfigured' | 'started'> {
    // Checked here, not at construction: an agent without BGP groups never needs the socket.
    if (Buffer.byteLength(this.socket) > 107) throw new Error(`BIRD control socket path too long for a unix socket (${this.socket}): give a shorter --state-dir`);
    const up = await this.alive();
    if (up && text === this.lastText) return 'unchanged';
    await mkdir(this.o.dir, { recursive: true, mode: 0o700 });
    const tmp = `${this.config}.tmp`;
    await writeFile(tmp, text, { mode: 0o600 });
    await rename(tmp, this.config);
    if (up) {
      const out = await this.birdcRun('configure');
      if (!/Reconfigur|Configuration OK/.test(out)) throw new Error(`birdc configure: ${out.trim()}`);
      this.lastText = text;
      return 'reconfigured';
    }
    await this.start();
    this.lastText = text;
    return 'started';
  }

  private async start(): Promise<void> {
    const check = await run(this.bird, ['-p', '-c', this.config], { encoding: 'utf8' }).catch((e: { stderr?: string; message: string }) => ({ stderr: e.stderr ?? e.message, failed: true }));
    if ('failed' in check) throw new Error(`BIRD refused ${this.config}: ${check.stderr.trim()}`);
    // -f: in the foreground, our child; it outlives a killed agent (and is adopted by the next).
    const child = spawn(this.bird, ['-f', '-c', this.config, '-s', this.socket], { stdio: ['ignore', 'ignore', 'pipe'] });
    this.child = child;
    child.stderr?.on('data', (b: Buffer) => this.o.log.warn({ stderr: b.toString().trim() }, 'bird'));
    child.on('exit', (code, signal) => {
      if (this.child === child) this.child = undefined;
      this.lastText = undefined;
      this.o.log.info({ pid: child.pid, code, signal }, 'BIRD exited');
    });
    for (let i = 0; i < 100; i++) {
      if (await this.alive()) {
        this.o.log.info({ pid: child.pid, config: this.config, socket: this.socket }, 'BIRD started');
        return;
      }
      if (child.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error('BIRD did not come up on its control socket');
  }

  async showProtocols(): Promise<string> {
    return this.birdcRun('show', 'protocols');
  }

  /** Stops BIRD (ours or adopted): `birdc down`, then waits for our child to exit. */
  async stop(): Promise<void> {
    this.lastText = undefined;
    const child = this.child;
    await this.birdcRun('down').catch(() => undefined);
    if (child && child.exitCode === null && child.signalCode === null) {
      await Promise.race([new Promise((r) => child.once('exit', r)), new Promise((r) => setTimeout(r, 3000))]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  }
}
