// Announcing active-active groups' VIPs: after each pass has programmed IPVS, BIRD is given the
// VIPs this director can serve (compile's NodeDesired.bgp), so a route never leads to a director
// whose table is not ready. One BIRD serves every BGP group of this director (speaker-plan.ts).
// Session state is read back for status, metrics and logs. On a graceful stop every route is
// withdrawn first and the director keeps serving for the longest drainSeconds of its groups while
// the routers move its flows, then BIRD stops.
import type { Logger } from 'pino';
import { Gauge, type Registry } from 'prom-client';
import { birdConfig, established, nodeBgpSettings, peerConflict, planSpeaker, sessionStates, validPassword, type BgpSessionState, type SpeakerGroup, type SpeakerPlan } from '../bgp/index.js';
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
  /** Told when the sessions, the routes or the drain change: one entry per BGP group of this director (none: no speaker here). */
  onStatus?: (status: BgpStatus[]) => void;
  log: Logger;
}

/** What this director's speaker does for one group: its sessions as last read and the routes given to BIRD. */
export interface BgpStatus {
  group: string;
  sessions: BgpSessionState[];
  announced: string[];
  draining: boolean;
}

/** BIRD's state for a router a group names but cannot have (another group of this director peers with it otherwise). */
export const CONFLICT_STATE = 'conflict';

export class BgpAnnouncer {
  private want: SpeakerGroup[] = [];
  private withdrawing = false;
  private chain: Promise<void> = Promise.resolve();
  private poll: NodeJS.Timeout | undefined;
  /** Session states as last read, per router address. */
  private states = new Map<string, BgpSessionState>();
  /** The plan BIRD was last configured with, and the one the last update asks for. */
  private applied: SpeakerPlan | undefined;
  private planned: SpeakerPlan = planSpeaker([]);
  private running = false;
  private readonly up: Gauge | undefined;
  private readonly routes: Gauge | undefined;
  private told = '';
  private conflictsLogged = '';

  constructor(private readonly o: BgpAnnouncerOptions) {
    if (o.registry) {
      const reg = [o.registry];
      const self = this;
      this.up = new Gauge({ name: 'lvs_agent_bgp_session_up', help: 'BGP session of this director established (1) or not (0), per group and peer', labelNames: ['group', 'peer'], registers: reg, collect() { this.reset(); for (const st of self.status()) for (const x of st.sessions) this.set({ group: st.group, peer: x.peer }, established(x) ? 1 : 0); } });
      this.routes = new Gauge({ name: 'lvs_agent_bgp_announced_routes', help: 'VIP routes this director gives BIRD to announce, per group', labelNames: ['group'], registers: reg, collect() { this.reset(); for (const st of self.status()) this.set({ group: st.group }, st.announced.length); } });
    }
  }

  /** Per group of this director: its sessions as last read, and the routes given to BIRD. */
  status(): BgpStatus[] {
    const plan = this.applied;
    if (!plan || !this.running) return [];
    return this.want.map(({ settings: s }) => ({
      group: s.group,
      sessions: s.peers.map((p): BgpSessionState => {
        const c = peerConflict(plan, s.group, p.address);
        if (c) return { peer: p.address, state: CONFLICT_STATE, info: `Error: DirectorGroup ${c.owner} peers with this router from this director with other settings` };
        return this.states.get(p.address) ?? { peer: p.address, state: 'absent', info: '' };
      }),
      announced: plan.routes.filter((r) => r.group === s.group).map((r) => r.vip),
      draining: this.withdrawing,
    }));
  }

  /** Tells onStatus when what status() says has changed since it last told. */
  private tell(): void {
    const now = this.status();
    const key = JSON.stringify(now);
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
    return new Set([...(this.applied?.routes ?? []).map((r) => r.vip), ...this.want.flatMap((g) => g.announce)]);
  }

  /** After a pass: what BIRD should announce now. Serialised; a later call supersedes a queued one. */
  update(snapshot: Pick<Snapshot, 'nodes'>, model: ClusterModel, desired: NodeDesired): Promise<void> {
    const labels = snapshot.nodes.find((n) => n.metadata.name === this.o.node)?.metadata.labels;
    const want: SpeakerGroup[] = [];
    for (const g of desired.bgp ?? []) {
      const spec = model.groups.get(g.group)?.group?.spec;
      const settings = spec ? nodeBgpSettings(g.group, spec, this.o.node, labels) : undefined;
      if (settings) want.push({ settings, announce: g.serving });
    }
    this.want = want.sort((a, b) => a.settings.group.localeCompare(b.settings.group));
    this.planned = planSpeaker(this.want);
    return this.enqueue();
  }

