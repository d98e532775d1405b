// What a router does on entering Master or Backup, behind an interface so the speaker can be
// tested with a recording fake and the agent can add its own steps (the IPVS sync daemon).
import type { LinkClient } from '../../link/index.js';
import type { IpFamily } from '../../address/index.js';
import type { Clock } from '../clock.js';
import { systemClock } from '../clock.js';
import { logger } from '../../util/log.js';
import { announceLater, type NeighbourAnnouncer } from './announcer.js';

export interface Vip {
  address: string;
  prefixLen: number;
}

export interface TakeoverContext {
  /** The VRRP instance name. */
  instance: string;
  ifname: string;
  family: IpFamily;
  vrid: number;
  vips: readonly Vip[];
  /** Gratuitous ARPs / NAs per VIP and the pause between them (keepalived garp_master_repeat, garp_interval). */
  garpRepeat: number;
  garpIntervalMs: number;
  /** The later rounds (keepalived garp_master_delay, garp_master_refresh, garp_master_refresh_repeat; see announceLater). */
  garpMasterDelayMs: number;
  garpRefreshMs: number;
  garpRefreshRepeat: number;
  /** Aborted when the instance changes state again before this action finished (stop announcing). */
  signal: AbortSignal;
}

/** Run one at a time per instance, in transition order; a rejection is logged and counted, never fatal. */
export interface TakeoverActions {
  becomeMaster(ctx: TakeoverContext): Promise<void>;
  becomeBackup(ctx: TakeoverContext): Promise<void>;
  /** While master: announce the VIPs again (another master was heard; see VrrpListener.lowerPriorityMaster). */
  reannounce?(ctx: TakeoverContext): Promise<void>;
}

export interface LinkTakeoverOptions {
  /**
   * Share one SerialLinkClient between this, the announcer and the speaker: instances act
   * concurrently, and one RtLinkClient refuses overlapping requests (EBUSY).
   */
  link: LinkClient;
  announcer: NeighbourAnnouncer;
  /** After the VIPs are up and the first announcement is out (the agent switches the IPVS sync daemon to master). */
  onMaster?(ctx: TakeoverContext): void | Promise<void>;
  /** After the VIPs are gone (sync daemon to backup). */
  onBackup?(ctx: TakeoverContext): void | Promise<void>;
  /** A background announcement (garp_master_delay, refresh) failed: after becomeMaster resolved, so not its error. */
  onLaterAnnounceError?(ctx: TakeoverContext, err: unknown): void;
  clock?: Clock;
}

/** The real takeover: VIPs through the LinkClient, announcements through the NeighbourAnnouncer. */
export class LinkTakeover implements TakeoverActions {
  private readonly clock: Clock;

  constructor(private readonly o: LinkTakeoverOptions) {
    this.clock = o.clock ?? systemClock;
  }

  async becomeMaster(ctx: TakeoverContext): Promise<void> {
    const errors: unknown[] = [];
    const added: string[] = [];
    for (const v of ctx.vips) {
      try {
        await this.o.link.addAddress(ctx.ifname, v.address, v.prefixLen);
        added.push(v.address);
      } catch (e) {
        errors.push(e);
      }
    }
    if (ctx.signal.aborted) return finish(errors);
    // The first announcement goes out before the hook: the LAN must learn the new MAC first.
    // The hook then runs while the remaining repeats are paced out.
    await this.o.announcer.announce(ctx.ifname, added).catch((e: unknown) => errors.push(e));
    this.announceLater(ctx, added);
    const repeats = this.repeatAnnouncements(ctx, added, errors);
    const hook = Promise.resolve().then(() => this.o.onMaster?.(ctx)).catch((e: unknown) => errors.push(e));
    await Promise.all([repeats, hook]);
    return finish(errors);
  }

  async reannounce(ctx: TakeoverContext): Promise<void> {
    const errors: unknown[] = [];
    const vips = ctx.vips.map((v) => v.address);
    await this.o.announcer.announce(ctx.ifname, vips).catch((e: unknown) => errors.push(e));
    await this.repeatAnnouncements(ctx, vips, errors);
    return finish(errors);
  }

  /** The garpRepeat - 1 announcements after the first, garpIntervalMs apart, until aborted. */
  private async repeatAnnouncements(ctx: TakeoverContext, vips: string[], errors: unknown[]): Promise<void> {
    for (let i = 1; i < ctx.garpRepeat; i++) {
      await this.sleep(ctx.garpIntervalMs, ctx.signal);
      if (ctx.signal.aborted) return;
      await this.o.announcer.announce(ctx.ifname, vips).catch((e: unknown) => errors.push(e));
    }
  }

  /** The garp_master_delay and garp_master_refresh rounds, in the background while master. */
  private announceLater(ctx: TakeoverContext, vips: string[]): void {
    announceLater({
      announcer: this.o.announcer, clock: this.clock, ifname: ctx.ifname, addresses: vips, signal: ctx.signal,
      timing: ctx,
      onError: (err) => (this.o.onLaterAnnounceError ?? logLaterError)(ctx, err),
    });
  }

  async becomeBackup(ctx: TakeoverContext): Promise<void> {
    const errors: unknown[] = [];
    for (const v of ctx.vips) {
      await this.o.link.deleteAddress(ctx.ifname, v.address, v.prefixLen).catch((e: unknown) => errors.push(e));
    }
    await Promise.resolve().then(() => this.o.onBackup?.(ctx)).catch((e: unknown) => errors.push(e));
    return finish(errors);
  }

  private sleep(ms: number, signal: AbortSignal): Promise<void> {
    if (ms <= 0 || signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      };
      const handle = this.clock.setTimer(ms, done);
      const onAbort = (): void => {
        this.clock.cancel(handle);
        done();
      };
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }
}

const log = logger('vrrp');
function logLaterError(ctx: TakeoverContext, err: unknown): void {
  log.warn({ err, vrrp: ctx.instance }, 'gratuitous ARP/NA not sent (garp_master_delay or refresh round)');
}

function finish(errors: unknown[]): void {
  if (errors.length === 1) throw errors[0];
  if (errors.length > 1) throw new AggregateError(errors, errors.map((e) => (e as Error).message ?? String(e)).join('; '));
}
