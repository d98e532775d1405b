import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { logger } from '../util/log.js';
import type { ResourceClient } from './client.js';
import { isAlreadyExists, isConflict } from './http.js';
import { Deadline, type Fence } from './fence.js';
import { leaseTimingError } from './lease-timing.js';
import { type Lease, type LeaseSpec, microTime } from './types.js';
import { abortableSleep as sleep } from '../util/sleep.js';

/**
 * Leader election over a `coordination.k8s.io/v1` Lease, the algorithm of client-go's
 * leaderelection: a candidate takes the Lease when it is free or when its record has not
 * changed for a whole lease duration *as observed on the candidate's own clock* (so clock
 * skew between nodes does not matter); the leader renews every retry period and steps
 * down when it could not renew within the renew deadline. Writes are optimistic (PUT with
 * resourceVersion), so two candidates never both win one round.
 *
 * Unlike client-go, the deadline counts from when the last successful renewal was *sent*
 * (the server applied it later, so a standby cannot take over before that plus the lease
 * duration), and leadership is a Fence that closes the moment it passes, however long a
 * request hangs: every request of a round is bounded by it, and so are the leader's writes.
 */

export interface LeaderElectorOptions {
  /** Every request of the elector goes through `fenced`, bounded by a round's or the term's deadline. */
  leases: { fenced(fence: Fence): Pick<ResourceClient<Lease>, 'get' | 'create' | 'replace'> };
  namespace: string;
  name: string;
  identity?: string;
  /** How long a silent leader keeps the Lease (default 15 s). */
  leaseDurationMs?: number;
  /** The leader's fence closes this long after it sent its last successful renewal (default 10 s, < lease duration). */
  renewDeadlineMs?: number;
  /** Between attempts to acquire, and between renewals (default 2 s). */
  retryPeriodMs?: number;
  /** Called on becoming leader; write only through clients behind `fence` (ResourceClient.fenced). */
  onStartedLeading: (fence: Fence) => void | Promise<void>;
  /** Called when leadership ends (lost, or stop()), after the fence closed and before the Lease is released. */
  onStoppedLeading?: () => void | Promise<void>;
  /** Called whenever the observed holder changes (including to ourselves). */
  onNewLeader?: (identity: string) => void;
  /** Monotonic milliseconds (never the wall clock, which can step); injectable for tests. */
  now?: () => number;
  log?: Logger;
}

/** `<pod name or host name>_<pid>`: unique per process, readable in `kubectl get lease -o yaml`. */
export function defaultIdentity(): string {
  return `${process.env.POD_NAME ?? hostname()}_${process.pid}`;
}


/** Up to +20% so candidates that started together do not retry in lockstep. */
function jitter(ms: number): number {
  return ms * (1 + Math.random() * 0.2);
}

export class LeaderElector {
  readonly identity: string;
  private readonly leaseMs: number;
  private readonly renewDeadlineMs: number;
  private readonly retryMs: number;
  private readonly now: () => number;
  private readonly log: Logger;
  private abort = new AbortController();
  private loop: Promise<void> | undefined;
  /** The current term; closed when leadership ends. */
  private term: Deadline | undefined;
  private current: Lease | undefined;
  /** The last record seen and when (our clock) it was first seen. */
  private observed: { key: string; at: number } | undefined;
  private lastHolder: string | undefined;

  constructor(private readonly o: LeaderElectorOptions) {
    this.identity = o.identity ?? defaultIdentity();
    this.leaseMs = o.leaseDurationMs ?? 15_000;
    this.renewDeadlineMs = o.renewDeadlineMs ?? 10_000;
    this.retryMs = o.retryPeriodMs ?? 2_000;
    const bad = leaseTimingError(this.leaseMs, this.renewDeadlineMs, this.retryMs);
    if (bad) throw new Error(bad);
    this.now = o.now ?? (() => performance.now());
    this.log = o.log ?? logger('leader-election').child({ lease: `${o.namespace}/${o.name}`, identity: this.identity });
  }

  /** Checks the clock, so it turns false at the deadline even before the renew loop notices. */
  get isLeader(): boolean {
    return this.term?.open ?? false;
  }

  start(): void {
    if (this.loop) return;
    this.abort = new AbortController();
    this.loop = this.run(this.abort.signal);
  }

  /** Stops campaigning; a leader stops writing, then releases the Lease so a standby takes over at once. */
  async stop(): Promise<void> {
    this.abort.abort();
    await this.loop;
    this.loop = undefined;
  }

  private async run(stop: AbortSignal): Promise<void> {
    while (!stop.aborted) {
      const term = await this.acquire(stop);
      if (!term) break;
      this.term = term;
      this.log.info('became leader');
      void Promise.resolve()
        .then(() => this.o.onStartedLeading(term))
        .catch((err: unknown) => this.log.error({ err }, 'onStartedLeading failed'));
      await this.renew(term);
      const why = term.signal.reason instanceof Error ? term.signal.reason.message : String(term.signal.reason);
      if (!stop.aborted) this.log.warn({ why }, 'lost leadership');
      await this.stepDown();
      // Only after our writes stopped, and only while the Lease is surely still ours.
      if (stop.aborted) await this.release(new Deadline(this.now, term.until));
    }
  }

