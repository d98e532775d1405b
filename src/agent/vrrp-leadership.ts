// VRRP leadership of the agent: one VRRP instance per (DirectorGroup, interface, VIP) on every
// director of a group with two or more directors, the IPVS sync daemon switched with it, and the
// state reported (status, metrics, Events).
//
// VIPs of VRRP-managed groups are added and removed by the VRRP runtime's LinkTakeover itself
// (fast takeover, as keepalived does), never by the reconciler: `leadership` answers false for
// them, and the reconciler only removes addresses it owns. A group with a single director runs no
// VRRP: that director simply holds its VIPs through the reconciler (an agent restart then keeps
// them, and nobody else could take them over anyway).
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { Counter, Gauge } from 'prom-client';
import { apiVersion } from '../api/index.js';
import type { IpvsClient } from '../ipvs/api.js';
import type { SyncDaemon, SyncState } from '../ipvs/types.js';
import type { EventRecorder } from '../kube/index.js';
import type { LinkClient } from '../link/index.js';
import { resolve } from '../model/index.js';
import type { ClusterModel, Snapshot } from '../model/types.js';
import { systemClock, type Clock, type TimerHandle } from '../vrrp/clock.js';
import type { VrrpState } from '../vrrp/instance.js';
import { LinkTakeover, parseVip, VrrpSpeaker, type NeighbourAnnouncer, type TakeoverActions, type TakeoverContext, type VrrpInstanceSpec, type VrrpInstanceStatus, type VrrpSpeakerOptions, type VrrpTransition } from '../vrrp/runtime/index.js';
import { logger } from '../util/log.js';
import type { VipLeadership } from './compile.js';

export interface LeadershipInstance {
  group: string;
  vip: string;
  iface: string;
  spec: VrrpInstanceSpec;
}

/** The sync daemon a node runs for its VRRP-managed groups (keepalived lvs_sync_daemon). */
export interface SyncWant {
  group: string;
  mcastIfn: string;
  syncId: number;
}

export const instanceName = (group: string, iface: string, vip: string): string => `${group}/${iface}/${vip}`;

/** Groups where `node` is one of two or more directors: VRRP elects who holds their VIPs. */
export function vrrpGroups(model: ClusterModel, node: string): string[] {
  return [...model.groups.values()]
    .filter((g) => g.group !== undefined && g.directors.length >= 2 && g.directors.includes(node))
    .map((g) => g.name)
    .sort();
}

/** Node annotation that overrides the group's VRRP priority on one director (keepalived MASTER 150 / BACKUP 100). */
export const priorityAnnotation = 'lvs.dev/vrrp-priority';

/** The node's priority override (1..254), or undefined when absent or not a valid priority. */
export function nodePriority(snapshot: Pick<Snapshot, 'nodes'>, node: string): number | undefined {
  const text = snapshot.nodes.find((n) => n.metadata.name === node)?.metadata.annotations?.[priorityAnnotation];
  if (text === undefined || !/^\d{1,3}$/.test(text.trim())) return undefined;
  const p = Number(text.trim());
  return p >= 1 && p <= 254 ? p : undefined;
}

export interface SpecOptions {
  /** This director's priority (the Node annotation); default: the group's, else 100. */
  priority?: number | undefined;
  /** Group -> v2 PASS password, where the caller could read the Secret. */
  passwords?: ReadonlyMap<string, string>;
}

/**
 * The VRRP instances `node` runs: one per VIP with an allocated router id in each VRRP-managed
 * group, settings from DirectorGroup.spec.vrrp. Sorted by name; equal models give equal specs.
 */
