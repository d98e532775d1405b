// The VRRP runtime: real sockets, the real clock and takeover actions around pure VrrpInstances.
// One receive/send channel per interface and family is shared by every instance on it (routed by
// VRID through a VrrpDemux, as keepalived shares its sockets); each instance runs its takeover
// actions one at a time, in transition order, and aborts a running one when it changes state again.
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { LinkClient } from '../../link/index.js';
import { logger } from '../../util/log.js';
import { canonicalIp, ipFamily, type IpFamily } from '../../address/index.js';
import { systemClock, type Clock } from '../clock.js';
import type { VrrpAuthConfig } from '../config.js';
import { VrrpDemux, type DemuxCounters } from '../demux.js';
import { VrrpInstance, type TransitionReason, type VrrpCounters, type VrrpState } from '../instance.js';
import { encodeAdvert, VRRP_MULTICAST_IPV4, VRRP_MULTICAST_IPV6, type VrrpAdvert } from '../packet.js';
import { VrrpSyncGroup, type SyncGroupState, type TrackedInterface } from '../sync-group.js';
import type { LinkStateSource } from './link-monitor.js';
import { rawChannelFactory, type ChannelCounters, type ChannelFactory, type VrrpChannel } from './channel.js';
import type { TakeoverActions, TakeoverContext, Vip } from './takeover.js';

export interface VrrpInstanceSpec {
  /** Unique in this speaker, e.g. "web/10.0.0.100"; names logs, status and metrics. */
  name: string;
  interface: string;
  version: 2 | 3;
  vrid: number;
  priority: number;
  advertIntervalMs: number;
  /** "10.0.0.100" (a /32), "10.0.0.100/24", "2001:db8::100" (a /128); all of one family. */
  vips: string[];
  preempt?: boolean;
  preemptDelayMs?: number;
  /** v2 only. */
  auth?: VrrpAuthConfig;
  /** Send adverts to these addresses instead of the multicast group (TTL is then not checked, as in keepalived). */
  unicastPeers?: string[];
  /** Advert source and tie-breaker; default: the interface's first IPv4 address that is no VIP, or its IPv6 link-local. */
  primaryAddress?: string;
  /** Announcements per VIP on becoming master (default 5) and the pause between them (default 0 ms). */
  garpRepeat?: number;
  garpIntervalMs?: number;
  /** A second round of garpRepeat announcements this long after becoming master (keepalived garp_master_delay; default 0: none). */
  garpMasterDelayMs?: number;
  /** While master, garpRefreshRepeat announcements every this long (keepalived garp_master_refresh; default 0: none). */
  garpRefreshMs?: number;
  garpRefreshRepeat?: number;
  /**
   * keepalived vrrp_sync_group: instances naming the same group share one fate (Fault, Master,
   * Backup). Default: a group of this instance alone.
   */
  syncGroup?: string;
  /**
   * keepalived track_interface, for the whole sync group (the instance's own interface is always
   * tracked): weight 0 puts the group in Fault while the interface is down, others move its priority.
   */
  trackInterfaces?: TrackedInterface[];
}

export interface VrrpTransition {
  instance: string;
  interface: string;
  family: IpFamily;
  vrid: number;
  from: VrrpState;
  to: VrrpState;
  reason: TransitionReason;
  priority: number;
  /** Backup: the master's address when known; Master: our own. */
  masterAddress?: string;
  /** Fault: why, e.g. "eth1 down". */
  faultCauses?: string[];
  at: Date;
}

export interface VrrpInstanceStatus {
  name: string;
  interface: string;
  family: IpFamily;
  vrid: number;
  state: VrrpState;
  priority: number;
  primaryAddress: string;
  vips: string[];
  master?: { address: string; priority: number };
  /** When the current state was entered. */
  since: Date;
  reason?: TransitionReason;
  counters: VrrpCounters;
  /** Adverts the socket refused to send (e.g. interface down). */
  sendErrors: number;
  /** Takeover actions that failed. */
  actionErrors: number;
  syncGroup: string;
  /** Why the sync group is in Fault (empty when it is not). */
  faultCauses: string[];
}

export interface VrrpSpeakerStats {
  /** Keyed "<interface>/<family>". */
  channels: Record<string, ChannelCounters & { demux: DemuxCounters }>;
}

