// Takeover actions that remember which instances this node is master of (in the ownership record)
// and, after an agent restart, keep a VIP it held as master until the election resolves: given up
// when a master this node does not preempt is heard, kept when this node becomes master again. A
// crash-restart of the only master thus never drops a VIP that nobody else holds.
import type { Logger } from 'pino';
import type { LinkClient } from '../link/index.js';
import type { Clock, TimerHandle } from '../vrrp/clock.js';
import { parseVip, type TakeoverActions, type TakeoverContext, type VrrpInstanceSpec, type VrrpInstanceStatus } from '../vrrp/runtime/index.js';
import type { OwnershipRecord } from './ownership-record.js';
import type { LeadershipInstance } from './vrrp-specs.js';

export interface RestartTakeoverOptions {
  /** The takeover itself: VIPs and GARP/NA (a LinkTakeover). */
  inner: TakeoverActions;
  record: OwnershipRecord;
  link: Pick<LinkClient, 'listAddresses'>;
  /** The speaker's status of a running instance, and the spec it runs. */
  status(name: string): VrrpInstanceStatus | undefined;
  spec(name: string): VrrpInstanceSpec | undefined;
  /** Paces the check of a kept VIP. */
  clock: Clock;
  log: Logger;
}

/** A VIP kept from before the restart: the context of the deferred becomeBackup, the check, the removal. */
interface Kept {
  ctx?: TakeoverContext;
  timer?: TimerHandle;
  removal?: Promise<void>;
}

export class RestartTakeover implements TakeoverActions {
  private readonly kept = new Map<string, Kept>();

  constructor(private readonly o: RestartTakeoverOptions) {}

  /** Before an instance starts: a VIP it held as master before the restart is kept until the election resolves. */
  async keepIfHeld(w: LeadershipInstance): Promise<void> {
    if (!(await this.o.record.get()).vrrpMasters[w.spec.name]) return;
    const addrs = await this.o.link.listAddresses(w.iface).catch(() => []);
    const { address } = parseVip(w.vip);
    if (!addrs.some((a) => a.address === address)) return;
    this.o.log.info({ vrrp: w.spec.name, vip: w.vip }, 'VIP held as master before the restart: kept until the election resolves');
    this.kept.set(w.spec.name, {});
  }

  /** The instance did not start: nothing to wait for. */
  notStarted(name: string): void {
    this.kept.delete(name);
  }

  async becomeMaster(ctx: TakeoverContext): Promise<void> {
    const k = this.kept.get(ctx.instance);
    if (k) {
      if (k.timer) this.o.clock.cancel(k.timer);
      this.kept.delete(ctx.instance);
      await k.removal;
    }
    // The record is written next to the takeover, not before it: the VIP must not wait for a file.
    const recorded = this.remember(ctx.instance, ctx.vips.map((v) => v.address));
    try {
      await this.o.inner.becomeMaster(ctx);
    } finally {
      await recorded;
    }
  }

  /** Announcing again changes no address: straight to the link. */
  async reannounce(ctx: TakeoverContext): Promise<void> {
    await this.o.inner.reannounce?.(ctx);
  }

  async becomeBackup(ctx: TakeoverContext): Promise<void> {
    const k = this.kept.get(ctx.instance);
    if (k && k.removal === undefined && k.timer === undefined) {
      // Startup with the VIP still ours: keep it until a master we accept is heard (then give it
      // up) or the master-down timer makes us master (then becomeMaster finds it in place).
      k.ctx = ctx;
      const every = Math.max(10, (this.o.spec(ctx.instance)?.advertIntervalMs ?? 1000) / 2);
      const tick = (): void => {
        if (this.kept.get(ctx.instance) !== k) return;
        this.check(ctx.instance);
        if (this.kept.get(ctx.instance) === k && !k.removal) k.timer = this.o.clock.setTimer(every, tick);
      };
      k.timer = this.o.clock.setTimer(every, tick);
      return;
    }
    await this.forget(ctx.instance);
    await this.o.inner.becomeBackup(ctx);
  }

  private check(name: string): void {
    const k = this.kept.get(name);
    if (!k || k.removal) return;
    const s = this.o.status(name);
    const spec = this.o.spec(name);
    if (!s || !spec) {
      this.kept.delete(name);
      return;
    }
    if (s.state !== 'backup' || !s.master || s.master.address === s.primaryAddress) return;
    // A master we do not preempt: the VIP is its now.
    if (spec.preempt !== false && s.master.priority < s.priority) return;
    this.o.log.info({ vrrp: name, master: s.master }, 'another master holds the VIP: giving it up');
    k.removal = this.forget(name)
      .then(() => this.o.inner.becomeBackup(k.ctx!))
      .catch((err: unknown) => this.o.log.error({ err, vrrp: name }, 'deferred VIP removal failed'))
      .finally(() => {
        if (this.kept.get(name) === k) this.kept.delete(name);
      });
  }

  private remember(name: string, vips: string[]): Promise<void> {
    return this.o.record.update((s) => ({ vrrpMasters: { ...s.vrrpMasters, [name]: vips } }))
      .catch((err: unknown) => this.o.log.warn({ err, vrrp: name }, 'ownership record not written (VRRP master)'));
  }

  /** This node is no longer master of `name` (or the instance is gone). */
  forget(name: string): Promise<void> {
    return this.o.record.update((s) => {
      if (!(name in s.vrrpMasters)) return {};
      const { [name]: _, ...rest } = s.vrrpMasters;
      return { vrrpMasters: rest };
    }).catch((err: unknown) => this.o.log.warn({ err, vrrp: name }, 'ownership record not written (VRRP master)'));
  }

  /** A VIP still kept was never taken over by this run: it is left for the next run's election. */
  stop(): void {
    for (const k of this.kept.values()) if (k.timer) this.o.clock.cancel(k.timer);
    this.kept.clear();
  }
}