export function vrrpInstanceSpecs(model: ClusterModel, node: string, opts: SpecOptions = {}): LeadershipInstance[] {
  const passwords = opts.passwords ?? new Map<string, string>();
  const out: LeadershipInstance[] = [];
  for (const name of vrrpGroups(model, node)) {
    const g = model.groups.get(name)!;
    const spec = g.group!.spec;
    const v = spec.vrrp;
    const password = passwords.get(name);
    for (const a of g.vrids) {
      if (a.vrid < 1) continue;
      const iface = a.interface || spec.interface;
      out.push({
        group: name, vip: a.vip, iface,
        spec: {
          name: instanceName(name, iface, a.vip),
          interface: iface,
          version: v.version,
          vrid: a.vrid,
          priority: opts.priority ?? v.priority ?? 100,
          advertIntervalMs: v.advertIntervalMs,
          vips: [a.vip],
          preempt: v.preempt,
          preemptDelayMs: v.preemptDelaySeconds * 1000,
          ...(v.version === 2 && v.authSecretRef && password !== undefined ? { auth: { type: 'pass' as const, password } } : {}),
          ...(v.unicastPeers?.length ? { unicastPeers: [...v.unicastPeers] } : {}),
          garpRepeat: v.garpRepeat,
          garpIntervalMs: v.garpIntervalMs,
        },
      });
    }
  }
  return out.sort((x, y) => x.spec.name.localeCompare(y.spec.name));
}

/**
 * The sync daemon this node runs: the first (by name) VRRP-managed group with sync on. The kernel
 * runs at most one master and one backup daemon per network namespace, so one group's settings win.
 */
export function desiredSync(model: ClusterModel, node: string): SyncWant | undefined {
  for (const name of vrrpGroups(model, node)) {
    const spec = model.groups.get(name)!.group!.spec;
    if (spec.sync.enabled) return { group: name, mcastIfn: spec.sync.interface ?? spec.interface, syncId: spec.sync.syncId };
  }
  return undefined;
}

/** Kept next to the ownership record: which instances were master, which sync daemons we started. */
export interface VrrpRecord {
  version: 1;
  /** Instance name -> its VIPs, while this node is (or was, before a crash) master. */
  masters: Record<string, string[]>;
  daemons: { state: SyncState; mcastIfn: string; syncId: number }[];
}

const emptyRecord = (): VrrpRecord => ({ version: 1, masters: {}, daemons: [] });

export async function loadVrrpRecord(path: string): Promise<VrrpRecord> {
  try {
    const r = JSON.parse(await readFile(path, 'utf8')) as VrrpRecord;
    return r.version === 1 ? { ...emptyRecord(), ...r } : emptyRecord();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' || e instanceof SyntaxError) return emptyRecord();
    throw e;
  }
}

async function saveVrrpRecord(path: string, r: VrrpRecord): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(`${path}.tmp`, JSON.stringify(r, null, 1));
  await rename(`${path}.tmp`, path);
}

export type DirectorVrrpState = 'Master' | 'Backup' | 'Init';
/** The VRRP state of this director for a group's VIPs; undefined when the group runs no VRRP here. */
export type VrrpStateLookup = (group: string, vips: readonly string[]) => DirectorVrrpState | undefined;

const stateName: Record<VrrpState, DirectorVrrpState> = { initialize: 'Init', backup: 'Backup', master: 'Master' };
const stateValue: Record<VrrpState, number> = { initialize: 0, backup: 1, master: 2 };

/** What the leadership needs of a speaker (a VrrpSpeaker; a fake in unit tests). */
export type SpeakerLike = Pick<VrrpSpeaker, 'addInstance' | 'removeInstance' | 'status' | 'stop' | 'on'>;

export interface VrrpLeadershipOptions {
  node: string;
  /** One SerialLinkClient for everything VRRP does in this process. */
  link: LinkClient;
  announcer: NeighbourAnnouncer;
  ipvs: Pick<IpvsClient, 'listDaemons' | 'startDaemon' | 'stopDaemon'>;
  /** `<state dir>/vrrp.json`. */
  recordPath: string;
  events?: EventRecorder | undefined;
  registry?: Registry | undefined;
  /** Called after every transition (the agent schedules a pass, so status follows). */
  onChange?: () => void;
  /** Reads one Secret key (VRRPv2 PASS passwords); undefined when it is missing. */
  readSecret?: (namespace: string, name: string, key: string) => Promise<string | undefined>;
  /** Tests: a speaker built around the given actions (default: a real VrrpSpeaker). */
  speaker?: (o: VrrpSpeakerOptions) => SpeakerLike;
  /** Paces the check of a VIP kept from before a restart (and the GARP repeats). */
  clock?: Clock;
  log?: Logger;
}