export interface VrrpSpeakerEvents {
  transition: [VrrpTransition];
  /** A takeover action failed (the state machine goes on; the agent's reconcile repairs addresses). */
  actionError: [{ instance: string; action: TakeoverAction; error: unknown }];
}

export interface VrrpSpeakerOptions {
  actions: TakeoverActions;
  /** Finds the advert source address when a spec gives none. */
  link: Pick<LinkClient, 'listAddresses'>;
  channels?: ChannelFactory;
  /** Link states for tracking (an rtnetlink NetlinkLinkMonitor); without it every link counts as up. */
  links?: LinkStateSource;
  clock?: Clock;
  log?: Logger;
}

interface GroupEntry {
  group: VrrpSyncGroup;
  members: number;
}

interface ChannelEntry {
  key: string;
  channel: VrrpChannel;
  demux: VrrpDemux;
  users: number;
}

type TakeoverAction = keyof TakeoverActions;

interface Entry {
  spec: VrrpInstanceSpec;
  family: IpFamily;
  vips: Vip[];
  primary: string;
  destinations: string[];
  instance: VrrpInstance;
  channel: ChannelEntry;
  sync: GroupEntry;
  queue: Promise<void>;
  abort: AbortController | undefined;
  /** A re-announcement is queued or running (one at a time is enough). */
  reannouncing: boolean;
  since: Date;
  reason: TransitionReason | undefined;
  sendErrors: number;
  actionErrors: number;
  lastSendErrorLog: number;
}

const SEND_ERROR_LOG_EVERY_MS = 10_000;

/** "addr" or "addr/len" -> family, canonical address, prefix length (default host route). */
export function parseVip(text: string): Vip & { family: IpFamily } {
  const [addr = '', len, extra] = text.split('/');
  const family = ipFamily(addr);
  if (!family || extra !== undefined) throw new TypeError(`VIP ${JSON.stringify(text)} is not an address or address/prefix`);
  const max = family === 'IPv4' ? 32 : 128;
  const prefixLen = len === undefined ? max : Number(len);
  if (!/^\d{1,3}$/.test(len ?? '0') || prefixLen < 0 || prefixLen > max) {
    throw new RangeError(`VIP ${JSON.stringify(text)}: prefix length must be 0..${max}`);
  }
  return { family, address: canonicalIp(addr), prefixLen };
}

export class VrrpSpeaker extends EventEmitter<VrrpSpeakerEvents> {
  private readonly entries = new Map<string, Entry>();
  private readonly channels = new Map<string, ChannelEntry>();
  private readonly actions: TakeoverActions;
  private readonly link: Pick<LinkClient, 'listAddresses'>;
  private readonly openChannel: ChannelFactory;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly channelErrors = new Map<string, number>();
  private readonly groups = new Map<string, GroupEntry>();
  private readonly links: LinkStateSource | undefined;
  private readonly unsubscribeLinks: (() => void) | undefined;
  /** Takeover actions of removed instances still running: a re-added instance (same VIPs, new settings) waits for them. */
  private readonly draining = new Set<Promise<void>>();

  constructor(o: VrrpSpeakerOptions) {
    super();
    this.actions = o.actions;
    this.link = o.link;
    this.openChannel = o.channels ?? rawChannelFactory;
    this.clock = o.clock ?? systemClock;
    this.log = o.log ?? logger('vrrp');
    this.links = o.links;
    this.unsubscribeLinks = o.links?.subscribe((name, up) => {
      for (const g of this.groups.values()) if (g.group.interfaces().includes(name)) g.group.setLink(name, up);
    });
  }

