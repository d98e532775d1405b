// The BIRD 2 process of one agent: configuration written under the state directory, the daemon
// started (or adopted: an agent restart keeps the running BIRD and its routes), reloaded with
// `birdc configure`, and read with `birdc show protocols`. The routing daemon is BIRD's: nothing
// here speaks BGP. Its control socket is the only handle, so a BIRD left by an earlier agent is
// found again by it. In `sidecar` mode BIRD is another container's process (the chart's `bird`
// sidecar starts it once the first configuration is written): the agent never starts or stops
// it, it only writes the configuration and reloads it.
import { spawn, type ChildProcess } from 'node:child_process';
import { execFile } from 'node:child_process';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
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
  /** `child` (default): the agent starts BIRD. `sidecar`: another container runs it on `socket`. */
  mode?: BirdMode;
  /** Sidecar mode: how long apply() waits for BIRD to answer after writing its first configuration. */
  sidecarWaitMs?: number;
  log: Logger;
}

export type BirdMode = 'child' | 'sidecar';

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
    if (Buffer.byteLength(this.socket) > 107) throw new Error(`BIRD control socket path too long for a unix socket (${this.socket}): give a shorter --bird-dir (or --state-dir)`);
    const up = await this.alive();
    if (up && text === this.lastText) return 'unchanged';
    await this.write(text);
    if (up) {
      await this.configure();
      this.lastText = text;
      return 'reconfigured';
    }
    if (this.o.mode === 'sidecar') {
      await this.awaitSidecar();
      // The sidecar may have started on an older file: load this one.
      await this.configure();
    } else {
      await this.start();
    }
    this.lastText = text;
    return 'started';
  }

  /**
   * Writes bird.conf once BIRD has parsed it (`bird -p`): a file BIRD would refuse never replaces
   * the last good one, which a restarted BIRD (a sidecar's container restart) loads.
   */
  private async write(text: string): Promise<void> {
    await mkdir(this.o.dir, { recursive: true, mode: 0o700 });
    const tmp = `${this.config}.tmp`;
    await writeFile(tmp, text, { mode: 0o600 });
    const check = await run(this.bird, ['-p', '-c', tmp], { encoding: 'utf8' }).catch((e: { stderr?: string; message: string }) => ({ stderr: e.stderr ?? e.message, failed: true }));
    if ('failed' in check) {
      await rm(tmp, { force: true });
      throw new Error(`BIRD refused the configuration (the last good one stays in ${this.config}): ${check.stderr.trim()}`);
    }
    await rename(tmp, this.config);
  }

  private async configure(): Promise<void> {
    const out = await this.birdcRun('configure');
    if (!/Reconfigur|Configuration OK/.test(out)) throw new Error(`birdc configure: ${out.trim()}`);
  }

  private async awaitSidecar(): Promise<void> {
    const end = Date.now() + (this.o.sidecarWaitMs ?? 15_000);
    while (Date.now() < end) {
      if (await this.alive()) {
        this.o.log.info({ socket: this.socket }, 'BIRD sidecar answering');
        return;
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`no BIRD answers on ${this.socket}: the bird sidecar container starts it once ${this.config} exists (is the sidecar running, with the same volume?)`);
  }

  private async start(): Promise<void> {
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

  /**
   * Stops BIRD (ours or adopted): `birdc down`, then waits for our child to exit. A sidecar's
   * BIRD is not ours to stop (its container would restart it on the last file): it is given
   * `idle`, a configuration without sessions, and keeps running.
   */
  async stop(idle: string): Promise<void> {
    if (this.o.mode === 'sidecar') {
      if (this.lastText === idle) return;
      await this.write(idle);
      if (await this.alive()) await this.configure();
      this.lastText = idle;
      return;
    }
    this.lastText = undefined;
    const child = this.child;
    await this.birdcRun('down').catch(() => undefined);
    if (child && child.exitCode === null && child.signalCode === null) {
      await Promise.race([new Promise((r) => child.once('exit', r)), new Promise((r) => setTimeout(r, 3000))]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  }
}
