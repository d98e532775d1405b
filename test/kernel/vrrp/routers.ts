// Test-side handles on VRRP routers running in lab namespaces: ours (speaker-proc.ts) and a real
// keepalived 2.2.7, both as process groups so a SIGKILL to the group is a crash with no goodbye.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { VrrpInstanceSpec } from '../../../src/vrrp/runtime/index.js';
import { labDir, projectRoot } from '../../lab/paths.js';
import type { Netns } from '../../lab/netns.js';
import { tempDir, track } from '../../lab/reaper.js';

const speakerScript = fileURLToPath(new URL('./speaker-proc.ts', import.meta.url));
let speakerBundle: string | undefined;

/**
 * speaker-proc.ts bundled once per test file: `node --import tsx` would transform every module
 * again in each child (about 1.5 s per start inside UML); the bundle starts in a fraction of that.
 * Packages stay external and resolve from the project's node_modules, so it lives under .lab/.
 */
async function bundledSpeaker(): Promise<string> {
  if (speakerBundle) return speakerBundle;
  const { build } = await import('esbuild');
  const out = labDir('vrrp', `speaker-${process.pid}.mjs`);
  track(tempDir(out));
  await build({ entryPoints: [speakerScript], bundle: true, platform: 'node', format: 'esm', packages: 'external', outfile: out, logLevel: 'error' });
  speakerBundle = out;
  return out;
}

export type RouterState = 'MASTER' | 'BACKUP' | 'INIT' | 'FAULT';

export interface StateChange {
  instance: string;
  state: RouterState;
  /** Date.now() when it was reported. */
  t: number;
}

export async function waitUntil<T>(what: string, fn: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs: number, everyMs = 20): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Common to ours and keepalived: a process group with a log of state changes. */
abstract class Router {
  readonly changes: StateChange[] = [];
  protected child: ChildProcess | undefined;
  protected output = '';
  private exited: Promise<void> = Promise.resolve();

  constructor(readonly label: string, readonly ns: Netns) {}

