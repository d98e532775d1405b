// One VRRP virtual router: the RFC 5798 §6.4 state machine (Initialize / Backup / Master, plus
// keepalived's Fault: a tracked interface is down, so no adverts and no VIPs), also
// run in VRRPv2 mode (RFC 3768: seconds, PASS auth). Pure: time comes from an injected Clock,
// packets come in through receive()/onPacket(), and everything it wants done goes out through
// a VrrpListener. Where the RFC leaves room, it does what keepalived 2.2.7 does (noted below).
import type { Logger } from 'pino';
import { compareIp } from '../address/index.js';
import type { Clock, TimerHandle } from './clock.js';
import { masterDownIntervalMs, resolveConfig, skewTimeMs, type ResolvedConfig, type VrrpInstanceConfig } from './config.js';
import {
  advertIntervalMs,
  checkAdvert,
  decodeAdvert,
  DROP_REASONS,
  type AdvertExpectation,
  type Drop,
  type DropReason,
  type RxInfo,
  type VrrpAdvert,
} from './packet.js';
import { logger } from '../util/log.js';

export type VrrpState = 'initialize' | 'backup' | 'master' | 'fault';

export type TransitionReason =
  | 'startup' // Initialize -> Backup
  | 'owner-startup' // Initialize -> Master: priority 255
  | 'master-down' // Backup -> Master: no advert for Master_Down_Interval
  | 'master-released' // Backup -> Master: Skew_Time after a priority 0 advert
  | 'preempt' // Backup -> Master: the master's priority is lower and we ignored its adverts
  | 'higher-priority' // Master -> Backup
  | 'equal-priority-higher-address' // Master -> Backup
  | 'fault' // -> Fault: an interface the instance tracks (its own, by default) is down
  | 'fault-recovered' // Fault -> Backup (or Master for an address owner)
  | 'sync-master' // -> Master: another member of the sync group became master
  | 'sync-backup' // Master -> Backup: another member of the sync group heard a better master
  | 'shutdown'; // -> Initialize

/** The side effects of the state machine. Called synchronously; must not throw (errors are logged and counted). */
export interface VrrpListener {
  /** Send this advert now (the socket layer encodes it with its source and destination(s)). */
  sendAdvert(priority: number, advert: VrrpAdvert): void;
  /** Entered Master: add the virtual addresses, send gratuitous ARP / unsolicited NA, IPVS sync daemon to master. */
  becomeMaster(): void;
  /** Entered Backup, or shut down while Master: make sure the virtual addresses are gone, sync daemon to backup. */
  becomeBackup(): void;
  /**
   * Master, and another master with a lower priority is heard (a partition healed, a backup that
   * missed adverts): it announced the VIPs, so the LAN's neighbour caches point at it. Announce
   * them again (keepalived's garp_lower_prio_repeat), or traffic goes to a node that no longer
   * holds them until those caches expire.
   */
  lowerPriorityMaster?(): void;
  stateChanged(from: VrrpState, to: VrrpState, reason: TransitionReason): void;
  /**
   * Read every advert already waiting in the socket, now (back into receive()). Called when the
   * Master_Down timer expires, before acting on it: keepalived polls its socket before it looks at
   * timeouts, while Node runs due timers before it polls, so after the event loop was held up (a
   * busy agent on a loaded node) a backup would otherwise take over from a master whose adverts
   * were sitting unread in its socket.
   */
  drainInput?(): void;
}

export interface VrrpCounters {
  advertsSent: number;
  /** Adverts that passed every check and were acted on. */
  advertsReceived: number;
  priorityZeroSent: number;
  priorityZeroReceived: number;
  dropped: Record<DropReason, number>;
  /** Lower-priority adverts a preempting backup ignored (so its Master_Down_Timer runs out). */
  lowerPriorityIgnored: number;
  /** Master_Down expiries undone by adverts that were waiting unread in the socket (drainInput). */
  lateAdvertsHeeded: number;
  /** v3 backups adopt the master's interval (RFC 5798 §6.4.2); counted each time it changes. */
  masterIntervalChanges: number;
  /** Keyed "from->to", e.g. "backup->master". */
  transitions: Record<string, number>;
  listenerErrors: number;
}

/**
 * The sync group an instance belongs to (keepalived vrrp_sync_group, src/vrrp/sync-group.ts):
 * asked before a backup takes over, told of every transition so it moves the other members.
 */
