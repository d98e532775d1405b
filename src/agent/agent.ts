// The agent loop: on every change (cluster, health, VRRP) and on a periodic resync, one pass:
// model = resolve(snapshot); VRRP takes the model; desired = compile(model, node, health, who
// holds which VIP, who is master); the reconciler applies the diff to the kernel. Passes never
// overlap, none runs before start(); changes during a pass schedule exactly one more. Every step
// is incremental (the model, compile, health targets, the kernel read-back), so a pass costs
// what changed, not the size of the cluster.
import type { Logger } from 'pino';
import { HealthChecker } from '../health/index.js';
import type { Backend, ClusterModel, ServiceModel } from '../model/types.js';
import { servicesChangedSince } from '../model/index.js';
import { logger } from '../util/log.js';
import { CheckSync } from './check-sync.js';
import { CompileCache } from './compile-cache.js';
import { neverMaster, type NodeDesired, type VipLeadership } from './compile.js';
import { backendHealth, backendKeys, tlsSecrets } from './health-config.js';
import { HealthSecrets, type SecretDataReader } from './health-secrets.js';
import { serviceKeyString } from '../ipvs/keys.js';
import type { ReconcileResult, Reconciler } from './reconciler.js';
import type { SchedulerProbe } from './schedulers.js';
import { ModelSource, type SnapshotSource } from './source.js';
import type { VrrpLeadership } from './vrrp-leadership.js';
import type { BgpAnnouncer } from './bgp-announcer.js';
import { holdUnchecked } from './bgp-settle.js';
import { isSoleDirector } from './vrrp-specs.js';

/** What a pass needs of BGP announcement (a BgpAnnouncer). */
export type PassBgp = Pick<BgpAnnouncer, 'update' | 'drain' | 'announcing' | 'draining' | 'exported'>;

/** What a pass needs of VRRP (a VrrpLeadership). */
export type PassVrrp = Pick<VrrpLeadership, 'update' | 'leadership' | 'isMaster' | 'onChange' | 'stop' | 'followHealth'>;

export interface AgentPass {
  model: ClusterModel;
  desired: NodeDesired;
  result: ReconcileResult;
  /** BGP groups: the VIPs this pass gave BIRD to announce (none while draining). */
  announced?: ReadonlySet<string>;
}

export interface AgentOptions {
  node: string;
  /** A SnapshotSource, or a ModelSource to share its resolved model (the VRRP side reads it too). */
  source: SnapshotSource | ModelSource;
  reconciler: Reconciler;
  checker?: HealthChecker;
  /** Reads the client-certificate Secrets of HTTPS checks; without it such checks fail, saying so. */
  readSecretData?: SecretDataReader;
  /** Where those Secrets live: the operator's namespace. */
  secretNamespace?: string;
  /**
   * VRRP in groups with two or more directors: a step of every pass, before compile, and stopped
   * by stop(). Without it a director holds the VIPs of groups where it is the only director.
   */
  vrrp?: PassVrrp;
  /**
   * Groups that announce over BGP: after each pass has programmed the kernel, BIRD is told which
   * VIPs to announce; stop() withdraws them and drains first.
   */
  bgp?: PassBgp;
  /** Tests: who holds which VIP, instead of VRRP's answer or the sole-director rule. */
  leadership?: VipLeadership;
  resyncMs?: number;
  /**
   * Services read back per resync step. A resync walks the table in steps of their own, each
   * followed by a pause as long as it took, and a change never waits for more than the one in
   * flight (small: that is what a change can wait for).
   */
  resyncSlice?: number;
  /**
   * In a stream of changes, at most one pass per this window (default 20 ms); a change after a
   * quiet spell at least this long goes at once.
   */
  debounceMs?: number;
  /** Which schedulers the kernel lacks, asked at start and on every resync (see schedulers.ts). */
  probeSchedulers?: () => Promise<SchedulerProbe>;
  /** Called after every pass (status reporting, metrics, tests). */
  onPass?: (pass: AgentPass) => void;
  log?: Logger;
}

