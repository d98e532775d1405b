// VRRP leadership of the agent: one VRRP instance per (DirectorGroup, interface, VIP) on every
// director of a group with two or more directors, all of a group's instances one sync group
// (keepalived vrrp_sync_group: one master for all its VIPs, Fault together when a tracked or
// carrying interface is down). It is a step of the agent's pass (agent.ts):
// each pass hands it the model before compile, and compile reads back who holds which VIP and
// whether this node is master (the reconciler then runs the master IPVS sync daemon). A
// transition asks the agent for a pass. Instances exist only once a pass started them, so none
// can ask for a pass before the agent has started.
//
// VIPs of VRRP-managed groups are added and removed by the VRRP runtime's LinkTakeover itself
// (fast takeover, as keepalived does), never by the reconciler: `leadership` answers false for
// them, and the reconciler only removes addresses it owns. A group with a single director runs no
// VRRP: that director simply holds its VIPs through the reconciler (an agent restart then keeps
// them, and nobody else could take them over anyway).
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { EventRecorder } from '../kube/index.js';
import type { LinkClient } from '../link/index.js';
import { resolve } from '../model/index.js';
import type { ClusterModel, Snapshot } from '../model/types.js';
import { systemClock, type Clock } from '../vrrp/clock.js';
import { LinkTakeover, VrrpSpeaker, type LinkStateSource, type NeighbourAnnouncer, type TakeoverActions, type VrrpInstanceStatus, type VrrpSpeakerOptions, type VrrpTransition } from '../vrrp/runtime/index.js';
import { logger } from '../util/log.js';
import type { CompiledService, SyncMastership, VipLeadership } from './compile.js';
import type { OwnershipRecord } from './ownership-record.js';
import { recordTransition } from './vrrp-events.js';
import { healthOffset, unservedVips } from './vrrp-health.js';
import { VrrpMetrics } from './vrrp-metrics.js';
import { RestartTakeover } from './vrrp-restart.js';
import { vrrpPasswords, type SecretReader } from './vrrp-secrets.js';
import { recordRefusedSource } from './vrrp-events.js';
import { withAdvertSources } from './vrrp-source.js';
import { nodePriority, nodeUnicastSources, soleGroups, vrrpGroups, vrrpInstanceSpecs, type LeadershipInstance } from './vrrp-specs.js';

export type DirectorVrrpState = 'Master' | 'Backup' | 'Init' | 'Fault';
/** The VRRP state of this director for a group's VIPs; undefined when the group runs no VRRP here. */
export type VrrpStateLookup = (group: string, vips: readonly string[]) => DirectorVrrpState | undefined;

/** What the leadership needs of a speaker (a VrrpSpeaker; a fake in unit tests). */
export type SpeakerLike = Pick<VrrpSpeaker, 'addInstance' | 'removeInstance' | 'status' | 'stop' | 'on' | 'setPriorityOffset' | 'refreshLinks'>;

export interface VrrpLeadershipOptions {
  node: string;
  /** One SerialLinkClient for everything VRRP does in this process. */
  link: LinkClient;
  announcer: NeighbourAnnouncer;
  /** The agent's ownership record (the reconciler's): which instances this node is master of. */
  record: OwnershipRecord;
  events?: EventRecorder | undefined;
  registry?: Registry | undefined;
  /** VRRPv2 PASS passwords. */
  readSecret?: SecretReader | undefined;
  /** Tests: a speaker built around the given actions (default: a real VrrpSpeaker). */
  speaker?: (o: VrrpSpeakerOptions) => SpeakerLike;
  /** Paces the check of a VIP kept from before a restart (and the GARP repeats). */
  clock?: Clock;
  /** Link states for track_interface and FAULT (a NetlinkLinkMonitor); without it every link counts as up. */
  links?: LinkStateSource | undefined;
  log?: Logger;
}

