// Announcing an active-active group's VIPs: after each pass has programmed IPVS, BIRD is given the
// VIPs this director can serve (compile's NodeDesired.bgp), so a route never leads to a director
// whose table is not ready. Session state is read back for metrics and logs. On a graceful stop
// every route is withdrawn first and the director keeps serving for the group's drainSeconds
// while the routers move its flows, then BIRD stops.
import type { Logger } from 'pino';
import { Gauge, type Registry } from 'prom-client';
import { birdConfig, established, nodeBgpSettings, sessionStates, validPassword, type BgpSessionState, type NodeBgpSettings } from '../bgp/index.js';
import type { BirdDaemon } from '../bgp/runtime/bird-daemon.js';
import type { ClusterModel, Snapshot } from '../model/types.js';
import type { NodeDesired } from './compile.js';

/** Reads one key of a Secret as text (vrrp-secrets.ts secretKeyReader). */
export type SecretReader = (namespace: string, name: string, key: string) => Promise<string | undefined>;

export interface BgpAnnouncerOptions {
  node: string;
  daemon: BirdDaemon;
  readSecret?: SecretReader | undefined;
  registry?: Registry;
  /** How often session state is read back. */
  pollMs?: number;
  /** Told when the sessions, the routes or the drain change (undefined: no BGP group here). */
  onStatus?: (status: BgpStatus | undefined) => void;
  log: Logger;
}

/** What this director's speaker does now: its sessions as last read and the routes given to BIRD. */
export interface BgpStatus {
  group: string | undefined;
  sessions: BgpSessionState[];
  announced: string[];
  draining: boolean;
}

interface Want {
  settings: NodeBgpSettings;
  announce: string[];
}

export class BgpAnnouncer {
  private want: Want | undefined;
  private withdrawing = false;
  private chain: Promise<void> = Promise.resolve();
  private poll: NodeJS.Timeout | undefined;
  private states: BgpSessionState[] = [];
  private announced: string[] = [];
  private running = false;
  private readonly up: Gauge | undefined;
  private readonly routes: Gauge | undefined;
  private told = '';

  constructor(private readonly o: BgpAnnouncerOptions) {
    if (o.registry) {
      const reg = [o.registry];
      const self = this;
      this.up = new Gauge({ name: 'lvs_agent_bgp_session_up', help: 'BGP session of this director established (1) or not (0), per group and peer', labelNames: ['group', 'peer'], registers: reg, collect() { this.reset(); for (const s of self.states) this.set({ group: self.want?.settings.group ?? '', peer: s.peer }, established(s) ? 1 : 0); } });
      this.routes = new Gauge({ name: 'lvs_agent_bgp_announced_routes', help: 'VIP routes this director gives BIRD to announce, per group', labelNames: ['group'], registers: reg, collect() { this.reset(); if (self.want) this.set({ group: self.want.settings.group }, self.announced.length); } });
    }
  }

  /** Session states as last read, and the routes given to BIRD. */
  status(): BgpStatus {
    return { group: this.want?.settings.group, sessions: this.states, announced: this.announced, draining: this.withdrawing };
  }

  /** Tells onStatus when what status() says has changed since it last told. */
  private tell(): void {
    const now = this.want && this.running ? this.status() : undefined;
    const key = JSON.stringify(now ?? null);
    if (key === this.told) return;
    this.told = key;
    this.o.onStatus?.(now);
  }

  /** Stopping: every route withdrawn whatever the passes say. */
  get draining(): boolean {
    return this.withdrawing;
  }

  /** The VIPs given to BIRD or about to be: a VIP in here is not held back again (bgp-settle.ts). */
  announcing(): ReadonlySet<string> {
    return new Set([...this.announced, ...(this.want?.announce ?? [])]);
  }

  /** After a pass: what BIRD should announce now. Serialised; a later call supersedes a queued one. */
  update(snapshot: Pick<Snapshot, 'nodes'>, model: ClusterModel, desired: NodeDesired): Promise<void> {
    const groups = desired.bgp ?? [];
    if (groups.length > 1) this.o.log.error({ groups: groups.map((g) => g.group), used: groups[0]!.group }, 'this director is in several BGP groups; only the first is announced');
    const g = groups[0];
    const spec = g ? model.groups.get(g.group)?.group?.spec : undefined;
    const labels = snapshot.nodes.find((n) => n.metadata.name === this.o.node)?.metadata.labels;
    const settings = g && spec ? nodeBgpSettings(g.group, spec, this.o.node, labels) : undefined;
    this.want = settings && g ? { settings, announce: g.serving } : undefined;
    return this.enqueue();
  }