  /**
   * The VIPs of the last update that some router is given: a VIP whose group has a conflict on
   * every router it names sits in BIRD and reaches nobody, so it is not counted as announced.
   */
  exported(): ReadonlySet<string> {
    return new Set(this.planned.sessions.flatMap((x) => x.exports));
  }

  private enqueue(): Promise<void> {
    this.chain = this.chain.then(() => this.sync()).catch((err: unknown) => this.o.log.error({ err }, 'BGP: BIRD configuration failed; the running one stays'));
    return this.chain;
  }

  private async sync(): Promise<void> {
    const want = this.want;
    if (want.length === 0) {
      if (this.running) {
        await this.o.daemon.stop(this.idleConfig());
        this.running = false;
        this.states.clear();
        this.applied = undefined;
        this.o.log.info('BGP: no BGP group on this director any more; BIRD stopped');
      }
      this.tell();
      return;
    }
    // The plan of the last update, or the same groups with nothing to announce while draining.
    const plan = this.withdrawing ? planSpeaker(want.map((g) => ({ ...g, announce: [] }))) : this.planned;
    this.logConflicts(plan);
    const passwords = await this.passwords(plan);
    const outcome = await this.o.daemon.apply(birdConfig({ plan, passwords }));
    this.running = true;
    const before = new Set((this.applied?.routes ?? []).map((r) => r.vip));
    const announce = plan.routes.map((r) => r.vip);
    if (outcome !== 'unchanged') {
      this.o.log.info({ groups: plan.groups, outcome, announce, withdrawn: [...before].filter((v) => !announce.includes(v)) }, 'BGP: BIRD configured');
    }
    this.applied = plan;
    this.startPolling();
    await this.readSessions();
    this.tell();
  }

  /** BIRD with no session and no route (what a sidecar's BIRD keeps running on), same router id. */
  private idleConfig(): string {
    return birdConfig({ plan: { ...planSpeaker([]), routerId: this.applied?.routerId }, passwords: new Map() });
  }

  /** Each conflict once per change of the set, at error level: a group is not fully announced. */
  private logConflicts(plan: SpeakerPlan): void {
    const key = JSON.stringify(plan.conflicts);
    if (key === this.conflictsLogged) return;
    this.conflictsLogged = key;
    for (const c of plan.conflicts) this.o.log.error({ group: c.group, peer: c.peer, owner: c.owner }, `BGP: ${c.message}`);
  }

  private async passwords(plan: SpeakerPlan): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    for (const { peer: p } of plan.sessions) {
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
    const plan = this.applied;
    if (!plan || !this.running) return;
    const text = await this.o.daemon.showProtocols().catch((err: unknown) => {
      this.o.log.warn({ err }, 'BGP: birdc show protocols failed');
      return undefined;
    });
    if (text === undefined) {
      // BIRD is gone (killed, crashed): start it again with what it should announce.
      if (!this.withdrawing && !(await this.o.daemon.alive())) void this.enqueue();
      return;
    }
    const next = sessionStates(text, plan.sessions.map((x) => x.peer.address));
    for (const st of next) {
      const before = this.states.get(st.peer);
      if (!before || established(before) !== established(st)) {
        const groups = plan.sessions.find((x) => x.peer.address === st.peer)?.groups;
        this.o.log.info({ groups, peer: st.peer, state: st.state, info: st.info }, established(st) ? 'BGP session established' : 'BGP session not established');
      }
    }
    this.states = new Map(next.map((st) => [st.peer, st]));
    this.tell();
  }

  /**
   * Graceful stop: withdraw every route, keep serving for the longest drainSeconds of this
   * director's groups while the routers move the flows to the other directors (mh + sloppy TCP
   * keep them), then stop BIRD.
   */
  async drain(): Promise<void> {
    this.withdrawing = true;
    const drainSeconds = Math.max(0, ...this.want.map((g) => g.settings.drainSeconds));
    await this.enqueue();
    if (this.want.length > 0 && this.running) {
      this.o.log.info({ groups: this.want.map((g) => g.settings.group), drainSeconds }, 'BGP: routes withdrawn, draining');
      await new Promise((r) => setTimeout(r, drainSeconds * 1000));
    }
    clearInterval(this.poll);
    this.poll = undefined;
    if (this.running) await this.o.daemon.stop(this.idleConfig());
    this.running = false;
    // No speaker here any more: the groups' status loses this director's entry.
    this.tell();
    this.up?.reset();
    this.routes?.reset();
  }
}