export interface SyncHooks {
  /** May this backup become master now? keepalived: only once every member wants to (no thrashing). */
  mayBecomeMaster(i: VrrpInstance): boolean;
  /** Whether the group is in Fault (an instance then starts in Fault). */
  readonly faulted: boolean;
  transitioned(i: VrrpInstance, from: VrrpState, to: VrrpState, reason: TransitionReason): void;
}

export interface VrrpInstanceOptions {
  clock: Clock;
  listener: VrrpListener;
  log?: Logger;
  sync?: SyncHooks;
}

export class VrrpInstance {
  readonly config: ResolvedConfig;
  private readonly clock: Clock;
  private readonly listener: VrrpListener;
  private readonly log: Logger;
  private readonly expectation: AdvertExpectation;
  private readonly sync: SyncHooks | undefined;
  /** keepalived's wantstate MASTER: the down timer ran out but the sync group held this backup back. */
  private wantMaster = false;

  private currentState: VrrpState = 'initialize';
  private currentPriority: number;
  private masterAdverInterval: number;
  private timer: TimerHandle | undefined;
  /** What made the running Master_Down_Timer start or keep running, reported if it fires. */
  private downReason: TransitionReason = 'master-down';
  /** keepalived's preempt_time: until then a lower-priority master is still accepted. */
  private preemptUntil: number | undefined;
  private master: { address: string; priority: number } | undefined;
  /** When the last advert that counted arrived (clock ms), logged with a master-down takeover. */
  private lastAdvertAt: number | undefined;
  private readonly counters: VrrpCounters;

  constructor(config: VrrpInstanceConfig, opts: VrrpInstanceOptions) {
    this.config = resolveConfig(config);
    this.clock = opts.clock;
    this.listener = opts.listener;
    this.sync = opts.sync;
    this.log = (opts.log ?? logger('vrrp')).child({ vrrp: this.config.name, vrid: this.config.vrid });
    this.currentPriority = this.config.priority;
    this.masterAdverInterval = this.config.advertIntervalMs;
    this.expectation = {
      version: this.config.version,
      family: this.config.family,
      vrid: this.config.vrid,
      addresses: this.config.virtualAddresses,
      advertIntervalMs: this.config.advertIntervalMs,
      authType: this.config.authType,
      authData: this.config.authData,
    };
    this.counters = {
      advertsSent: 0,
      advertsReceived: 0,
      priorityZeroSent: 0,
      priorityZeroReceived: 0,
      dropped: Object.fromEntries(DROP_REASONS.map((r) => [r, 0])) as Record<DropReason, number>,
      lowerPriorityIgnored: 0,
      lateAdvertsHeeded: 0,
      masterIntervalChanges: 0,
      transitions: {},
      listenerErrors: 0,
    };
  }

  get state(): VrrpState {
    return this.currentState;
  }

  /** The priority now in effect (setPriority changes it; config.priority is the configured one). */
  get priority(): number {
    return this.currentPriority;
  }

  /** Master_Adver_Interval: our own interval, or in v3 the one the current master advertises. */
  get masterAdverIntervalMs(): number {
    return this.masterAdverInterval;
  }

  get skewTimeMs(): number {
    return skewTimeMs(this.config.version, this.currentPriority, this.masterAdverInterval);
  }

  get masterDownIntervalMs(): number {
    return masterDownIntervalMs(this.config.version, this.currentPriority, this.masterAdverInterval);
  }

  /** Who is master as far as this router knows: itself, the source of the last accepted advert, or unknown. */
  get currentMaster(): { address: string; priority: number } | undefined {
    if (this.currentState === 'master') return { address: this.config.primaryAddress, priority: this.currentPriority };
    return this.currentState === 'backup' ? this.master : undefined;
  }

  /** A copy of the counters. */
  stats(): VrrpCounters {
    return structuredClone(this.counters);
  }

  /** The advert this router sends at `priority`. */
  advert(priority: number = this.currentPriority): VrrpAdvert {
    const c = this.config;
    if (c.version === 3) {
      return {
        version: 3,
        family: c.family,
        vrid: c.vrid,
        priority,
        maxAdvertIntervalCs: c.advertIntervalMs / 10,
        addresses: [...c.virtualAddresses],
      };
    }
    return {
      version: 2,
      family: 'IPv4',
      vrid: c.vrid,
      priority,
      advertIntervalSec: c.advertIntervalMs / 1000,
      authType: c.authType,
      authData: Buffer.from(c.authData),
      addresses: [...c.virtualAddresses],
    };
  }

