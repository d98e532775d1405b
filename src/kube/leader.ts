import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { logger } from '../util/log.js';
import type { ResourceClient } from './client.js';
import { isAlreadyExists, isConflict } from './http.js';
import { type Lease, type LeaseSpec, microTime } from './types.js';
import { abortableSleep as sleep } from '../util/sleep.js';

/**
 * Leader election over a `coordination.k8s.io/v1` Lease, the algorithm of client-go's
 * leaderelection: a candidate takes the Lease when it is free or when its record has not
 * changed for a whole lease duration *as observed on the candidate's own clock* (so clock
 * skew between nodes does not matter); the leader renews every retry period and steps
 * down when it could not renew within the renew deadline. Writes are optimistic (PUT with
 * resourceVersion), so two candidates never both win one round.
 */

export interface LeaderElectorOptions {
  leases: ResourceClient<Lease>;
  namespace: string;
  name: string;
  identity?: string;
  /** How long a silent leader keeps the Lease (default 15 s). */
  leaseDurationMs?: number;
  /** The leader gives up when it could not renew for this long (default 10 s, < lease duration). */
  renewDeadlineMs?: number;
  /** Between attempts to acquire, and between renewals (default 2 s). */
  retryPeriodMs?: number;
  /** Called on becoming leader; `signal` aborts when leadership ends. */
  onStartedLeading: (signal: AbortSignal) => void | Promise<void>;
  /** Called when leadership ends (lost, or released by stop()). */
  onStoppedLeading?: () => void | Promise<void>;
  /** Called whenever the observed holder changes (including to ourselves). */
  onNewLeader?: (identity: string) => void;
  /** Monotonic milliseconds; injectable for tests. */
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
  private leading: AbortController | undefined;
  private current: Lease | undefined;
  /** The last record seen and when (our clock) it was first seen. */
  private observed: { key: string; at: number } | undefined;
  private lastHolder: string | undefined;

  constructor(private readonly o: LeaderElectorOptions) {
    this.identity = o.identity ?? defaultIdentity();
    this.leaseMs = o.leaseDurationMs ?? 15_000;
    this.renewDeadlineMs = o.renewDeadlineMs ?? 10_000;
    this.retryMs = o.retryPeriodMs ?? 2_000;
    if (!(this.renewDeadlineMs < this.leaseMs)) throw new Error('renewDeadline must be shorter than leaseDuration');
    if (!(this.retryMs < this.renewDeadlineMs)) throw new Error('retryPeriod must be shorter than renewDeadline');
    this.now = o.now ?? (() => performance.now());
    this.log = o.log ?? logger('leader-election').child({ lease: `${o.namespace}/${o.name}`, identity: this.identity });
  }

  get isLeader(): boolean {
    return this.leading !== undefined;
  }

  start(): void {
    if (this.loop) return;
    this.abort = new AbortController();
    this.loop = this.run(this.abort.signal);
  }

  /** Stops campaigning; a leader releases the Lease so a standby takes over at once. */
  async stop(): Promise<void> {
    this.abort.abort();
    await this.loop;
    this.loop = undefined;
  }

  private async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      // Candidate: try until we hold the Lease.
      while (!signal.aborted && !(await this.tryAcquireOrRenew())) await sleep(jitter(this.retryMs), signal);
      if (signal.aborted) break;
      this.leading = new AbortController();
      this.log.info('became leader');
      void Promise.resolve()
        .then(() => this.o.onStartedLeading(this.leading?.signal ?? AbortSignal.abort()))
        .catch((err: unknown) => this.log.error({ err }, 'onStartedLeading failed'));
      // Leader: renew until a renewal deadline passes or we are stopped.
      let lastRenew = this.now();
      while (!signal.aborted) {
        await sleep(this.retryMs, signal);
        if (signal.aborted) break;
        if (await this.tryAcquireOrRenew()) {
          lastRenew = this.now();
        } else if (this.now() - lastRenew > this.renewDeadlineMs || this.heldByOther()) {
          this.log.warn('lost leadership');
          break;
        }
      }
      if (signal.aborted) await this.release();
      await this.stepDown();
    }
  }

  private heldByOther(): boolean {
    const holder = this.current?.spec?.holderIdentity;
    return !!holder && holder !== this.identity;
  }

  private async stepDown(): Promise<void> {
    const l = this.leading;
    if (!l) return;
    this.leading = undefined;
    l.abort();
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

  /** One round: true when we hold a freshly written Lease afterwards. */
  private async tryAcquireOrRenew(): Promise<boolean> {
    const { leases, namespace, name } = this.o;
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
      if (!isConflict(err) && !isAlreadyExists(err)) this.log.warn({ err }, 'lease update failed');
      return false;
    }
  }

  /** Give the Lease up: empty holder and a one-second duration, as client-go's ReleaseOnCancel. */
  private async release(): Promise<void> {
    const cur = this.current;
    if (!cur || cur.spec?.holderIdentity !== this.identity) return;
    try {
      const released = await this.o.leases.replace({
        ...cur,
        spec: { ...cur.spec, holderIdentity: null, leaseDurationSeconds: 1, renewTime: microTime(new Date()) },
      });
      this.current = released;
      this.log.info('released lease');
    } catch (err) {
      this.log.warn({ err }, 'lease release failed');
    }
  }
}
