// Link state for VRRP tracking (keepalived track_interface and an instance's own interface): an
// rtnetlink socket subscribed to RTNLGRP_LINK, so a carrier loss or `ip link set down` is seen at
// once, plus a dump on start and on every refresh() (the agent's pass), so a missed notification
// (socket overrun) is healed by level. Up means IFF_UP and IFF_RUNNING, as keepalived's FLAGS_UP;
// a deleted or missing interface is down.
import { createRtNetlink, rt, type RtNetlinkSocket } from 'netlink';
import type { Logger } from 'pino';
import { logger } from '../../util/log.js';

const RTM_NEWLINK = 16;
const RTM_DELLINK = 17;

export type LinkChange = (name: string, up: boolean) => void;

/** What the speaker needs to know about links; unit tests use an in-memory one. */
export interface LinkStateSource {
  /** Up, down, or undefined before the first read. A missing interface reads as down. */
  isUp(name: string): boolean | undefined;
  /** Called for every change of an interface's state (not for repeats). Returns the unsubscribe. */
  subscribe(fn: LinkChange): () => void;
  /** Reads every link again and reports what changed since. */
  refresh(): Promise<void>;
  close(): void;
}

const flagsUp = (f: rt.DeviceFlags | undefined): boolean => Boolean(f?.up && f.running);

export class NetlinkLinkMonitor implements LinkStateSource {
  private readonly socket: RtNetlinkSocket;
  private inflight: Promise<void> | undefined;
  private readonly states = new Map<string, boolean>();
  /** ifindex -> name, so a DELLINK (or a rename) is reported under the name we knew. */
  private readonly names = new Map<number, string>();
  private readonly listeners = new Set<LinkChange>();
  private dumped = false;
  private closed = false;
  private readonly log: Logger;

  /** Subscribes, then reads every link once; throws if netlink cannot be opened. */
  static async open(log?: Logger): Promise<NetlinkLinkMonitor> {
    const m = new NetlinkLinkMonitor(log);
    try {
      await m.refresh();
    } catch (e) {
      m.close();
      throw e;
    }
    return m;
  }

  private constructor(log?: Logger) {
    this.log = log ?? logger('vrrp-links');
    this.socket = createRtNetlink();
    // Subscribe before the dump, so no change falls between the two.
    this.socket.addMembership('LINK');
    this.socket.socket.on('message', (msgs) => {
      for (const m of msgs) {
        if (m.type !== RTM_NEWLINK && m.type !== RTM_DELLINK) continue;
        try {
          const link = rt.parseLinkMessage(m.data);
          this.seen(link.data.index ?? 0, link.attrs.ifname, m.type === RTM_NEWLINK && flagsUp(link.data.flags));
        } catch (err) {
          this.log.warn({ err }, 'unreadable link notification');
        }
      }
    });
    this.socket.socket.unref();
  }

  isUp(name: string): boolean | undefined {
    if (!this.dumped) return undefined;
    return this.states.get(name) ?? false;
  }

  subscribe(fn: LinkChange): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /**
   * Every pass asks for a refresh without waiting for the last; the kernel runs one dump per socket
   * and refuses a second with EBUSY (whose error then lands in the first dump's reply), so a
   * refresh asked for while one runs shares it.
   */
  refresh(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.inflight ??= this.dump().finally(() => { this.inflight = undefined; });
    return this.inflight;
  }

  private async dump(): Promise<void> {
    const links = await this.socket.getLinks();
    const present = new Set<string>();
    for (const l of links) {
      const name = l.attrs.ifname;
      if (name === undefined) continue;
      present.add(name);
      this.seen(l.data.index ?? 0, name, flagsUp(l.data.flags));
    }
    for (const name of [...this.states.keys()]) if (!present.has(name)) this.set(name, false);
    this.dumped = true;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.socket.close();
  }

  private seen(index: number, name: string | undefined, up: boolean): void {
    const known = this.names.get(index);
    if (known !== undefined && name !== undefined && known !== name) this.set(known, false); // renamed away
    const n = name ?? known;
    if (n === undefined) return;
    if (name !== undefined) this.names.set(index, name);
    this.set(n, up);
  }

  private set(name: string, up: boolean): void {
    if (this.states.get(name) === up) return;
    this.states.set(name, up);
    if (!this.dumped) return;
    this.log.info({ interface: name, up }, 'link state changed');
    for (const l of this.listeners) l(name, up);
  }
}