export class VrrpLeadership {
  private readonly log: Logger;
  private readonly speaker: SpeakerLike;
  private readonly takeover: RestartTakeover;
  private readonly metrics: VrrpMetrics | undefined;
  private readonly running = new Map<string, LeadershipInstance>();
  /** Instance -> group, from its becomeMaster action until its becomeBackup action: the VIPs are ours. */
  private readonly holding = new Map<string, string>();
  private readonly listeners = new Set<() => void>();
  private model: ClusterModel | undefined;
  private nodeInputs: string | undefined;
  /** Group -> the priority change that follows health, applied to its sync group (also to instances started later). */
  private readonly offsets = new Map<string, number>();
  private managed = new Set<string>();
  private sole = new Set<string>();
  private queue: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(private readonly o: VrrpLeadershipOptions) {
    this.log = o.log ?? logger('vrrp-leadership');
    const clock = o.clock ?? systemClock;
    this.takeover = new RestartTakeover({
      inner: new LinkTakeover({ clock, link: o.link, announcer: o.announcer }),
      record: o.record,
      link: o.link,
      status: (name) => this.speaker.status(name)[0],
      spec: (name) => this.running.get(name)?.spec,
      clock,
      log: this.log,
    });
    const actions: TakeoverActions = {
      becomeMaster: (ctx) => this.takeover.becomeMaster(ctx).finally(() => this.hold(ctx.instance, true)),
      becomeBackup: (ctx) => this.takeover.becomeBackup(ctx).finally(() => this.hold(ctx.instance, false)),
      reannounce: (ctx) => this.takeover.reannounce(ctx),
    };
    const speakerOptions: VrrpSpeakerOptions = { actions, link: o.link, log: this.log, clock, ...(o.links ? { links: o.links } : {}) };
    this.speaker = o.speaker ? o.speaker(speakerOptions) : new VrrpSpeaker(speakerOptions);
    this.speaker.on('transition', (t) => this.transitioned(t));
    this.metrics = o.registry ? new VrrpMetrics(o.registry, () => this.speaker.status()) : undefined;
  }

  /** For compile: VRRP-managed VIPs are never the reconciler's; a sole director holds its own. */
  readonly leadership: VipLeadership = (group) => !this.managed.has(group) && this.sole.has(group);

  /** For compile: master of a group here, from taking its VIPs until giving them up (the master sync daemon runs meanwhile). */
  readonly isMaster: SyncMastership = (group) => [...this.holding.values()].includes(group);

  /** The real VRRP state for status (undefined: the group runs no VRRP on this node). */
  readonly stateOf: VrrpStateLookup = (group, vips) => {
    if (!this.managed.has(group)) return undefined;
    const states = vips.map((vip) => {
      const inst = [...this.running.values()].find((i) => i.group === group && i.vip === vip);
      return inst ? this.speaker.status(inst.spec.name)[0]?.state : undefined;
    });
    if (states.some((s) => s === 'fault')) return 'Fault';
    if (states.length > 0 && states.every((s) => s === 'master')) return 'Master';
    return states.some((s) => s === undefined || s === 'initialize') ? 'Init' : 'Backup';
  };

  status(): VrrpInstanceStatus[] {
    return this.speaker.status();
  }