export class VrrpLeadership {
  private readonly log: Logger;
  private readonly speaker: SpeakerLike;
  private readonly inner: LinkTakeover;
  private readonly running = new Map<string, LeadershipInstance>();
  private record: VrrpRecord = emptyRecord();
  private managed = new Set<string>();
  private sole = new Set<string>();
  private sync: SyncWant | undefined;
  private queue: Promise<void> = Promise.resolve();
  private syncQueue: Promise<void> = Promise.resolve();
  private saving: Promise<void> = Promise.resolve();
  /** Instances that found their VIP held from before a restart: removal waits for the election. */
  private readonly deferred = new Map<string, { ctx?: TakeoverContext; timer?: TimerHandle; removal?: Promise<void> }>();
  private readonly clock: Clock;
  private stopped = false;
  private stateGauge: Gauge | undefined;
  private transitions: Counter | undefined;
  onChange: (() => void) | undefined;

  constructor(private readonly o: VrrpLeadershipOptions) {
    this.log = o.log ?? logger('vrrp-leadership');
    this.onChange = o.onChange;
    this.clock = o.clock ?? systemClock;
    this.inner = new LinkTakeover({
      clock: this.clock,
      link: o.link,
      announcer: o.announcer,
      onMaster: () => this.syncDaemons(),
      onBackup: () => this.syncDaemons(),
    });
    const actions: TakeoverActions = {
      becomeMaster: (ctx) => this.becomeMaster(ctx),
      becomeBackup: (ctx) => this.becomeBackup(ctx),
    };
    const speakerOptions: VrrpSpeakerOptions = { actions, link: o.link, log: this.log, clock: this.clock };
    this.speaker = o.speaker ? o.speaker(speakerOptions) : new VrrpSpeaker(speakerOptions);
    this.speaker.on('transition', (t) => this.transitioned(t));
    if (o.registry) this.attachMetrics(o.registry);
  }

  /** State per instance, transitions, priority and advert counters on the agent's registry. */
  attachMetrics(registry: Registry): void {
    const reg = [registry];
    // vrrp_instance, not instance: Prometheus sets `instance` on every scraped series (the target).
    this.stateGauge = new Gauge({ name: 'lvs_agent_vrrp_state', help: 'VRRP state per instance: 0 init, 1 backup, 2 master', labelNames: ['vrrp_instance', 'group', 'vip'], registers: reg });
    this.transitions = new Counter({ name: 'lvs_agent_vrrp_transitions_total', help: 'VRRP state transitions per instance and new state', labelNames: ['vrrp_instance', 'state'], registers: reg });
    const status = (): VrrpInstanceStatus[] => this.speaker.status();
    new Gauge({ name: 'lvs_agent_vrrp_priority', help: 'VRRP priority in effect per instance', labelNames: ['vrrp_instance'], registers: reg, collect() { this.reset(); for (const s of status()) this.set({ vrrp_instance: s.name }, s.priority); } });
    // Counted by each instance since it started: a counter reset when an instance restarts, which rate() handles.
    const perInstance = (name: string, help: string, pick: (s: VrrpInstanceStatus) => number): void => {
      new Counter({ name, help, labelNames: ['vrrp_instance'], registers: reg, collect() { this.reset(); for (const s of status()) this.inc({ vrrp_instance: s.name }, pick(s)); } });
    };
    perInstance('lvs_agent_vrrp_adverts_sent_total', 'VRRP adverts sent per instance since it started', (s) => s.counters.advertsSent);
    perInstance('lvs_agent_vrrp_adverts_received_total', 'VRRP adverts accepted per instance since it started', (s) => s.counters.advertsReceived);
    perInstance('lvs_agent_vrrp_action_errors_total', 'VRRP takeover actions that failed per instance since it started', (s) => s.actionErrors);
    for (const [name, w] of this.running) {
      const st = this.speaker.status(name)[0]?.state ?? 'initialize';
      this.stateGauge.set({ vrrp_instance: name, group: w.group, vip: w.vip }, stateValue[st]);
    }
  }