  /** Starts an instance (in Backup, or Master at once for priority 255). Throws on a bad spec or socket. */
  async addInstance(spec: VrrpInstanceSpec): Promise<void> {
    if (this.entries.has(spec.name)) throw new Error(`VRRP instance ${spec.name} already exists`);
    const parsed = spec.vips.map(parseVip);
    const family = parsed[0]?.family;
    if (!family) throw new RangeError(`VRRP instance ${spec.name}: needs at least one VIP`);
    if (parsed.some((v) => v.family !== family)) throw new RangeError(`VRRP instance ${spec.name}: VIPs mix IPv4 and IPv6`);
    const vips = parsed.map(({ address, prefixLen }) => ({ address, prefixLen }));
    const peers = (spec.unicastPeers ?? []).map((p) => {
      if (ipFamily(p) !== family) throw new TypeError(`VRRP instance ${spec.name}: unicast peer ${p} is not ${family}`);
      return canonicalIp(p);
    });
    if (spec.primaryAddress !== undefined && ipFamily(spec.primaryAddress) !== family) {
      throw new TypeError(`VRRP instance ${spec.name}: primaryAddress ${spec.primaryAddress} is not ${family}`);
    }
    const primary =
      spec.primaryAddress !== undefined
        ? canonicalIp(spec.primaryAddress)
        : await this.findPrimary(spec.interface, family, vips);
    if (this.entries.has(spec.name)) throw new Error(`VRRP instance ${spec.name} already exists`);

    const channel = this.acquireChannel(spec.interface, family);
    const sync = this.acquireGroup(spec);
    const destinations = peers.length > 0 ? peers : [family === 'IPv4' ? VRRP_MULTICAST_IPV4 : VRRP_MULTICAST_IPV6];
    // `instance` is set just below: its listener needs the entry, the entry needs it.
    const entry = {
      spec, family, vips, primary, destinations, channel,
      // Its first action (becomeBackup at start) must not overtake a removed instance's last one.
      queue: Promise.all([...this.draining]).then(() => undefined),
      sync, abort: undefined, reannouncing: false, since: new Date(), reason: undefined,
      sendErrors: 0, actionErrors: 0, lastSendErrorLog: -Infinity,
    } as Omit<Entry, 'instance'> as Entry;
    try {
      if (peers.length === 0) channel.channel.joinMulticast();
      entry.instance = new VrrpInstance(
        {
          name: spec.name,
          version: spec.version,
          family,
          vrid: spec.vrid,
          priority: spec.priority,
          advertIntervalMs: spec.advertIntervalMs,
          primaryAddress: primary,
          virtualAddresses: vips.map((v) => v.address),
          preempt: spec.preempt ?? true,
          preemptDelayMs: spec.preemptDelayMs ?? 0,
          ...(spec.auth ? { auth: spec.auth } : {}),
          checkTtl: peers.length === 0,
        },
        {
          clock: this.clock,
          log: this.log,
          listener: {
            sendAdvert: (_priority, advert) => this.sendAdvert(entry, advert),
            becomeMaster: () => this.enqueue(entry, 'becomeMaster'),
            becomeBackup: () => this.enqueue(entry, 'becomeBackup'),
            lowerPriorityMaster: () => this.reannounce(entry),
            stateChanged: (from, to, reason) => this.transitioned(entry, from, to, reason),
            drainInput: () => {
              entry.channel.channel.drain();
            },
          },
          sync: sync.group,
        },
      );
      channel.demux.add(entry.instance);
    } catch (err) {
      this.releaseChannel(channel);
      this.releaseGroup(sync);
      throw err;
    }
    this.entries.set(spec.name, entry);
    sync.group.add(entry.instance, spec.interface);
    this.feedLinks(sync.group);
    entry.instance.start();
  }

  /**
   * Stops an instance: a master sends priority 0 (so a backup takes over after Skew_Time) and
   * gives its VIPs up, with `awaitSuccessor` only once the successor advertises (see
   * VrrpInstance.shutdown). Resolves when its takeover actions have finished.
   */
  async removeInstance(name: string, o: { awaitSuccessor?: boolean } = {}): Promise<void> {
    const e = this.entries.get(name);
    if (!e) return;
    this.entries.delete(name);
    e.instance.shutdown(o);
    // Still listening meanwhile: the successor's advert is what ends the handover.
    await e.instance.released;
    e.channel.demux.remove(e.instance);
    e.sync.group.remove(e.instance);
    this.releaseGroup(e.sync);
    const done = e.queue;
    this.draining.add(done);
    try {
      await done;
    } finally {
      this.draining.delete(done);
      this.releaseChannel(e.channel);
    }
  }