  private enqueue(): Promise<void> {
    this.chain = this.chain.then(() => this.sync()).catch((err: unknown) => this.o.log.error({ err }, 'BGP: BIRD configuration failed; the running one stays'));
    return this.chain;
  }

  private async sync(): Promise<void> {
    const want = this.want;
    if (!want) {
      if (this.running) {
        await this.o.daemon.stop();
        this.running = false;
        this.states = [];
        this.announced = [];
        this.o.log.info('BGP: no BGP group on this director any more; BIRD stopped');
      }
      this.tell();
      return;
    }
    const announce = this.withdrawing ? [] : want.announce;
    const passwords = await this.passwords(want.settings);
    const outcome = await this.o.daemon.apply(birdConfig({ settings: want.settings, announce, passwords }));
    this.running = true;
    if (outcome !== 'unchanged') {
      this.o.log.info({ group: want.settings.group, outcome, announce, withdrawn: this.announced.filter((v) => !announce.includes(v)) }, 'BGP: BIRD configured');
    }
    this.announced = [...announce];
    this.startPolling();
    await this.readSessions();
    this.tell();
  }

  private async passwords(s: NodeBgpSettings): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    for (const p of s.peers) {
      const ref = p.passwordSecretRef;
      if (!ref) continue;
      const value = this.o.readSecret ? await this.o.readSecret(ref.namespace, ref.name, ref.key).catch(() => undefined) : undefined;
      if (value === undefined) throw new Error(`BGP peer ${p.address}: password Secret ${ref.namespace}/${ref.name} key ${ref.key} not readable; the session is not configured until it is`);
      if (!validPassword(value)) throw new Error(`BGP peer ${p.address}: the password in Secret ${ref.namespace}/${ref.name} must be 1-80 printable bytes without '"'`);
      out.set(p.address, value);
    }
    return out;
  }

  private startPolling(): void {
    if (this.poll) return;
    this.poll = setInterval(() => void this.readSessions(), this.o.pollMs ?? 2000);
    this.poll.unref();
  }

  private async readSessions(): Promise<void> {
    const want = this.want;
    if (!want || !this.running) return;
    const text = await this.o.daemon.showProtocols().catch((err: unknown) => {
      this.o.log.warn({ err }, 'BGP: birdc show protocols failed');
      return undefined;
    });
    if (text === undefined) {
      // BIRD is gone (killed, crashed): start it again with what it should announce.
      if (!this.withdrawing && !(await this.o.daemon.alive())) void this.enqueue();
      return;
    }
    const next = sessionStates(text, want.settings.peers.map((p) => p.address));
    for (const s of next) {
      const before = this.states.find((x) => x.peer === s.peer);
      if (!before || established(before) !== established(s)) this.o.log.info({ group: want.settings.group, peer: s.peer, state: s.state, info: s.info }, established(s) ? 'BGP session established' : 'BGP session not established');
    }
    this.states = next;
    this.tell();
  }

  /**
   * Graceful stop: withdraw every route, keep serving for drainSeconds while the routers move
   * the flows to the other directors (mh + sloppy TCP keep them), then stop BIRD.
   */
  async drain(): Promise<void> {
    this.withdrawing = true;
    const want = this.want;
    await this.enqueue();
    if (want && this.running) {
      this.o.log.info({ group: want.settings.group, drainSeconds: want.settings.drainSeconds }, 'BGP: routes withdrawn, draining');
      await new Promise((r) => setTimeout(r, want.settings.drainSeconds * 1000));
    }
    clearInterval(this.poll);
    this.poll = undefined;
    if (this.running) await this.o.daemon.stop();
    this.running = false;
    // No speaker here any more: the group's status loses this director's entry.
    this.tell();
    this.up?.reset();
    this.routes?.reset();
  }
}