  /** Loads the record of the previous run; call once before the first update. */
  async start(): Promise<void> {
    this.record = await loadVrrpRecord(this.o.recordPath);
  }

  /** For compile: VRRP-managed VIPs are never the reconciler's; a sole director holds its own. */
  readonly leadership: VipLeadership = (group) => !this.managed.has(group) && this.sole.has(group);

  /** The real VRRP state for status (undefined: the group runs no VRRP on this node). */
  readonly stateOf: VrrpStateLookup = (group, vips) => {
    if (!this.managed.has(group)) return undefined;
    const states = vips.map((vip) => {
      const inst = [...this.running.values()].find((i) => i.group === group && i.vip === vip);
      return inst ? this.speaker.status(inst.spec.name)[0]?.state : undefined;
    });
    if (states.length > 0 && states.every((s) => s === 'master')) return 'Master';
    return states.some((s) => s === undefined || s === 'initialize') ? 'Init' : 'Backup';
  };

  status(): VrrpInstanceStatus[] {
    return this.speaker.status();
  }

  /**
   * Takes a new model: which groups are VRRP-managed changes at once (the next compile sees it),
   * instances are added, re-created (settings changed) or removed in the background, in order.
   * `model`: the snapshot's model when the caller has it (the agent shares its incremental one).
   */
  update(snapshot: Snapshot, model: ClusterModel = resolve(snapshot)): Promise<void> {
    if (this.stopped) return this.queue;
    this.managed = new Set(vrrpGroups(model, this.o.node));
    this.sole = new Set([...model.groups.values()].filter((g) => g.directors.length === 1 && g.directors[0] === this.o.node).map((g) => g.name));
    const priority = nodePriority(snapshot, this.o.node);
    const sync = desiredSync(model, this.o.node);
    this.queue = this.queue.then(async () => {
      const passwords = await this.passwords(model);
      await this.apply(vrrpInstanceSpecs(model, this.o.node, { priority, passwords }), sync);
    }).catch((err: unknown) => {
      this.log.error({ err }, 'VRRP instances not updated');
    });
    return this.queue;
  }