  /** Priority follows health: a master advertises the new value at once. */
  setPriority(name: string, priority: number): void {
    const e = this.entries.get(name);
    if (!e) throw new Error(`no VRRP instance ${name}`);
    e.instance.setPriority(priority);
  }

  /**
   * An extra priority change for every member of a sync group (priority that follows health);
   * the members' effective priority is their own plus tracking plus this, in 1..254.
   */
  setPriorityOffset(syncGroup: string, delta: number): void {
    this.groups.get(syncGroup)?.group.setOffset(delta);
  }

  /** Reads the links again (level-based, on the agent's pass): a lost notification cannot keep a group wrong. */
  async refreshLinks(): Promise<void> {
    await this.links?.refresh();
  }

  /** The state of a sync group, or undefined when no instance uses it. */
  syncGroupState(name: string): SyncGroupState | undefined {
    return this.groups.get(name)?.group.state;
  }

  /**
   * Graceful shutdown of every instance (priority 0 adverts; VIPs removed, with `awaitSuccessor`
   * once a successor advertises), then the sockets close.
   */
  async stop(o: { awaitSuccessor?: boolean } = {}): Promise<void> {
    await Promise.all([...this.entries.keys()].map((n) => this.removeInstance(n, o)));
    this.unsubscribeLinks?.();
  }

  instanceNames(): string[] {
    return [...this.entries.keys()];
  }

  status(name?: string): VrrpInstanceStatus[] {
    const out: VrrpInstanceStatus[] = [];
    for (const e of this.entries.values()) {
      if (name !== undefined && e.spec.name !== name) continue;
      const master = e.instance.currentMaster;
      out.push({
        name: e.spec.name,
        interface: e.spec.interface,
        family: e.family,
        vrid: e.spec.vrid,
        state: e.instance.state,
        priority: e.instance.priority,
        primaryAddress: e.primary,
        vips: e.vips.map((v) => `${v.address}/${v.prefixLen}`),
        ...(master ? { master } : {}),
        since: e.since,
        ...(e.reason ? { reason: e.reason } : {}),
        counters: e.instance.stats(),
        sendErrors: e.sendErrors,
        actionErrors: e.actionErrors,
        syncGroup: e.sync.group.name,
        faultCauses: e.sync.group.faultCauses(),
      });
    }
    return out;
  }

  stats(): VrrpSpeakerStats {
    const channels: VrrpSpeakerStats['channels'] = {};
    for (const c of this.channels.values()) {
      channels[c.key] = { ...c.channel.stats(), demux: c.demux.stats() };
    }
    return { channels };
  }

  private async findPrimary(ifname: string, family: IpFamily, own: Vip[]): Promise<string> {
    // A VIP may already sit on the interface (we were master before a restart): never send from one.
    const vips = new Set([...own, ...[...this.entries.values()].flatMap((e) => e.vips)].map((v) => v.address));
    const addrs = await this.link.listAddresses(ifname);
    const found = addrs.find((a) => {
      if (a.family !== family) return false;
      if (family === 'IPv6') return /^fe[89ab]/i.test(a.address);
      return !vips.has(a.address);
    });
    if (!found) {
      throw new Error(
        `no ${family === 'IPv4' ? 'IPv4' : 'IPv6 link-local'} address on ${ifname} to send VRRP adverts from (set primaryAddress)`,
      );
    }
    return canonicalIp(found.address);
  }

  private acquireGroup(spec: VrrpInstanceSpec): GroupEntry {
    const name = spec.syncGroup ?? spec.name;
    let g = this.groups.get(name);
    if (!g) {
      g = { group: new VrrpSyncGroup(name, { log: this.log }), members: 0 };
      this.groups.set(name, g);
    }
    g.members++;
    // The latest spec's tracking is the group's (the agent gives every member the same).
    if (spec.trackInterfaces) g.group.setTracked(spec.trackInterfaces);
    return g;
  }

  private releaseGroup(g: GroupEntry): void {
    if (--g.members > 0) return;
    if (this.groups.get(g.group.name) === g) this.groups.delete(g.group.name);
  }

  /** Hands the group the state of every interface it watches, as far as the link source knows it. */
  private feedLinks(group: VrrpSyncGroup): void {
    if (!this.links) return;
    for (const name of group.interfaces()) {
      const up = this.links.isUp(name);
      if (up !== undefined) group.setLink(name, up);
    }
  }