  /** Whether this instance would take (or holds) mastership: its sync group moves only when every member does. */
  get wantsMaster(): boolean {
    return this.currentState === 'master' || (this.currentState === 'backup' && this.wantMaster);
  }

  /** RFC 5798 §6.4.1: the Startup event (straight to Fault while the sync group is, as keepalived's init). */
  start(): void {
    if (this.currentState !== 'initialize') return;
    if (this.config.preemptDelayMs > 0) this.preemptUntil = this.clock.now() + this.config.preemptDelayMs;
    if (this.sync?.faulted) {
      this.enterFault();
      return;
    }
    if (this.currentPriority === 255) {
      this.becomeMaster('owner-startup');
      return;
    }
    this.masterAdverInterval = this.config.advertIntervalMs;
    this.master = undefined;
    this.enterBackup('startup');
  }

  /**
   * RFC 5798 §6.4.2/§6.4.3: the Shutdown event. A master sends priority 0 so a backup takes over
   * after Skew_Time, and gives its VIPs up at once, as keepalived does. With `awaitSuccessor` (a
   * router going away while its peers stay: an agent restart) it keeps them until the successor's
   * first advert arrives, or Master_Down_Interval passes with none: until the successor owns the
   * VIP this router still answers for it, so a rolling restart refuses no connection
   * (docs/keepalived-mapping.md). `released` settles when the VIPs are given up.
   */
  shutdown(o: { awaitSuccessor?: boolean } = {}): void {
    const from = this.currentState;
    if (from === 'initialize') return;
    this.cancelTimer();
    this.currentState = 'initialize';
    if (from === 'master') {
      this.send(0);
      this.releasing = true;
      if (o.awaitSuccessor) this.setTimer(this.masterDownIntervalMs, () => this.giveUp('no successor advertised'));
      else this.giveUp('');
    } else {
      this.releasedNow();
    }
    this.transitioned(from, 'initialize', 'shutdown');
  }

  /** Settles once a shut-down instance has given its VIPs up (at once unless it was master). */
  get released(): Promise<void> {
    return this.releasedPromise;
  }

  private releasing = false;
  private releasedNow: () => void = () => undefined;
  private readonly releasedPromise = new Promise<void>((resolve) => { this.releasedNow = resolve; });

  private giveUp(why: string): void {
    if (!this.releasing) return;
    this.releasing = false;
    this.cancelTimer();
    if (why) this.log.info({ why }, 'VIPs given up after shutdown');
    this.call('becomeBackup', () => this.listener.becomeBackup());
    this.releasedNow();
  }

  /**
   * Change the priority in effect (priority follows health). A master advertises the new value at
   * once so a better backup can preempt; 255 here does not make a router the owner (only at start).
   */
  setPriority(priority: number): void {
    if (!Number.isInteger(priority) || priority < 1 || priority > 255) {
      throw new RangeError(`VRRP ${this.config.name}: priority must be an integer in 1..255, got ${priority}`);
    }
    if (priority === this.currentPriority) return;
    this.log.info({ from: this.currentPriority, to: priority }, 'priority changed');
    this.currentPriority = priority;
    if (this.currentState === 'master') this.send(priority);
  }

  /**
   * A VRRP message as the socket delivered it (the VRRP part, after the IPv4 header) plus
   * what the socket knows about it. Never throws on bad bytes: drops are counted.
   */
  receive(bytes: Uint8Array, rx: RxInfo): void {
    const decoded = decodeAdvert(bytes, this.config.checkTtl ? rx : { ...rx, ttl: undefined });
    if (!decoded.ok) {
      this.dropped(decoded, rx.src);
      return;
    }
    this.onPacket(decoded.advert, rx.src);
  }

  /** A decoded advert from `srcAddr` (checked here against the configuration before it counts). */
  onPacket(advert: VrrpAdvert, srcAddr: string): void {
    if (this.currentState === 'initialize' && !this.releasing) return;
    // keepalived ignores every advert in Fault: the instance is not part of the election.
    if (this.currentState === 'fault') return;
    if (compareIp(this.config.family, srcAddr, this.config.primaryAddress) === 0) {
      // Our own advert looped back (or an address conflict): never let it win an election.
      this.dropped({ reason: 'from-self', detail: 'advert carries our own primary address' }, srcAddr);
      return;
    }
    const bad = checkAdvert(advert, this.expectation);
    if (bad) {
      this.dropped(bad, srcAddr);
      return;
    }
    this.counters.advertsReceived++;
    this.lastAdvertAt = this.clock.now();
    if (advert.priority === 0) this.counters.priorityZeroReceived++;
    if (this.releasing) {
      if (advert.priority > 0) this.giveUp(`${srcAddr} advertises as master`);
      return;
    }
    if (this.currentState === 'backup') this.backupReceived(advert, srcAddr);
    else this.masterReceived(advert, srcAddr);
  }