export class Agent {
  readonly checker: HealthChecker;
  private readonly models: ModelSource;
  private readonly log: Logger;
  private readonly compiler: CompileCache;
  private readonly checks: CheckSync;
  private readonly secrets: HealthSecrets;
  /** The services whose client-certificate Secrets were last asked for. */
  private secretsFor: ClusterModel['services'] | undefined;
  /** Service keys the running resync has yet to read back. */
  private verifyQueue: string[] = [];
  private resyncDue = false;
  /** The next pass may take a resync step (the step timer says so; a change pass never does). */
  private resyncStepDue = false;
  private resyncStep: NodeJS.Timeout | undefined;
  private model: ClusterModel | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private debounce: NodeJS.Timeout | undefined;
  /** When the last pass ended (performance.now()); -Infinity before the first. */
  private lastPassEnd = -Infinity;
  /** When the oldest request not yet served by a pass came in: the debug log's `waitedMs`. */
  private requestedAt: number | undefined;
  private resync: NodeJS.Timeout | undefined;
  /** The pass that retries services backing off after a transient kernel error. */
  private retry: NodeJS.Timeout | undefined;
  /** VIPs whose first announcement waits for health verdicts, and the pass that looks again. */
  private held: string[] = [];
  private heldRecheck: NodeJS.Timeout | undefined;
  private unsubscribe: (() => void) | undefined;
  private readonly unsubscribeVrrp: (() => void) | undefined;
  private stopped = false;
  private started = false;
  /** The next pass reads back everything (start-up, resync) rather than only what changed. */
  private fullPending = true;
  private known: Set<string> | undefined;
  /** A model in which no service was to be adopted here (liveInAdoptedServices). */
  private noAdoptionIn: ClusterModel | undefined;
  lastPass: AgentPass | undefined;

  constructor(private readonly o: AgentOptions) {
    this.checker = o.checker ?? new HealthChecker();
    this.models = o.source instanceof ModelSource ? o.source : new ModelSource(o.source);
    this.log = o.log ?? logger('agent');
    this.compiler = new CompileCache(o.node);
    this.secrets = new HealthSecrets({
      read: o.readSecretData, namespace: o.secretNamespace ?? 'lvs-system', log: this.log.child({ component: 'health-secrets' }),
      onChange: () => this.schedule(),
    });
    this.checks = new CheckSync(this.checker, o.node, this.secrets);
    // From the start: a check that comes up before the first pass must still reach compile.
    this.checker.on('change', (c: { key: string }) => {
      this.compiler.invalidate(c.key.slice(0, c.key.indexOf('|'))); // see checkKey()
      this.schedule();
    });
    // A transition changes who holds a VIP, the sync daemon and status: a pass follows. VRRP
    // runs instances only once a pass started them, and schedule() waits for start() anyway.
    this.unsubscribeVrrp = o.vrrp?.onChange(() => this.schedule());
  }

  /** Holds VIPs where this node is the group's only director (until VRRP decides). */
  private soleDirector: VipLeadership = (group) => isSoleDirector(this.model?.groups.get(group), this.o.node);

  async start(): Promise<void> {
    await this.probeKernel();
    this.known = await this.keysInKernel();
    // Before the first pass, so adopted servers are not probed without their client certificate.
    await this.refreshSecrets(this.models.model(), true);
    // Passes asked for before this (VRRP's first transitions ask) would have run without
    // `known`, pulling every programmed real server until its check answered again.
    this.started = true;
    this.unsubscribe = this.models.source.onChange(() => this.schedule());
    await this.pass();
    this.resync = setInterval(() => {
      // A resync still walking the table (a large one on a busy node) finishes first.
      if (this.verifyQueue.length > 0) return;
      this.resyncDue = true;
      void this.probeKernel().finally(() => this.stepResync(0));
    }, this.o.resyncMs ?? 30_000);
  }