  private acquireChannel(ifname: string, family: IpFamily): ChannelEntry {
    const key = `${ifname}/${family}`;
    let c = this.channels.get(key);
    if (!c) {
      const demux = new VrrpDemux(family);
      const channel = this.openChannel({
        ifname,
        family,
        demux,
        onError: (err) => this.channelError(key, err),
      });
      c = { key, channel, demux, users: 0 };
      this.channels.set(key, c);
    }
    c.users++;
    return c;
  }

  private releaseChannel(c: ChannelEntry): void {
    if (--c.users > 0) return;
    this.channels.delete(c.key);
    c.channel.close();
  }

  private channelError(key: string, err: Error): void {
    const n = (this.channelErrors.get(key) ?? 0) + 1;
    this.channelErrors.set(key, n);
    // ENETDOWN and friends repeat while a link is down: log the first and then every 100th.
    if (n === 1 || n % 100 === 0) this.log.warn({ err, channel: key, count: n }, 'VRRP receive error');
  }

  private sendAdvert(e: Entry, advert: VrrpAdvert): void {
    for (const dst of e.destinations) {
      try {
        e.channel.channel.send(encodeAdvert(advert, { src: e.primary, dst }), e.primary, dst);
      } catch (err) {
        e.sendErrors++;
        const now = this.clock.now();
        if (now - e.lastSendErrorLog >= SEND_ERROR_LOG_EVERY_MS) {
          e.lastSendErrorLog = now;
          this.log.warn({ err, vrrp: e.spec.name, dst, sendErrors: e.sendErrors }, 'VRRP advert not sent');
        }
      }
    }
  }

  private enqueue(e: Entry, action: 'becomeMaster' | 'becomeBackup'): void {
    e.abort?.abort();
    const abort = new AbortController();
    e.abort = abort;
    const ctx = this.context(e, abort);
    this.run(e, action, () => this.actions[action](ctx));
  }

  /** Announces the VIPs again behind the queued actions, aborted like them by the next transition. */
  private reannounce(e: Entry): void {
    const reannounce = this.actions.reannounce?.bind(this.actions);
    if (!reannounce || e.reannouncing) return;
    e.reannouncing = true;
    e.abort ??= new AbortController();
    const ctx = this.context(e, e.abort);
    this.run(e, 'reannounce', async () => {
      e.reannouncing = false;
      if (!ctx.signal.aborted) await reannounce(ctx);
    });
  }

  private context(e: Entry, abort: AbortController): TakeoverContext {
    return {
      instance: e.spec.name,
      ifname: e.spec.interface,
      family: e.family,
      vrid: e.spec.vrid,
      vips: e.vips,
      garpRepeat: e.spec.garpRepeat ?? 5,
      garpIntervalMs: e.spec.garpIntervalMs ?? 0,
      garpMasterDelayMs: e.spec.garpMasterDelayMs ?? 0,
      garpRefreshMs: e.spec.garpRefreshMs ?? 0,
      garpRefreshRepeat: e.spec.garpRefreshRepeat ?? 1,
      signal: abort.signal,
    };
  }

  private run(e: Entry, action: TakeoverAction, fn: () => Promise<void>): void {
    e.queue = e.queue
      .then(fn)
      .catch((error: unknown) => {
        e.actionErrors++;
        this.log.error({ err: error, vrrp: e.spec.name, action }, 'VRRP takeover action failed');
        this.emit('actionError', { instance: e.spec.name, action, error });
      });
  }

  private transitioned(e: Entry, from: VrrpState, to: VrrpState, reason: TransitionReason): void {
    e.since = new Date();
    e.reason = reason;
    const master = e.instance.currentMaster;
    const causes = to === 'fault' ? e.sync.group.faultCauses() : [];
    this.emit('transition', {
      instance: e.spec.name,
      interface: e.spec.interface,
      family: e.family,
      vrid: e.spec.vrid,
      from,
      to,
      reason,
      priority: e.instance.priority,
      ...(master ? { masterAddress: master.address } : {}),
      ...(causes.length > 0 ? { faultCauses: causes } : {}),
      at: e.since,
    });
  }
}