  // RFC 5798 §6.4.2, with keepalived's preempt_delay.
  private backupReceived(a: VrrpAdvert, src: string): void {
    if (a.priority === 0) {
      this.downReason = 'master-released';
      this.setTimer(this.skewTimeMs, () => this.downTimerFired());
      return;
    }
    const delaying =
      this.config.preemptDelayMs > 0 && (this.preemptUntil === undefined || this.clock.now() < this.preemptUntil);
    if (!this.config.preempt || a.priority >= this.currentPriority || delaying) {
      if (a.version === 3) this.adoptMasterInterval(advertIntervalMs(a));
      this.master = { address: src, priority: a.priority };
      // Held back by the sync group, but a master we accept is heard: want Backup again (keepalived).
      this.wantMaster = false;
      if (this.config.preemptDelayMs > 0) {
        if (a.priority >= this.currentPriority) this.preemptUntil = undefined;
        else this.preemptUntil ??= this.clock.now() + this.config.preemptDelayMs;
      }
      this.downReason = 'master-down';
      this.setTimer(this.masterDownIntervalMs, () => this.downTimerFired());
      return;
    }
    // A lower-priority master while we may preempt: discard, and let the running timer expire.
    this.counters.lowerPriorityIgnored++;
    this.master = { address: src, priority: a.priority };
    this.downReason = 'preempt';
  }

  // RFC 5798 §6.4.3.
  private masterReceived(a: VrrpAdvert, src: string): void {
    if (a.priority === 0) {
      this.send(this.currentPriority);
      this.setTimer(this.config.advertIntervalMs, () => this.advertTimerFired());
      return;
    }
    const cmp = compareIp(this.config.family, src, this.config.primaryAddress);
    if (a.priority > this.currentPriority || (a.priority === this.currentPriority && cmp > 0)) {
      if (a.version === 3) this.adoptMasterInterval(advertIntervalMs(a));
      else this.masterAdverInterval = this.config.advertIntervalMs;
      this.master = { address: src, priority: a.priority };
      // One last advert of ours first (keepalived's higher_prio_send_advert): the other master
      // may never have heard us (a healed partition), and hearing a lower priority is what makes
      // it announce the VIPs again, which the LAN learnt from us meanwhile.
      this.send(this.currentPriority);
      this.enterBackup(a.priority > this.currentPriority ? 'higher-priority' : 'equal-priority-higher-address');
      return;
    }
    // The RFC discards a lower-priority advert; keepalived answers it with one of its own so the
    // other master (e.g. after a partition heals) steps down without waiting for our next timer.
    this.send(this.currentPriority);
    this.call('lowerPriorityMaster', () => this.listener.lowerPriorityMaster?.());
  }

  private adoptMasterInterval(ms: number): void {
    if (ms === this.masterAdverInterval) return;
    this.log.info({ from: this.masterAdverInterval, to: ms }, 'adopting the master advert interval');
    this.masterAdverInterval = ms;
    this.counters.masterIntervalChanges++;
  }

  private downTimerFired(): void {
    this.timer = undefined;
    if (this.currentState !== 'backup') return;
    this.call('drainInput', () => this.listener.drainInput?.());
    if (this.timer !== undefined || this.currentState !== 'backup') {
      // An advert that was waiting re-armed the timer (or moved the state): the master is alive.
      this.counters.lateAdvertsHeeded++;
      this.log.info({ state: this.currentState, master: this.master }, 'Master_Down expiry undone by an advert read late (the event loop was held up)');
      return;
    }
    this.wantMaster = true;
    if (this.sync && !this.sync.mayBecomeMaster(this)) {
      // keepalived (vrrp_sync_can_goto_master): wait, wanting master, until every member does.
      this.setTimer(this.masterDownIntervalMs, () => this.downTimerFired());
      return;
    }
    this.becomeMaster(this.downReason);
  }