  /** v2 PASS passwords of the VRRP groups here, read from their Secrets (read again on every update). */
  private async passwords(model: ClusterModel): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    for (const name of this.managed) {
      const v = model.groups.get(name)?.group?.spec.vrrp;
      const ref = v?.version === 2 ? v.authSecretRef : undefined;
      if (!ref || !this.o.readSecret) continue;
      const value = await this.o.readSecret(ref.namespace, ref.name, ref.key).catch((err: unknown) => {
        this.log.warn({ err, group: name, secret: `${ref.namespace}/${ref.name}` }, 'VRRP auth Secret not readable');
        return undefined;
      });
      if (value === undefined) this.log.warn({ group: name, secret: `${ref.namespace}/${ref.name}`, key: ref.key }, 'VRRP auth Secret or key missing: adverts go out without PASS auth');
      else out.set(name, value);
    }
    return out;
  }

  private async apply(want: LeadershipInstance[], sync: SyncWant | undefined): Promise<void> {
    if (this.stopped) return;
    const byName = new Map(want.map((w) => [w.spec.name, w]));
    for (const [name, cur] of this.running) {
      const next = byName.get(name);
      if (next && JSON.stringify(next.spec) === JSON.stringify(cur.spec)) continue;
      this.log.info({ vrrp: name, reason: next ? 'settings changed' : 'VIP gone' }, 'VRRP instance stopping');
      this.running.delete(name);
      this.stateGauge?.remove({ vrrp_instance: name, group: cur.group, vip: cur.vip });
      await this.speaker.removeInstance(name);
      if (!next) await this.forgetMaster(name);
    }
    this.sync = sync;
    await this.syncDaemons();
    for (const w of want) {
      if (this.running.has(w.spec.name)) continue;
      await this.deferIfHeld(w);
      // In the map before it starts: its first transition and action look it up.
      this.running.set(w.spec.name, w);
      this.stateGauge?.set({ vrrp_instance: w.spec.name, group: w.group, vip: w.vip }, 0);
      try {
        await this.speaker.addInstance(w.spec);
        this.log.info({ vrrp: w.spec.name, vrid: w.spec.vrid, priority: w.spec.priority, advertIntervalMs: w.spec.advertIntervalMs }, 'VRRP instance started');
      } catch (err) {
        this.running.delete(w.spec.name);
        this.deferred.delete(w.spec.name);
        this.log.error({ err, vrrp: w.spec.name }, 'VRRP instance not started');
      }
    }
  }

  /** A VIP this node held as master before the agent restarted stays until the election resolves. */
  private async deferIfHeld(w: LeadershipInstance): Promise<void> {
    if (!this.record.masters[w.spec.name]) return;
    const addrs = await this.o.link.listAddresses(w.iface).catch(() => []);
    const { address } = parseVip(w.vip);
    if (!addrs.some((a) => a.address === address)) return;
    this.log.info({ vrrp: w.spec.name, vip: w.vip }, 'VIP held as master before the restart: kept until the election resolves');
    this.deferred.set(w.spec.name, {});
  }

  private async becomeMaster(ctx: TakeoverContext): Promise<void> {
    const d = this.deferred.get(ctx.instance);
    if (d) {
      if (d.timer) this.clock.cancel(d.timer);
      this.deferred.delete(ctx.instance);
      await d.removal;
    }
    // The record is written next to the takeover, not before it: the VIP must not wait for a file.
    const recorded = this.remember(ctx.instance, ctx.vips.map((v) => v.address));
    try {
      await this.inner.becomeMaster(ctx);
    } finally {
      await recorded;
    }
  }

  private async becomeBackup(ctx: TakeoverContext): Promise<void> {
    const d = this.deferred.get(ctx.instance);
    if (d && d.removal === undefined && d.timer === undefined) {
      // Startup with the VIP still ours: keep it until a master we accept is heard (then give it
      // up) or the master-down timer makes us master (then becomeMaster finds it in place).
      d.ctx = ctx;
      const spec = this.running.get(ctx.instance)?.spec;
      const every = Math.max(10, (spec?.advertIntervalMs ?? 1000) / 2);
      const tick = (): void => {
        if (this.deferred.get(ctx.instance) !== d) return;
        this.checkDeferred(ctx.instance);
        if (this.deferred.get(ctx.instance) === d && !d.removal) d.timer = this.clock.setTimer(every, tick);
      };
      d.timer = this.clock.setTimer(every, tick);
      return;
    }
    await this.forgetMaster(ctx.instance);
    await this.inner.becomeBackup(ctx);
  }

  private checkDeferred(name: string): void {
    const d = this.deferred.get(name);
    if (!d || d.removal) return;
    const s = this.speaker.status(name)[0];
    const spec = this.running.get(name)?.spec;
    if (!s || !spec) {
      this.deferred.delete(name);
      return;
    }
    if (s.state !== 'backup' || !s.master || s.master.address === s.primaryAddress) return;
    // A master we do not preempt: the VIP is its now.
    if (spec.preempt !== false && s.master.priority < s.priority) return;
    this.log.info({ vrrp: name, master: s.master }, 'another master holds the VIP: giving it up');
    d.removal = this.forgetMaster(name)
      .then(() => this.inner.becomeBackup(d.ctx!))
      .catch((err: unknown) => this.log.error({ err, vrrp: name }, 'deferred VIP removal failed'))
      .finally(() => {
        if (this.deferred.get(name) === d) this.deferred.delete(name);
      });
  }

  private async remember(name: string, vips: string[]): Promise<void> {
    this.record.masters[name] = vips;
    await this.saveRecord();
  }

  private async forgetMaster(name: string): Promise<void> {
    if (!(name in this.record.masters)) return;
    delete this.record.masters[name];
    await this.saveRecord();
  }

  /** One write at a time (they share a temporary file), each of the record as it is then. */
  private saveRecord(): Promise<void> {
    this.saving = this.saving
      .then(() => saveVrrpRecord(this.o.recordPath, this.record))
      .catch((err: unknown) => this.log.warn({ err }, 'vrrp.json not written'));
    return this.saving;
  }

  /**
   * Backup daemon always (so this node has every connection before it may have to take over),
   * master daemon while any instance of the sync group is master here. Both run at once in IPVS;
   * keepalived instead stops the backup daemon on the master, which leaves a gap when the roles
   * swap back and forth. Only daemons this agent started are stopped.
   */
  private syncDaemons(): Promise<void> {
    this.syncQueue = this.syncQueue.then(() => this.applySync()).catch((err: unknown) => {
      this.log.error({ err }, 'IPVS sync daemon not switched');
    });
    return this.syncQueue;
  }

  private async applySync(): Promise<void> {
    const sync = this.sync;
    const master = sync !== undefined && !this.stopped && this.speaker.status().some((s) => s.state === 'master' && this.running.get(s.name)?.group === sync.group);
    const want: SyncDaemon[] = [];
    if (sync) want.push({ state: 'backup', mcastIfn: sync.mcastIfn, syncId: sync.syncId });
    if (sync && master) want.push({ state: 'master', mcastIfn: sync.mcastIfn, syncId: sync.syncId });
    const have = await this.o.ipvs.listDaemons();
    let changed = false;
    for (const state of ['master', 'backup'] as const) {
      const w = want.find((d) => d.state === state);
      const h = have.find((d) => d.state === state);
      const ours = this.record.daemons.some((d) => d.state === state);
      const same = w && h && h.mcastIfn === w.mcastIfn && h.syncId === w.syncId;
      if (same) {
        if (!ours) { this.record.daemons.push({ state, mcastIfn: w.mcastIfn, syncId: w.syncId }); changed = true; }
        continue;
      }
      if (h && (ours || w)) {
        await this.o.ipvs.stopDaemon(state);
        this.log.info({ state }, 'IPVS sync daemon stopped');
      }
      this.record.daemons = this.record.daemons.filter((d) => d.state !== state);
      changed = true;
      if (w) {
        await this.o.ipvs.startDaemon(w);
        this.record.daemons.push({ state, mcastIfn: w.mcastIfn, syncId: w.syncId });
        this.log.info({ state, mcastIfn: w.mcastIfn, syncId: w.syncId }, 'IPVS sync daemon started');
      }
    }
    if (changed) await this.saveRecord();
  }

  private transitioned(t: VrrpTransition): void {
    const inst = this.running.get(t.instance);
    if (inst) this.stateGauge?.set({ vrrp_instance: t.instance, group: inst.group, vip: inst.vip }, stateValue[t.to]);
    this.transitions?.inc({ vrrp_instance: t.instance, state: stateName[t.to] });
    this.log.info({ vrrp: t.instance, from: t.from, to: t.to, reason: t.reason, master: t.masterAddress }, 'VRRP transition');
    if (inst && this.o.events && t.from !== t.to && t.to !== 'initialize') {
      const master = t.to === 'master';
      void this.o.events.record(
        { apiVersion, kind: 'DirectorGroup', name: inst.group },
        'Normal',
        master ? 'VrrpMaster' : 'VrrpBackup',
        `${this.o.node} is ${master ? 'MASTER' : 'BACKUP'} for ${inst.vip} (VRID ${t.vrid} on ${t.interface}, ${t.reason}${!master && t.masterAddress ? `, master ${t.masterAddress}` : ''})`,
        'Vrrp',
      );
    }
    this.onChange?.();
  }

  /**
   * Graceful stop (agent shutdown, rolling update): a master sends priority 0 so a backup takes
   * over after Skew_Time, gives its VIPs up (with `awaitSuccessor`, the agent's restart, once
   * that backup advertises: no connection is refused in between) and stops the master sync
   * daemon. The backup daemon stays, as all kernel state does, for the next agent.
   */
  async stop(o: { awaitSuccessor?: boolean } = {}): Promise<void> {
    await this.queue;
    this.stopped = true;
    for (const d of this.deferred.values()) if (d.timer) this.clock.cancel(d.timer);
    // A VIP still deferred was never taken over by this run: leave it for the next run's election.
    this.deferred.clear();
    await this.speaker.stop(o);
    this.running.clear();
    await this.syncDaemons();
  }
}