  /** Calls `listener` after every transition and takeover (the agent runs a pass). Returns the unsubscribe. */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Takes the pass's model: which groups are VRRP-managed changes at once (this pass's compile
   * sees it); instances are added, re-created (settings changed) or removed in the background, in
   * order. A model seen already changes nothing. `model`: the agent's (default: resolved here).
   */
  update(snapshot: Snapshot, model: ClusterModel = resolve(snapshot)): Promise<void> {
    if (this.stopped) return this.queue;
    // Level-based link state on every pass, beside the notifications.
    this.speaker.refreshLinks().catch((err: unknown) => this.log.warn({ err }, 'links not read'));
    // The Node's annotations (priority, advert sources) are inputs too, and change no model.
    const priority = nodePriority(snapshot, this.o.node);
    const { sources, invalid } = nodeUnicastSources(snapshot, this.o.node);
    const nodeInputs = JSON.stringify([priority, sources, invalid]);
    if (model === this.model && nodeInputs === this.nodeInputs) return this.queue;
    this.model = model;
    this.nodeInputs = nodeInputs;
    const groups = vrrpGroups(model, this.o.node);
    this.managed = new Set(groups);
    this.sole = new Set(soleGroups(model, this.o.node));
    if (invalid.length > 0) this.log.warn({ invalid }, 'Node annotation lvs.dev/vrrp-unicast-src-ip: entries that are no address are ignored');
    this.queue = this.queue.then(async () => {
      const passwords = await vrrpPasswords(model, groups, this.o.readSecret, this.log);
      const specs = vrrpInstanceSpecs(model, this.o.node, { priority, passwords });
      const { ready, refused } = await withAdvertSources(specs, sources, this.o.link);
      for (const r of refused) {
        this.log.error({ vrrp: r.instance.spec.name }, r.message);
        if (this.o.events) recordRefusedSource(this.o.events, this.o.node, r.instance, r.message);
      }
      await this.apply(ready);
    }).catch((err: unknown) => {
      this.log.error({ err }, 'VRRP instances not updated');
    });
    return this.queue;
  }

  /**
   * After compile, every pass: a group whose VIPs this director cannot serve (no live real server)
   * lowers its priority by the group's unhealthyPriorityDrop per such VIP (vrrp-health.ts).
   */
  followHealth(model: ClusterModel, services: readonly CompiledService[]): void {
    if (this.stopped) return;
    for (const [group, unserved] of unservedVips(model, services, this.managed)) {
      const drop = model.groups.get(group)?.group?.spec.vrrp.unhealthyPriorityDrop ?? 0;
      const offset = healthOffset(unserved, drop);
      if ((this.offsets.get(group) ?? 0) === offset) continue;
      this.offsets.set(group, offset);
      this.log.info({ group, unserved, offset }, unserved.length > 0 ? 'no live real server for some VIPs: VRRP priority lowered' : 'every VIP has a live real server: VRRP priority restored');
      this.speaker.setPriorityOffset(group, offset);
    }
  }

  private async apply(want: LeadershipInstance[]): Promise<void> {
    if (this.stopped) return;
    const byName = new Map(want.map((w) => [w.spec.name, w]));
    for (const [name, cur] of this.running) {
      const next = byName.get(name);
      if (next && JSON.stringify(next.spec) === JSON.stringify(cur.spec)) continue;
      this.log.info({ vrrp: name, reason: next ? 'settings changed' : 'VIP gone' }, 'VRRP instance stopping');
      this.running.delete(name);
      this.metrics?.stopped(cur);
      await this.speaker.removeInstance(name);
      if (!next) await this.takeover.forget(name);
    }
    for (const w of want) {
      if (this.running.has(w.spec.name)) continue;
      await this.takeover.keepIfHeld(w);
      // In the map before it starts: its first transition and action look it up.
      this.running.set(w.spec.name, w);
      this.metrics?.started(w);
      try {
        await this.speaker.addInstance(w.spec);
        this.speaker.setPriorityOffset(w.group, this.offsets.get(w.group) ?? 0);
        this.log.info({ vrrp: w.spec.name, vrid: w.spec.vrid, priority: w.spec.priority, advertIntervalMs: w.spec.advertIntervalMs }, 'VRRP instance started');
      } catch (err) {
        this.running.delete(w.spec.name);
        this.takeover.notStarted(w.spec.name);
        this.log.error({ err, vrrp: w.spec.name }, 'VRRP instance not started');
      }
    }
  }

  private hold(instance: string, master: boolean): void {
    const group = this.running.get(instance)?.group;
    if (master && group !== undefined) {
      if (this.holding.get(instance) === group) return;
      this.holding.set(instance, group);
    } else if (!this.holding.delete(instance)) return;
    this.changed();
  }

  private transitioned(t: VrrpTransition): void {
    const inst = this.running.get(t.instance);
    this.metrics?.transitioned(t, inst);
    this.log.info({ vrrp: t.instance, from: t.from, to: t.to, reason: t.reason, master: t.masterAddress }, 'VRRP transition');
    if (inst && this.o.events) recordTransition(this.o.events, this.o.node, inst, t);
    this.changed();
  }

  private changed(): void {
    for (const l of this.listeners) l();
  }

  /**
   * Graceful stop (agent shutdown, rolling update): a master sends priority 0 so a backup takes
   * over after Skew_Time and gives its VIPs up (with `awaitSuccessor`, the agent's restart, once
   * that backup advertises: no connection is refused in between). `isMaster` turns false as the
   * VIPs go, and the agent's last pass then stops the master sync daemon; the backup daemon stays,
   * as all kernel state does, for the next agent.
   */
  async stop(o: { awaitSuccessor?: boolean } = {}): Promise<void> {
    this.stopped = true;
    await this.queue;
    this.takeover.stop();
    await this.speaker.stop(o);
    this.running.clear();
  }
}