  /**
   * Fault (keepalived down_instance / vrrp_sync_fault): a master sends priority 0 so a backup
   * takes over after Skew_Time, and gives its VIPs up; no adverts are sent or heard and no timer
   * runs until recover(). Idempotent.
   */
  enterFault(): void {
    const from = this.currentState;
    if (from === 'fault') return;
    this.cancelTimer();
    this.currentState = 'fault';
    this.wantMaster = false;
    this.master = undefined;
    if (from === 'master') this.send(0);
    this.call('becomeBackup', () => this.listener.becomeBackup());
    this.transitioned(from, 'fault', 'fault');
  }

  /**
   * Leaves Fault (keepalived try_up_instance / vrrp_state_leave_fault): to Backup, electing as at
   * startup from Master_Down_Interval (an address owner goes straight to Master).
   */
  recover(): void {
    if (this.currentState !== 'fault') return;
    this.masterAdverInterval = this.config.advertIntervalMs;
    if (this.currentPriority === 255) this.becomeMaster('fault-recovered');
    else this.enterBackup('fault-recovered');
  }

  /** The sync group made another member master: this one follows at once (keepalived vrrp_sync_master). */
  syncMaster(): void {
    if (this.currentState === 'backup' || this.currentState === 'fault') this.becomeMaster('sync-master');
  }

  /**
   * Another member heard a better master: this one leaves Master without an advert and gives its
   * VIPs up (keepalived vrrp_sync_backup: vrrp_state_leave_master with no priority 0).
   */
  syncBackup(): void {
    if (this.currentState === 'master' || this.currentState === 'fault') this.enterBackup('sync-backup');
  }

  private advertTimerFired(): void {
    this.timer = undefined;
    if (this.currentState !== 'master') return;
    this.send(this.currentPriority);
    this.setTimer(this.config.advertIntervalMs, () => this.advertTimerFired());
  }

  private becomeMaster(reason: TransitionReason): void {
    const from = this.currentState;
    this.cancelTimer();
    this.currentState = 'master';
    this.wantMaster = false;
    this.masterAdverInterval = this.config.advertIntervalMs;
    this.master = undefined;
    this.preemptUntil = undefined;
    this.send(this.currentPriority);
    this.call('becomeMaster', () => this.listener.becomeMaster());
    this.setTimer(this.config.advertIntervalMs, () => this.advertTimerFired());
    this.transitioned(from, 'master', reason);
  }

  private enterBackup(reason: TransitionReason): void {
    const from = this.currentState;
    this.cancelTimer();
    this.currentState = 'backup';
    this.wantMaster = false;
    // keepalived clears preempt_time on entering Backup, so a delay restarts from the next lower advert;
    // at startup start() has just set it, and that first delay counts from startup.
    if (from !== 'initialize') this.preemptUntil = undefined;
    this.downReason = 'master-down';
    this.setTimer(this.masterDownIntervalMs, () => this.downTimerFired());
    this.call('becomeBackup', () => this.listener.becomeBackup());
    this.transitioned(from, 'backup', reason);
  }

  private send(priority: number): void {
    this.counters.advertsSent++;
    if (priority === 0) this.counters.priorityZeroSent++;
    const advert = this.advert(priority);
    this.call('sendAdvert', () => this.listener.sendAdvert(priority, advert));
  }

  private transitioned(from: VrrpState, to: VrrpState, reason: TransitionReason): void {
    const key = `${from}->${to}`;
    this.counters.transitions[key] = (this.counters.transitions[key] ?? 0) + 1;
    const silentMs = reason === 'master-down' && this.lastAdvertAt !== undefined ? Math.round(this.clock.now() - this.lastAdvertAt) : undefined;
    this.log.info({ from, to, reason, priority: this.currentPriority, ...(silentMs !== undefined ? { msSinceLastAdvert: silentMs } : {}) }, 'VRRP state change');
    this.call('stateChanged', () => this.listener.stateChanged(from, to, reason));
    this.sync?.transitioned(this, from, to, reason);
  }

  private dropped(d: Drop, src: string): void {
    this.counters.dropped[d.reason]++;
    this.log.debug({ reason: d.reason, detail: d.detail, src }, 'VRRP packet dropped');
  }

  private setTimer(delayMs: number, fire: () => void): void {
    this.cancelTimer();
    this.timer = this.clock.setTimer(delayMs, fire);
  }

  private cancelTimer(): void {
    if (this.timer !== undefined) this.clock.cancel(this.timer);
    this.timer = undefined;
  }

  private call(what: keyof VrrpListener, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.counters.listenerErrors++;
      this.log.error({ err, callback: what }, 'VRRP listener failed');
    }
  }
}