  /** Sets what the kernel lacks; a change (a module installed) retries what failed for good. */
  private async probeKernel(): Promise<void> {
    if (!this.o.probeSchedulers) return;
    try {
      const probe = await this.o.probeSchedulers();
      if (!this.models.setUnsupportedSchedulers(probe.unsupported)) return;
      this.log.info({ available: probe.available, unsupported: probe.unsupported }, 'IPVS schedulers probed');
      this.o.reconciler.kernelChanged();
    } catch (err) {
      this.log.warn({ err }, 'could not probe the IPVS schedulers');
    }
  }

  /** Health-check keys of real servers that are already in the kernel: they start healthy. */
  private async keysInKernel(): Promise<Set<string>> {
    const keys = new Set<string>();
    if ((await this.o.reconciler.ownedState()).services.length === 0) return keys;
    for (const s of this.models.model().services.values()) {
      if (!s.accepted || !s.directors.includes(this.o.node)) continue;
      for (const b of s.backends) for (const k of backendKeys(s.key, b)) keys.add(k);
    }
    return keys;
  }

  /**
   * Health-check keys of the real servers that serve (weight > 0) in an IPVS service somebody else
   * made and a VirtualService adopts: they start healthy, as that checker (keepalived's) left them,
   * so the takeover pulls no live server out while its first check runs. Once adopted the service
   * is ours and nothing is looked up again.
   */
  private async liveInAdoptedServices(model: ClusterModel): Promise<Set<string>> {
    const keys = new Set<string>();
    // A model with no candidate, or one whose changed services (since such a model) add none.
    if (model === this.noAdoptionIn) return keys;
    const candidate = (s: ServiceModel | undefined): boolean => Boolean(s?.spec?.adopt && s.accepted && s.ipvsService && s.directors.includes(this.o.node));
    const changes = servicesChangedSince(model, this.noAdoptionIn);
    const candidates = changes && ![...changes.values()].some(candidate) ? [] : [...model.services.values()].filter(candidate);
    if (candidates.length === 0) {
      this.noAdoptionIn = model;
      return keys;
    }
    const live = await this.o.reconciler.liveForeignDests(candidates.map((s) => s.ipvsService!)).catch((err: unknown) => {
      this.log.warn({ err }, 'reading the IPVS services to adopt failed: their real servers start down');
      return new Map<string, Set<string>>();
    });
    for (const s of candidates) {
      const dests = live.get(serviceKeyString(s.ipvsService!));
      if (!dests) continue;
      for (const b of s.backends) if (dests.has(`${b.address}|${b.port}`)) for (const k of backendKeys(s.key, b)) keys.add(k);
    }
    return keys;
  }

  /**
   * Requests a pass within `delayMs`; every request until then joins it. The first request
   * starts the timer and later ones never push it back, so a steady stream of events (thousands
   * of objects being created) still gets regular passes. The wait counts from the end of the
   * last pass: one change after a quiet spell is served at once (a fixed 20 ms wait was most of a
   * single change's latency), while a stream still gets one pass per window.
   */
  schedule(delayMs = this.o.debounceMs ?? 20): void {
    if (!this.started || this.stopped) return;
    this.requestedAt ??= performance.now();
    if (this.debounce) return;
    const wait = Math.max(0, Math.min(delayMs, this.lastPassEnd + delayMs - performance.now()));
    this.debounce = setTimeout(() => {
      this.debounce = undefined;
      void this.pass();
    }, wait);
  }

  /** Asks for a pass that takes the next resync step, after `delayMs`. */
  private stepResync(delayMs: number): void {
    if (this.resyncStep || this.stopped) return;
    this.resyncStep = setTimeout(() => {
      this.resyncStep = undefined;
      this.resyncStepDue = true;
      void this.pass();
    }, delayMs);
  }