  protected launch(cmd: string, args: string[]): void {
    const [c, ...a] = this.ns.command(cmd, args);
    const child = spawn(c!, a, { stdio: ['pipe', 'pipe', 'pipe'], detached: true, cwd: projectRoot });
    this.child = child;
    this.exited = new Promise((r) => child.once('close', () => r()));
    let buf = '';
    const onData = (d: Buffer): void => {
      this.output += d;
      buf += d;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        this.line(buf.slice(0, nl));
        buf = buf.slice(nl + 1);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
  }

  protected abstract line(text: string): void;

  /** The last reported state of `instance`. */
  state(instance: string): RouterState | undefined {
    return this.changes.filter((c) => c.instance === instance).at(-1)?.state;
  }

  /** Resolves with the change when `instance` reports `state` at or after `since` (Date.now() ms). */
  waitState(instance: string, state: RouterState, timeoutMs: number, since = 0): Promise<StateChange> {
    return waitUntil(`${this.label} ${instance} ${state}`,
      () => this.changes.find((c) => c.instance === instance && c.state === state && c.t >= since), timeoutMs)
      .catch((e: Error) => { throw new Error(`${e.message}\n--- ${this.label} output ---\n${this.output.slice(-4000)}`); });
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** A crash: SIGKILL to the whole process group, no priority 0 advert, no cleanup. */
  async kill(): Promise<number> {
    const t = Date.now();
    if (this.child?.pid !== undefined && this.running) {
      try { process.kill(-this.child.pid, 'SIGKILL'); } catch { /* gone */ }
    }
    await this.exited;
    return t;
  }

  /** A graceful stop (SIGTERM); resolves when it has exited. */
  async stop(): Promise<number> {
    const t = Date.now();
    if (this.child?.pid !== undefined && this.running) this.child.kill('SIGTERM');
    await this.exited;
    return t;
  }

  get log(): string {
    return this.output;
  }
}

export interface SpeakerReport {
  status: Record<string, unknown>[];
  stats: Record<string, unknown>;
  announced: number;
}

/** Our speaker in a namespace. */
export class OurRouter extends Router {
  readonly events: Record<string, unknown>[] = [];

  static async start(label: string, ns: Netns, specs: VrrpInstanceSpec[]): Promise<OurRouter> {
    const r = new OurRouter(label, ns);
    r.launch(process.execPath, [await bundledSpeaker(), JSON.stringify({ specs })]);
    await waitUntil(`${label} ready`, () => r.events.some((e) => e.ev === 'ready') || (!r.running && 'exited'), 30_000);
    if (!r.running) throw new Error(`${label} exited at startup:\n${r.output}`);
    return r;
  }

  protected line(text: string): void {
    if (!text.startsWith('{')) return;
    let o: Record<string, unknown>;
    try { o = JSON.parse(text) as Record<string, unknown>; } catch { return; }
    if (typeof o.ev !== 'string') return;
    this.events.push(o);
    if (o.ev === 'transition') {
      const to = String(o.to).toUpperCase() as RouterState;
      this.changes.push({ instance: String(o.instance), state: to === ('INITIALIZE' as RouterState) ? 'INIT' : to, t: Number(o.at) });
    }
  }

  /** The speaker's status() and stats() as it prints them. */
  status(): Promise<SpeakerReport> {
    return this.command({ cmd: 'status' });
  }

  /** Sends a command line to speaker-proc and resolves with the report it prints after it. */
  async command(c: { cmd: 'status' | 'refresh' } | { cmd: 'priority' | 'offset'; name: string; value: number } | { cmd: 'block'; value: number }): Promise<SpeakerReport> {
    const n = this.events.length;
    this.child!.stdin!.write(`${JSON.stringify(c)}\n`);
    const e = await waitUntil(c.cmd, () => this.events.slice(n).find((x) => x.ev === 'status' || x.ev === 'command-error'), 10_000);
    if (e.ev === 'command-error') throw new Error(`${this.label}: ${String(e.error)}`);
    return e as unknown as SpeakerReport;
  }
}

export interface KeepalivedInstance {
  name: string;
  interface: string;
  vrid: number;
  priority: number;
  /** Seconds, fractions allowed for v3 (keepalived advert_int). */
  advertInt: number;
  vips: string[];
  nopreempt?: boolean;
  authPass?: string;
  unicastSrc?: string;
  unicastPeers?: string[];
  /** keepalived check_unicast_src: drop unicast adverts whose source is not in unicast_peer. */
  checkUnicastSrc?: boolean;
  /** keepalived garp_master_repeat, garp_master_delay (s), garp_master_refresh (s), garp_master_refresh_repeat. */
  garp?: { repeat: number; delay: number; refresh: number; refreshRepeat: number };
  /** track_interface: no weight puts the instance in FAULT while the interface is down. */
  trackInterfaces?: { name: string; weight?: number }[];
}

/** A vrrp_sync_group; `trackingWeight` is keepalived's sync_group_tracking_weight (weights kept in a sync group). */
export interface KeepalivedSyncGroup {
  name: string;
  members: string[];
  trackingWeight?: boolean;
}

/** keepalived.conf for one or more instances; keepalived wants one keyword per line. */
export function keepalivedConf(version: 2 | 3, routerId: string, instances: KeepalivedInstance[], syncGroups: KeepalivedSyncGroup[] = []): string {
  const lines = ['global_defs {', `  router_id ${routerId}`, `  vrrp_version ${version}`, '  vrrp_garp_master_delay 0', '}'];
  for (const g of syncGroups) {
    lines.push(`vrrp_sync_group ${g.name} {`, '  group {', ...g.members.map((m) => `    ${m}`), '  }');
    if (g.trackingWeight) lines.push('  sync_group_tracking_weight');
    lines.push('}');
  }
  for (const i of instances) {
    lines.push(`vrrp_instance ${i.name} {`,
      `  state ${i.nopreempt ? 'BACKUP' : 'MASTER'}`,
      `  interface ${i.interface}`,
      `  virtual_router_id ${i.vrid}`,
      `  priority ${i.priority}`,
      `  advert_int ${i.advertInt}`);
    if (i.nopreempt) lines.push('  nopreempt');
    if (i.authPass) lines.push('  authentication {', '    auth_type PASS', `    auth_pass ${i.authPass}`, '  }');
    if (i.unicastSrc) lines.push(`  unicast_src_ip ${i.unicastSrc}`);
    if (i.unicastPeers) lines.push('  unicast_peer {', ...i.unicastPeers.map((p) => `    ${p}`), '  }');
    if (i.checkUnicastSrc) lines.push('  check_unicast_src');
    if (i.garp) {
      lines.push(`  garp_master_repeat ${i.garp.repeat}`, `  garp_master_delay ${i.garp.delay}`,
        `  garp_master_refresh ${i.garp.refresh}`, `  garp_master_refresh_repeat ${i.garp.refreshRepeat}`);
    }
    if (i.trackInterfaces) lines.push('  track_interface {', ...i.trackInterfaces.map((t) => `    ${t.name}${t.weight !== undefined ? ` weight ${t.weight}` : ''}`), '  }');
    lines.push('  virtual_ipaddress {', ...i.vips.map((v) => `    ${v}`), '  }', '}');
  }
  return `${lines.join('\n')}\n`;
}

/** A real keepalived (VRRP subsystem only) in a namespace, state read from its log. */
export class KeepalivedRouter extends Router {
  static start(label: string, ns: Netns, conf: string): KeepalivedRouter {
    // Pids repeat from one lab boot to the next: stale pid files would make keepalived think it already runs.
    const dir = labDir('keepalived', label);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    track(tempDir(dir));
    writeFileSync(join(dir, 'keepalived.conf'), conf);
    const r = new KeepalivedRouter(label, ns);
    r.launch('keepalived', ['-n', '-l', '-D', '-P', '--no-syslog', '-f', join(dir, 'keepalived.conf'),
      '-p', join(dir, 'keepalived.pid'), '-r', join(dir, 'vrrp.pid'), '-i', label]);
    return r;
  }

  protected line(text: string): void {
    const m = /\((\S+)\) Entering (MASTER|BACKUP|FAULT) STATE/.exec(text);
    if (m) this.changes.push({ instance: m[1]!, state: m[2] as RouterState, t: Date.now() });
  }
}
