// keepalived's vrrp_sync_group with its tracking, as a layer above VrrpInstances (pure: link
// states and priority offsets are handed in). All members share one fate (vrrp_sync.c):
// - a member in Fault takes all to Fault; when no cause is left, all leave Fault to Backup;
// - a member becoming Master takes the others to Master, but a backup becomes master only when
//   every member wants to (vrrp_sync_can_goto_master), so the group never splits;
// - a master hearing a better master goes Backup and takes the others with it (no priority 0).
// Tracking (vrrp_track.c): each member's own interface, and every tracked interface without a
// weight, puts the group in Fault while down (IFF_UP and IFF_RUNNING, as keepalived's FLAGS_UP); a
// weighted one moves the priority instead: a positive weight is added while up, a negative one
// while down. The group applies its priority change to every member, as keepalived does for a sync
// group's track_interface / track_script with sync_group_tracking_weight (without that option
// keepalived ignores weights in sync groups; weights are the point here, see keepalived-mapping.md).
import type { Logger } from 'pino';
import { logger } from '../util/log.js';
import type { SyncHooks, TransitionReason, VrrpInstance, VrrpState } from './instance.js';

export interface TrackedInterface {
  name: string;
  /** 0: Fault while the interface is down; otherwise -253..253 (keepalived track_interface weight). */
  weight: number;
}

export type SyncGroupState = 'backup' | 'master' | 'fault';

/** keepalived's effective priority: base plus tracking, kept in 1..254; an owner (255) never moves. */
export function effectivePriority(base: number, delta: number): number {
  if (base === 255) return 255;
  return Math.min(254, Math.max(1, base + delta));
}

/** The priority change of weighted tracked interfaces given which are up (vrrp_track.c). */
export function trackingDelta(tracked: readonly TrackedInterface[], isUp: (name: string) => boolean): number {
  let delta = 0;
  for (const t of tracked) {
    if (t.weight > 0 && isUp(t.name)) delta += t.weight;
    if (t.weight < 0 && !isUp(t.name)) delta += t.weight;
  }
  return delta;
}

export interface VrrpSyncGroupOptions {
  tracked?: readonly TrackedInterface[];
  log?: Logger;
}

export class VrrpSyncGroup implements SyncHooks {
  /** Members in the order they joined, with the interface each runs on (tracked by default). */
  private readonly members = new Map<VrrpInstance, string>();
  private tracked: readonly TrackedInterface[];
  /** Link state as last reported; an interface never reported counts as up. */
  private readonly links = new Map<string, boolean>();
  private offset = 0;
  private groupState: SyncGroupState = 'backup';
  private readonly log: Logger;

  constructor(readonly name: string, o: VrrpSyncGroupOptions = {}) {
    this.tracked = o.tracked ?? [];
    this.log = (o.log ?? logger('vrrp')).child({ syncGroup: name });
  }

  get state(): SyncGroupState {
    return this.groupState;
  }

  get faulted(): boolean {
    return this.faultCauses().length > 0;
  }

  /** Why the group is in Fault, e.g. ["eth1 down"]; empty when it is not. */
  faultCauses(): string[] {
    const down = new Set<string>();
    for (const iface of this.members.values()) if (!this.isUp(iface)) down.add(iface);
    for (const t of this.tracked) if (t.weight === 0 && !this.isUp(t.name)) down.add(t.name);
    return [...down].sort().map((i) => `${i} down`);
  }

  /** The priority change now in effect: weighted tracking plus the offset (health). */
  get priorityDelta(): number {
    return trackingDelta(this.tracked, (n) => this.isUp(n)) + this.offset;
  }

  /** Interfaces whose state matters to this group. */
  interfaces(): string[] {
    return [...new Set([...this.members.values(), ...this.tracked.map((t) => t.name)])].sort();
  }

  /** Before the instance starts: it starts in Fault if the group is (or its own interface is down). */
  add(instance: VrrpInstance, iface: string): void {
    this.members.set(instance, iface);
    this.reevaluate();
  }

  /** After the instance shut down. */
  remove(instance: VrrpInstance): void {
    this.members.delete(instance);
    if (this.groupState === 'master' && ![...this.members.keys()].some((m) => m.state === 'master')) this.groupState = 'backup';
    this.reevaluate();
  }

  get size(): number {
    return this.members.size;
  }

  setTracked(tracked: readonly TrackedInterface[]): void {
    this.tracked = tracked;
    this.reevaluate();
  }

  /** A link's state (undefined: forget it, so it counts as up again). */
  setLink(name: string, up: boolean | undefined): void {
    if (up === undefined) this.links.delete(name);
    else this.links.set(name, up);
    this.reevaluate();
  }

  /** An extra priority change for every member (the agent's priority that follows health). */
  setOffset(delta: number): void {
    this.offset = delta;
    this.reevaluate();
  }

  mayBecomeMaster(i: VrrpInstance): boolean {
    if (this.groupState === 'master') return true;
    if (this.groupState === 'fault') return false;
    return [...this.members.keys()].every((m) => m === i || m.wantsMaster);
  }

  transitioned(i: VrrpInstance, from: VrrpState, to: VrrpState, _reason: TransitionReason): void {
    if (!this.members.has(i)) return;
    if (to === 'master' && this.groupState !== 'master') {
      this.groupState = 'master';
      this.log.info({ member: i.config.name }, 'sync group: all members to MASTER');
      for (const m of this.members.keys()) if (m !== i) m.syncMaster();
    } else if (from === 'master' && to === 'backup' && this.groupState === 'master') {
      this.groupState = 'backup';
      this.log.info({ member: i.config.name }, 'sync group: all members to BACKUP');
      for (const m of this.members.keys()) if (m !== i) m.syncBackup();
    }
  }

  private isUp(name: string): boolean {
    return this.links.get(name) ?? true;
  }

  /** Level-based: priorities, then Fault in or out, from the state of the links now. */
  private reevaluate(): void {
    const delta = this.priorityDelta;
    for (const m of this.members.keys()) m.setPriority(effectivePriority(m.config.priority, delta));
    const causes = this.faultCauses();
    if (causes.length > 0 && this.groupState !== 'fault') {
      this.groupState = 'fault';
      this.log.info({ causes }, 'sync group: all members to FAULT');
      for (const m of this.members.keys()) m.enterFault();
    } else if (causes.length === 0 && this.groupState === 'fault') {
      this.groupState = 'backup';
      this.log.info('sync group: fault cleared, all members to BACKUP');
      for (const m of this.members.keys()) m.recover();
    }
  }
}