  /** Runs one pass now (or right after the one in flight). Resolves when the kernel is reconciled. */
  async pass(): Promise<void> {
    if (!this.started) return; // start() runs the first one
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = this.runPasses().finally(() => {
      this.running = undefined;
      this.lastPassEnd = performance.now();
    });
    return this.running;
  }

  private async runPasses(): Promise<void> {
    do {
      this.again = false;
      try {
        await this.passOnce();
      } catch (e) {
        this.log.error({ err: e }, 'reconcile pass failed; the kernel keeps its last state');
      }
    } while (this.again && !this.stopped);
  }

  private async passOnce(): Promise<void> {
    const began = performance.now();
    // A change (watch, health, VRRP, a retry) asked for this pass: it takes no resync step.
    const forChange = this.requestedAt !== undefined;
    const waitedMs = forChange ? began - this.requestedAt! : 0;
    this.requestedAt = undefined;
    const model = this.models.model();
    this.model = model;
    const resolved = performance.now();
    // VRRP first: this pass's compile must know which groups it manages. Its instances change in
    // the background (a Secret read must not hold up the kernel); their transitions ask for passes.
    void this.o.vrrp?.update(this.models.snapshot(), model);
    void this.refreshSecrets(model, this.resyncDue && this.resyncStepDue && !forChange);
    const adopting = await this.liveInAdoptedServices(model);
    this.checks.sync(model, adopting.size ? new Set([...(this.known ?? []), ...adopting]) : this.known);
    this.known = undefined; // only the first pass adopts kernel state as healthy
    const health = (service: string, b: Backend): boolean | undefined => backendHealth((k) => this.checker.get(k), service, b);
    const desired = this.compiler.compile(model, health, this.o.leadership ?? this.o.vrrp?.leadership ?? this.soleDirector, this.o.vrrp?.isMaster ?? neverMaster);
    const compiled = performance.now();
    // Priority follows health: what this pass compiled says which VIPs this director can serve.
    this.o.vrrp?.followHealth(model, desired.services);
    const full = this.fullPending;
    this.fullPending = false;
    // A full pass reads everything anyway; otherwise a resync starts and walks the table in
    // steps, one per pass that no change asked for.
    const step = this.resyncStepDue && !forChange && !full;
    if (step || full) this.resyncStepDue = false;
    const resyncStarts = this.resyncDue && step;
    if (full) {
      this.resyncDue = false;
      this.verifyQueue = [];
    }
    if (resyncStarts) {
      this.resyncDue = false;
      await this.queueResync(desired);
    }
    const verify = new Set(step ? this.verifyQueue.splice(0, this.o.resyncSlice ?? 8) : []);
    const result = await this.o.reconciler.reconcile(desired, { full, verify, verifyLinks: resyncStarts }).catch((e: unknown) => {
      this.fullPending = true; // after a failure, look at everything again
      throw e;
    });
    // Announce only now: the routers send a VIP's flows here once IPVS holds its service.
    const announced = this.o.bgp ? this.announce(this.o.bgp, model, result.errors.length ? withoutFailed(model, desired, result) : desired) : undefined;
    // The rest of the resync, a step at a time, each after a pause as long as the last step took
    // (a step a change skipped is taken again at once).
    if (this.resyncDue || this.verifyQueue.length > 0 || this.resyncStepDue) this.stepResync(step ? Math.ceil(performance.now() - began) : 0);
    clearTimeout(this.retry);
    if (result.retryInMs !== undefined && !this.stopped) this.retry = setTimeout(() => this.schedule(0), result.retryInMs).unref();
    const pass: AgentPass = { model, desired, result, ...(announced ? { announced } : {}) };
    this.lastPass = pass;
    const level = result.errors.length ? 'warn' : 'debug';
    this.log[level]({ full, verified: verify.size, ipvsOps: result.ipvsOps, addressOps: result.addressOps, sysctlOps: result.sysctlOps, nftOps: result.nftOps, errors: result.errors, ms: Math.round(result.durationMs),
      // Where a change's latency went: waiting for the pass, the model, compile, the whole pass.
      waitedMs: Math.round(waitedMs), modelMs: Math.round(resolved - began), compileMs: Math.round(compiled - resolved), passMs: Math.round(performance.now() - began) }, 'reconciled');
    this.o.onPass?.(pass);
  }