  /** Tries every retry period until we hold the Lease; the new term runs from the winning round's start. */
  private async acquire(stop: AbortSignal): Promise<Deadline | undefined> {
    while (!stop.aborted) {
      const started = this.now();
      const round = new Deadline(this.now, started + this.renewDeadlineMs, stop);
      const won = await this.tryAcquireOrRenew(round);
      round.close('round over');
      if (won) {
        const term = new Deadline(this.now, started + this.renewDeadlineMs, stop);
        if (term.open) return term;
      }
      await sleep(jitter(this.retryMs), stop);
    }
    return undefined;
  }

  /** Renews every retry period until the term closes (deadline passed, Lease taken, or stopped). */
  private async renew(term: Deadline): Promise<void> {
    while (term.open) {
      await sleep(this.retryMs, term.signal);
      if (!term.open) break;
      const started = this.now();
      if (await this.tryAcquireOrRenew(term)) term.extend(started + this.renewDeadlineMs);
      else if (this.heldByOther()) term.close('lease taken by another holder');
    }
  }

  private heldByOther(): boolean {
    const holder = this.current?.spec?.holderIdentity;
    return !!holder && holder !== this.identity;
  }

  private async stepDown(): Promise<void> {
    const term = this.term;
    if (!term) return;
    this.term = undefined;
    term.close('stepped down');
    try {
      await this.o.onStoppedLeading?.();
    } catch (err) {
      this.log.error({ err }, 'onStoppedLeading failed');
    }
  }

  private noteHolder(lease: Lease): void {
    const holder = lease.spec?.holderIdentity ?? '';
    if (holder !== this.lastHolder) {
      this.lastHolder = holder;
      if (holder) this.o.onNewLeader?.(holder);
    }
  }

  /** One round, every request behind `fence`: true when we hold a freshly written Lease afterwards. */
  private async tryAcquireOrRenew(fence: Fence): Promise<boolean> {
    const { namespace, name } = this.o;
    const leases = this.o.leases.fenced(fence);
    const now = new Date();
    const durationSeconds = Math.max(1, Math.ceil(this.leaseMs / 1000));
    try {
      const existing = await leases.get(name, namespace);
      if (!existing) {
        const created = await leases.create({
          metadata: { name, namespace },
          spec: {
            holderIdentity: this.identity,
            leaseDurationSeconds: durationSeconds,
            acquireTime: microTime(now),
            renewTime: microTime(now),
            leaseTransitions: 0,
          },
        });
        this.current = created;
        this.noteHolder(created);
        return true;
      }
      this.current = existing;
      this.noteHolder(existing);
      const spec: LeaseSpec = existing.spec ?? {};
      const key = `${spec.holderIdentity ?? ''}|${spec.renewTime ?? ''}|${existing.metadata.resourceVersion ?? ''}`;
      if (this.observed?.key !== key) this.observed = { key, at: this.now() };
      const holder = spec.holderIdentity ?? '';
      const theirMs = (spec.leaseDurationSeconds ?? durationSeconds) * 1000;
      if (holder !== '' && holder !== this.identity && this.now() < this.observed.at + theirMs) return false;
      const mine = holder === this.identity;
      const updated = await leases.replace({
        ...existing,
        spec: {
          ...spec,
          holderIdentity: this.identity,
          leaseDurationSeconds: durationSeconds,
          acquireTime: mine ? (spec.acquireTime ?? microTime(now)) : microTime(now),
          renewTime: microTime(now),
          leaseTransitions: mine ? (spec.leaseTransitions ?? 0) : (spec.leaseTransitions ?? 0) + 1,
        },
      });
      this.current = updated;
      this.noteHolder(updated);
      return true;
    } catch (err) {
      // Cut off by the fence: expected when the API server is slow, no stack needed.
      if (fence.signal.aborted) this.log.warn({ why: String(fence.signal.reason) }, 'lease request cut off');
      else if (!isConflict(err) && !isAlreadyExists(err)) this.log.warn({ err }, 'lease update failed');
      return false;
    }
  }

  /** Give the Lease up: empty holder and a one-second duration, as client-go's ReleaseOnCancel. */
  private async release(fence: Deadline): Promise<void> {
    const cur = this.current;
    if (!cur || cur.spec?.holderIdentity !== this.identity || !fence.open) return;
    try {
      const released = await this.o.leases.fenced(fence).replace({
        ...cur,
        spec: { ...cur.spec, holderIdentity: null, leaseDurationSeconds: 1, renewTime: microTime(new Date()) },
      });
      this.current = released;
      this.log.info('released lease');
    } catch (err) {
      this.log.warn({ err }, 'lease release failed');
    } finally {
      fence.close('released');
    }
  }
}