  /**
   * Gives BIRD the VIPs to announce, holding back those not yet announced while a health check of
   * theirs has no verdict (bgp-settle.ts). A failed first probe of a target that starts down is no
   * health change and triggers no pass, so a pass looks again each second while any VIP waits.
   */
  private announce(bgp: PassBgp, model: ClusterModel, desired: NodeDesired): ReadonlySet<string> {
    const { desired: announce, held } = holdUnchecked(model, desired, bgp.announcing(), (k) => this.checker.get(k));
    if (held.join() !== this.held.join()) {
      if (held.length > 0) this.log.info({ held }, 'BGP: VIPs wait for a verdict of every health check of theirs before they are announced');
      else if (this.held.length > 0) this.log.info({ released: this.held }, 'BGP: every health check has a verdict; VIPs announced');
      this.held = held;
    }
    clearTimeout(this.heldRecheck);
    if (held.length > 0 && !this.stopped) this.heldRecheck = setTimeout(() => this.schedule(0), 1000).unref();
    void bgp.update(this.models.snapshot(), model, announce);
    return bgp.draining ? new Set() : bgp.exported();
  }

  /** Reads the client-certificate Secrets when the services changed, or always (start, resync). */
  private async refreshSecrets(model: ClusterModel, always: boolean): Promise<void> {
    if (!this.o.readSecretData || (!always && model.services === this.secretsFor)) return;
    this.secretsFor = model.services;
    await this.secrets.update(tlsSecrets(model, this.o.node)).catch((err: unknown) => this.log.warn({ err }, 'reading client-certificate Secrets failed'));
  }

  /** A resync reads back every service this node should hold or still owns, a slice per pass. */
  private async queueResync(desired: NodeDesired): Promise<void> {
    const keys = new Set(desired.services.map((s) => serviceKeyString(s.ipvs.key)));
    for (const k of (await this.o.reconciler.ownedState()).services) keys.add(k);
    this.verifyQueue = [...keys];
  }

  /**
   * Stops. VRRP first, while passes still run (with `handover`, a restart, a master keeps its VIPs
   * until the successor advertises); then one last pass puts the kernel where VRRP left it (the
   * master sync daemon stops, the backup daemon stays for the next agent).
   */
  async stop(o: { handover?: boolean } = {}): Promise<void> {
    // BGP first: withdraw and drain while the kernel still serves (passes keep running).
    await this.o.bgp?.drain();
    await this.o.vrrp?.stop({ awaitSuccessor: o.handover ?? false });
    this.stopped = true;
    clearTimeout(this.debounce);
    clearInterval(this.resync);
    clearTimeout(this.resyncStep);
    clearTimeout(this.retry);
    clearTimeout(this.heldRecheck);
    this.unsubscribe?.();
    this.unsubscribeVrrp?.();
    await this.running;
    if (this.o.vrrp && this.started) await this.runPasses();
    this.checker.close();
  }
}

/** Desired state whose BGP part leaves out the VIPs of services whose kernel change failed this pass. */
function withoutFailed(model: ClusterModel, desired: NodeDesired, result: ReconcileResult): NodeDesired {
  if (!desired.bgp) return desired;
  const failedVips = new Set<string>();
  for (const e of result.errors) for (const key of e.services) for (const v of model.services.get(key)?.vips ?? []) failedVips.add(v.vip);
  if (failedVips.size === 0) return desired;
  return { ...desired, bgp: desired.bgp.map((g) => ({ ...g, serving: g.serving.filter((v) => !failedVips.has(v)) })) };
}
