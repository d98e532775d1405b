import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { AddressPool, Condition, DirectorGroup, RealServer, VirtualService } from '../api/index.js';
import { type KubeClients, type ResourceClient, makeClients } from '../kube/client.js';
import type { ClusterAccess } from '../kube/config.js';
import { EventRecorder, referenceTo } from '../kube/events.js';
import { Deadline, type Fence } from '../kube/fence.js';
import { KubeApiError, KubeHttp, isNotFound } from '../kube/http.js';
import { Informer, type InformerOptions, keyOf, resourceListWatcher } from '../kube/informer.js';
import { LeaderElector } from '../kube/leader.js';
import { MetricsServer } from '../kube/metrics-server.js';
import type { KubeObject, Lease, Namespace, SecretMeta, Service } from '../kube/types.js';
import { TerminalError, WorkQueue } from '../kube/workqueue.js';
import { clusterInformers, clusterLists, type ClusterInformers } from '../kube/cluster-informers.js';
import { HeartbeatWatch, agentLeasePrefix } from '../kube/node-heartbeat.js';
import { buildSnapshot, carryParse } from '../model/snapshot.js';
import { IncrementalResolver } from '../model/incremental.js';
import type { ClusterModel } from '../model/types.js';
import { logger } from '../util/log.js';
import { type DesiredCondition, type Transition, isBad, transitions } from './conditions.js';
import { ControllerMetrics } from './metrics.js';
import { type RealServerUse, groupStatus, realServerViews, ownedFieldsEqual, ownedStatusFields, realServerStatus, serviceStatus } from './status.js';
import { WrittenCache } from './written.js';
import { LoadBalancerApplier, LoadBalancerMetrics, type LoadBalancerWriters, affectsLoadBalancers } from './load-balancer.js';
import { sameContent } from '../model/same-content.js';
import { type LoadBalancerPlan, planLoadBalancers } from '../pool/plan.js';

export const defaultFieldManager = 'lvs-controller';
export const reportingController = 'lvs.dev/controller';

export interface LeaderElectionOptions {
  namespace: string;
  name: string;
  identity?: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
}

export interface ControllerOptions {
  /** Where the API server is and how to authenticate (see loadClusterAccess). */
  access: ClusterAccess;
  /** Field manager of every status write (default `lvs-controller`). */
  fieldManager?: string;
  /** Full reconcile at least this often even when nothing changed (default 10 min). */
  resyncMs?: number;
  /** Changes within this window are coalesced into one reconcile (default 50 ms). */
  debounceMs?: number;
  /** Serve /metrics, /healthz, /readyz; port 0 picks a free port (see metricsPort). */
  metrics?: { port: number; host?: string };
  /** Campaign for this Lease and reconcile only while holding it; omitted: always active. */
  leaderElection?: LeaderElectionOptions;
  registry?: Registry;
  informer?: Pick<InformerOptions, 'backoffInitialMs' | 'backoffMaxMs'>;
  log?: Logger;
  /** Wall clock for condition times; injectable for tests. */
  now?: () => Date;
  /** Namespace of the agents' heartbeat Leases (default: the election namespace, else lvs-system). */
  agentLeaseNamespace?: string;
  /**
   * Also serve Services of type LoadBalancer that name no loadBalancerClass (default false:
   * only `lvs.dev/ipvs`). On only where lvs-operator is the cluster's one load balancer.
   */
  claimClasslessLoadBalancers?: boolean;
  /** ipMode of the addresses written to status.loadBalancer.ingress (default VIP; see docs/metallb-to-lvs-operator.md). */
  loadBalancerIPMode?: 'VIP' | 'Proxy';
}

type Kind = 'DirectorGroup' | 'VirtualService' | 'RealServer';
type StatusObject = KubeObject & { status?: object | undefined };
type StatusOf = (obj: StatusObject, now: string) => { fields: object; desired: DesiredCondition[]; prev: readonly Condition[] | undefined };
/**
 * One object's status work: its model object, its API object, the other API objects its status
 * is read from (a RealServer's: the VirtualServices using it) and how to compute its status.
 */
interface Target { model: object; obj: StatusObject; deps?: readonly object[]; status: StatusOf }
interface Settled { model: object; obj: object; deps?: readonly object[] | undefined }

const sameDeps = (a: readonly object[] | undefined, b: readonly object[] | undefined): boolean =>
  (a?.length ?? 0) === (b?.length ?? 0) && (a ?? []).every((x, i) => x === b?.[i]);

/** Same object, same spec and metadata the model reads: only its status (or managedFields) changed. */
function onlyStatusChanged(old: KubeObject, obj: KubeObject): boolean {
  const a = old.metadata as KubeObject['metadata'] & Record<string, unknown>;
  const b = obj.metadata as KubeObject['metadata'] & Record<string, unknown>;
  return a.uid === b.uid && a.generation !== undefined && a.generation === b.generation && a.deletionTimestamp === b.deletionTimestamp &&
    sameContent(a.labels ?? {}, b.labels ?? {}) && sameContent(a.annotations ?? {}, b.annotations ?? {}) &&
    sameContent(a.ownerReferences ?? [], b.ownerReferences ?? []) && sameContent(a.finalizers ?? [], b.finalizers ?? []);
}

/** metav1.Time: RFC 3339 in whole seconds. */
function metaTime(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * The lvs-operator controller: watches the lvs.dev kinds and the core objects they refer
 * to, resolves the cluster model and writes each object's status (with server-side apply,
 * owning only its own fields) whenever it changes. Informers run on every replica so a
 * standby is warm; only the Lease holder reconciles.
 */
export class Controller {
  readonly metrics: ControllerMetrics;
  private readonly log: Logger;
  private readonly fieldManager: string;
  private readonly debounceMs: number;
  private readonly now: () => Date;
  private http: KubeHttp | undefined;
  private clients: KubeClients | undefined;
  private informers:
    | (ClusterInformers & { secrets: Informer<SecretMeta>; agentLeases: Informer<Lease>; addressPools: Informer<AddressPool>; namespaces: Informer<Namespace> })
    | undefined;
  /** The LoadBalancer side: addresses for Services and their derived VirtualServices (src/pool). */
  private lbPlan: LoadBalancerPlan | undefined;
  /** An input of the LoadBalancer plan changed since it was made (see affectsLoadBalancers). */
  private lbDirty = true;
  private lbWriters: LoadBalancerWriters | undefined;
  private readonly lb: LoadBalancerApplier;
  private readonly lbMetrics: LoadBalancerMetrics;
  /** Nodes whose agent heartbeat Lease has expired, as of the last check. */
  private deadAgents = new Set<string>();
  private readonly heartbeats = new HeartbeatWatch();
  private leaseTimer: NodeJS.Timeout | undefined;
  private readonly written = {
    DirectorGroup: new WrittenCache<DirectorGroup>(),
    VirtualService: new WrittenCache<VirtualService>(),
    RealServer: new WrittenCache<RealServer>(),
  };
  /**
   * Statuses known to be right for (model object, API object): both unchanged since means nothing
   * to compute. The incremental resolver keeps model objects of unchanged objects, so a pass after
   * one change looks at what it touched. Cleared when leadership or the dead-agent set changes.
   */
  private readonly settled = {
    DirectorGroup: new Map<string, Settled>(),
    VirtualService: new Map<string, Settled>(),
    RealServer: new Map<string, Settled>(),
  };
  private secrets: { text: string; set: ReadonlySet<string> } | undefined;
  private readonly resolver = new IncrementalResolver();
  private recorder: EventRecorder | undefined;
  /** Status and Event writes of the current term, all behind its fence: none outlives leadership. */
  private writers: Record<Kind, ResourceClient<KubeObject>> | undefined;
  /** Closed by stop() when there is no leader election. */
  private stopping = new AbortController();
  private elector: LeaderElector | undefined;
  private server: MetricsServer | undefined;
  private leading = false;
  private stopped = true;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private dirty = false;
  /** performance.now() before which a pass set off by changes waits (after a long pass). */
  private notBefore = 0;
  private failures = 0;
  private model: ClusterModel | undefined;
  /** Status writes by `kind key`: each object retries (backs off) on its own. */
  private work: WorkQueue | undefined;
  /** The bound metrics port, once started. */
  metricsPort: number | undefined;
  /** Counters for tests. */
  readonly stats = { reconciles: 0, writes: 0, skipped: 0 };

  constructor(private readonly o: ControllerOptions) {
    this.metrics = new ControllerMetrics(o.registry);
    this.log = o.log ?? logger('controller');
    this.fieldManager = o.fieldManager ?? defaultFieldManager;
    this.debounceMs = o.debounceMs ?? 50;
    this.now = o.now ?? (() => new Date());
    this.lb = new LoadBalancerApplier(this.fieldManager, this.log.child({ component: 'load-balancer' }));
    this.lbMetrics = new LoadBalancerMetrics(this.metrics.registry);
  }

  get isLeader(): boolean {
    return this.leading;
  }

  get identity(): string | undefined {
    return this.elector?.identity;
  }

  /** The model of the last reconcile (tests, debugging). */
  get lastModel(): ClusterModel | undefined {
    return this.model;
  }

  private get synced(): boolean {
    return !!this.informers && Object.values(this.informers).every((i) => i.hasSynced);
  }

  async start(): Promise<void> {
    if (!this.stopped) return;
    this.stopped = false;
    this.http = new KubeHttp(this.o.access);
    const c = makeClients(this.http);
    this.clients = c;
    const resyncMs = this.o.resyncMs ?? 10 * 60_000;
    const io = { ...this.o.informer, log: this.log };
    // Resync only one informer: the reconcile is global, one tick re-checks everything.
    const make = <T extends KubeObject>(name: string, client: ResourceClient<T>) =>
      new Informer<T>(name, resourceListWatcher(client), { ...io, resyncMs: name === 'directorgroups' ? resyncMs : 0, log: this.log.child({ informer: name }) });
    const ownNamespace = this.o.agentLeaseNamespace ?? this.o.leaderElection?.namespace ?? 'lvs-system';
    this.informers = {
      ...clusterInformers(c, make),
      // Only in its own namespace, where the agents may read auth Secrets (RBAC: a Role there).
      secrets: new Informer<SecretMeta>('secrets', resourceListWatcher(c.secrets, { namespace: ownNamespace }), { ...io, log: this.log.child({ informer: 'secrets' }) }),
      agentLeases: new Informer<Lease>('agent-leases', resourceListWatcher(c.leases, { namespace: ownNamespace }), { ...io, log: this.log.child({ informer: 'agent-leases' }) }),
      addressPools: make('addresspools', c.addressPools),
      // For AddressPool namespaceSelectors.
      namespaces: make('namespaces', c.namespaces),
    };
    const watchWritten = <T extends KubeObject>(inf: Informer<T>, cache: WrittenCache<T>) =>
      inf.on((ev) => {
        if (ev.type !== 'resync') cache.observe(keyOf(ev.obj), ev.type === 'deleted' ? undefined : ev.obj);
      });
    watchWritten(this.informers.directorGroups, this.written.DirectorGroup);
    watchWritten(this.informers.virtualServices, this.written.VirtualService);
    watchWritten(this.informers.realServers, this.written.RealServer);
    // Their parses leave status out: a status write hands the parse on to the new object.
    this.informers.virtualServices.on((ev) => { if (ev.type === 'updated') carryParse(ev.old, ev.obj); });
    this.informers.realServers.on((ev) => { if (ev.type === 'updated') carryParse(ev.old, ev.obj); });
    for (const [name, inf] of Object.entries(this.informers)) {
      // Heartbeats renew every few seconds; only a change of who is alive needs a reconcile.
      (inf as Informer<KubeObject>).on((ev) => {
        if (name === 'agentLeases') return this.checkAgents();
        const lb = affectsLoadBalancers(name, ev);
        if (lb) this.lbDirty = true;
        // A status write (an agent's entry, our own) changes no model: queue the objects whose
        // status reads it, not a pass over the whole cluster per write.
        if (!lb && ev.type === 'updated' && this.queueStatusReaders(name, ev.old, ev.obj)) return;
        this.schedule();
      });
      inf.start();
    }

    if (this.o.metrics) {
      this.server = new MetricsServer({
        registry: this.metrics.registry,
        port: this.o.metrics.port,
        ...(this.o.metrics.host ? { host: this.o.metrics.host } : {}),
        healthz: () => undefined,
        readyz: () => (this.synced ? undefined : 'informer caches not synced yet'),
      });
      this.metricsPort = await this.server.listen();
    }

    const le = this.o.leaderElection;
    if (le) {
      this.elector = new LeaderElector({
        leases: c.leases,
        namespace: le.namespace,
        name: le.name,
        ...(le.identity ? { identity: le.identity } : {}),
        ...(le.leaseDurationMs ? { leaseDurationMs: le.leaseDurationMs } : {}),
        ...(le.renewDeadlineMs ? { renewDeadlineMs: le.renewDeadlineMs } : {}),
        ...(le.retryPeriodMs ? { retryPeriodMs: le.retryPeriodMs } : {}),
        onStartedLeading: (fence) => this.lead(fence),
        onStoppedLeading: () => this.unlead(),
        onNewLeader: (id) => this.log.info({ leader: id }, 'leader observed'),
        log: this.log.child({ component: 'leader-election' }),
      });
      this.elector.start();
    } else {
      this.stopping = new AbortController();
      await this.lead(new Deadline(() => performance.now(), Infinity, this.stopping.signal));
    }
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    // Stop reconciling first, then give up the Lease so a standby takes over at once.
    const work = this.work;
    this.unlead();
    await this.running;
    await work?.idle(); // writes in flight finish (or are cut off by the fence)
    this.stopping.abort();
    await this.elector?.stop();
    this.elector = undefined;
    await Promise.all(Object.values(this.informers ?? {}).map((i) => (i as Informer<KubeObject>).stop()));
    clearTimeout(this.leaseTimer);
    await this.recorder?.flush();
    await this.server?.close();
    this.server = undefined;
    this.http?.close();
  }

  private async lead(fence: Fence): Promise<void> {
    const c = this.clients;
    if (this.stopped || !c || fence.signal.aborted) return;
    const w = <T extends KubeObject>(client: ResourceClient<T>) => client.fenced(fence) as unknown as ResourceClient<KubeObject>;
    this.writers = { DirectorGroup: w(c.directorGroups), VirtualService: w(c.virtualServices), RealServer: w(c.realServers) };
    this.recorder = new EventRecorder({ events: c.events.fenced(fence), controller: reportingController, ...(this.o.leaderElection?.identity ? { instance: this.o.leaderElection.identity } : {}), log: this.log.child({ component: 'events' }) });
    this.lbWriters = { services: c.services.fenced(fence), virtualServices: c.virtualServices.fenced(fence), addressPools: c.addressPools.fenced(fence), recorder: this.recorder };
    // Stop at once when the fence closes, not when the elector's loop gets round to it.
    fence.signal.addEventListener('abort', () => this.unlead(), { once: true });
    this.leading = true;
    this.lbDirty = true;
    this.work?.close();
    this.work = new WorkQueue((item) => this.process(item), {
      concurrency: 8,
      // RealServers outnumber the rest tenfold: a backlog of their writes (a large create, a
      // restart) must not hold back the VirtualServices', DirectorGroups' and Services' statuses.
      priority: (item) => (item.startsWith('RealServer ') ? 1 : 0),
      onError: (item, err, retryMs) => this.log.warn({ err, object: item, retryMs }, retryMs === undefined ? 'status write failed for good: waiting for the object to change' : 'status write failed, retrying'),
    });
    this.forgetSettled();
    this.metrics.leader.set(1);
    this.log.info('leading: reconciling');
    await Promise.all(Object.values(this.informers ?? {}).map((i) => (i as Informer<KubeObject>).waitForSync()));
    this.schedule(0);
  }

  /**
   * Recomputes which agents' heartbeat Leases have expired; reconciles when that set changed, and
   * checks again when the next live Lease would expire.
   */
  private checkAgents(): void {
    const now = this.now().getTime();
    const leases = (this.informers?.agentLeases.list() ?? []).filter((l) => l.metadata.name?.startsWith(agentLeasePrefix));
    const { dead, nextExpiry } = this.heartbeats.observe(leases, now);
    const changed = dead.size !== this.deadAgents.size || [...dead].some((n) => !this.deadAgents.has(n));
    this.deadAgents = dead;
    if (changed) {
      this.forgetSettled();
      this.schedule();
    }
    clearTimeout(this.leaseTimer);
    if (nextExpiry !== undefined && !this.stopped) this.leaseTimer = setTimeout(() => this.checkAgents(), nextExpiry - now + 1000).unref();
  }

  private forgetSettled(): void {
    for (const m of Object.values(this.settled)) m.clear();
  }

  /** The same Set while the Secrets' names do not change, so the resolver sees no change. */
  private secretNames(list: readonly KubeObject[]): ReadonlySet<string> {
    const names = list.map(keyOf).sort();
    const text = names.join('\n');
    if (this.secrets?.text !== text) this.secrets = { text, set: new Set(names) };
    return this.secrets.set;
  }

  /** Queues the status write of one object unless it is settled for these model and API objects. */
  private enqueue(kind: Kind, key: string, t: Target | undefined): void {
    const settled = this.settled[kind];
    if (!t) {
      settled.delete(key);
      return;
    }
    const s = settled.get(key);
    if (s?.model === t.model && s.obj === t.obj && sameDeps(s.deps, t.deps)) {
      this.stats.skipped++;
      return;
    }
    // The version: a key failing for good or backing off is retried early only when one of these changed.
    this.work?.add(`${kind} ${key}`, [t.model, t.obj, ...(t.deps ?? [])]);
  }

  /**
   * For an update of a VirtualService or RealServer that changed only its status: queues that
   * object and, for a VirtualService, the RealServers it uses (their per-director health is read
   * from its entries). False when a pass is needed instead (anything else changed, no model yet).
   * DirectorGroups always get a pass: their status carries the VRID allocation the model reads.
   */
  private queueStatusReaders(informer: string, old: KubeObject, obj: KubeObject): boolean {
    const model = this.model;
    if (!model || !this.leading || (informer !== 'virtualServices' && informer !== 'realServers') || !onlyStatusChanged(old, obj)) return false;
    const key = keyOf(obj);
    if (informer === 'realServers') {
      if (!model.realServers.has(key)) return false;
      this.enqueue('RealServer', key, this.target('RealServer', key, model));
      return true;
    }
    const s = model.services.get(key);
    if (!s) return false;
    this.enqueue('VirtualService', key, this.target('VirtualService', key, model));
    for (const b of s.backends) {
      if (b.source.kind !== 'RealServer') continue;
      const rs = `${b.source.namespace}/${b.source.name}`;
      this.enqueue('RealServer', rs, this.target('RealServer', rs, model));
    }
    return true;
  }

  /** What one object's status is computed from, in the current model; undefined when either side is gone. */
  private target(kind: Kind, key: string, model: ClusterModel): Target | undefined {
    const inf = this.informers;
    if (!inf) return undefined;
    if (kind === 'DirectorGroup') {
      const g = model.groups.get(key);
      const obj = this.written.DirectorGroup.current(key, inf.directorGroups.getByName(key));
      if (!g || !obj) return undefined;
      return { model: g, obj, status: (o, now) => {
        const prev = (o as DirectorGroup).status?.conditions;
        return { ...groupStatus(g, prev, now), prev };
      } };
    }
    if (kind === 'VirtualService') {
      const s = model.services.get(key);
      const obj = this.written.VirtualService.current(key, inf.virtualServices.get(key));
      if (!s || !obj) return undefined;
      return { model: s, obj, status: (o, now) => {
        const st = (o as VirtualService).status;
        // A director whose agent stopped heartbeating cannot correct its own entry: do not count it.
        const views = st?.directors?.filter((v) => !this.deadAgents.has(v.node));
        return { ...serviceStatus(s, views, st?.conditions, now), prev: st?.conditions };
      } };
    }
    const r = model.realServers.get(key);
    const obj = this.written.RealServer.current(key, inf.realServers.get(key));
    if (!r || !obj) return undefined;
    // Its per-director health is what the directors report in the services using it.
    const uses: RealServerUse[] = [];
    const deps: object[] = [];
    for (const s of r.usedBy) {
      const m = model.services.get(s);
      const vs = this.written.VirtualService.current(s, inf.virtualServices.get(s));
      if (!m || !vs) continue;
      deps.push(vs);
      uses.push({ model: m, views: vs.status?.directors?.filter((v) => !this.deadAgents.has(v.node)) });
    }
    return { model: r, obj, deps, status: (o, now) => {
      const st = (o as RealServer).status;
      const views = realServerViews(r, uses, st?.directors, now);
      return { ...realServerStatus(r, views, st?.conditions, now), prev: st?.conditions };
    } };
  }

  /** The work queue's handler: writes one object's status from the latest model. Throws to retry. */
  private async process(item: string): Promise<void> {
    const at = item.indexOf(' ');
    const kind = item.slice(0, at) as Kind;
    const key = item.slice(at + 1);
    if ((kind as string) === 'Service' || (kind as string) === 'AddressPool') return this.processLoadBalancer(kind as string, key);
    const model = this.model;
    if (!model || !this.leading) return;
    const t = this.target(kind, key, model);
    if (!t) return;
    const { fields, desired, prev } = t.status(t.obj, metaTime(this.now()));
    await this.write(kind, t.obj, fields, prev, desired);
    if (this.leading) this.settled[kind].set(key, { model: t.model, obj: t.obj, deps: t.deps });
  }

  /** One Service (its status and derived VirtualServices) or one AddressPool (its status), from the latest plan. */
  private async processLoadBalancer(kind: string, key: string): Promise<void> {
    const plan = this.lbPlan;
    const w = this.lbWriters;
    if (!plan || !w || !this.leading) return;
    const now = metaTime(this.now());
    if (kind === 'Service') {
      const p = plan.services.get(key);
      if (p) await this.lb.applyService(p, w, now);
      return;
    }
    const p = plan.pools.get(key);
    if (p) await this.lb.applyPool(p, w, now);
  }

  /** Plans addresses and derived objects for every LoadBalancer Service and queues what may have changed. */
  private reconcileLoadBalancers(inf: NonNullable<typeof this.informers>): void {
    const plan = planLoadBalancers({
      services: inf.services.list() as Service[],
      pools: inf.addressPools.list(),
      namespaces: inf.namespaces.list(),
      virtualServices: inf.virtualServices.list(),
      claimClassless: this.o.claimClasslessLoadBalancers ?? false,
      ipMode: this.o.loadBalancerIPMode ?? 'VIP',
    });
    const previous = this.lbPlan;
    this.lbPlan = plan;
    for (const [key, p] of plan.services) this.work?.add(`Service ${key}`, [p.service, ...p.existing, LoadBalancerApplier.fingerprint(p)]);
    for (const [name, p] of plan.pools) this.work?.add(`AddressPool ${name}`, [p.pool, LoadBalancerApplier.fingerprint(p)]);
    for (const key of previous?.services.keys() ?? []) if (!plan.services.has(key)) this.work?.forget(`Service ${key}`);
    for (const name of previous?.pools.keys() ?? []) if (!plan.pools.has(name)) this.work?.forget(`AddressPool ${name}`);
    this.lbMetrics.record(plan);
  }

  private unlead(): void {
    if (this.leading) this.log.info('no longer leading: reconciling stopped');
    this.leading = false;
    this.metrics.leader.set(0);
    clearTimeout(this.timer);
    this.timer = undefined;
    this.work?.close();
    this.work = undefined;
  }

  /** Coalesces changes: one reconcile per debounce window; a change during a reconcile queues exactly one more. */
  private schedule(delayMs = this.debounceMs): void {
    if (!this.leading || this.stopped || !this.synced) return;
    if (this.running) {
      this.dirty = true;
      return;
    }
    if (this.timer) return;
    // After a long pass, changes wait (see loop); schedule(0) (leading, a retry) does not.
    if (delayMs > 0) delayMs = Math.max(delayMs, this.notBefore - performance.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.running = this.loop().then(
        (again) => {
          this.running = undefined;
          if (again) this.schedule();
        },
        () => {
          this.running = undefined;
        },
      );
    }, delayMs);
  }

  /** True when changes came in during a long pass: the caller schedules the next one after a pause. */
  private async loop(): Promise<boolean> {
    do {
      this.dirty = false;
      if (!this.leading || this.stopped) return false;
      const started = performance.now();
      const ok = await this.reconcile();
      // A pass walks every object (about 2 s at 100,000 on a busy host). Back to back, passes set
      // off by every status write starved the work queue of those very writes (4 a second at
      // 10,000 x 10): after a long pass the next waits three times its length.
      const took = performance.now() - started;
      this.notBefore = performance.now() + 3 * took;
      if (!this.leading) return false;
      if (!ok) {
        this.failures++;
        const retry = Math.min(60_000, 500 * 2 ** (this.failures - 1));
        this.log.warn({ retryMs: retry, failures: this.failures }, 'reconcile pass failed, retrying');
        setTimeout(() => this.schedule(0), retry).unref();
        return false;
      }
      this.failures = 0;
      if (this.dirty && 3 * took > this.debounceMs) {
        this.dirty = false;
        return true;
      }
    } while (this.dirty);
    return false;
  }

  /**
   * One pass: resolve the model and queue the objects whose status may have changed. The writes
   * run in the work queue, each object retrying on its own, so one bad object never holds back
   * the others. False only when the pass itself failed (then the whole pass backs off).
   */
  private async reconcile(): Promise<boolean> {
    const inf = this.informers;
    if (!inf) return true;
    const end = this.metrics.reconcileDuration.startTimer();
    try {
      const snapshot = buildSnapshot({ ...clusterLists(inf), secrets: this.secretNames(inf.secrets.list()) });
      const model = this.resolver.resolve(snapshot);
      this.model = model;
      for (const g of model.groups.keys()) this.enqueue('DirectorGroup', g, this.target('DirectorGroup', g, model));
      for (const s of model.services.keys()) this.enqueue('VirtualService', s, this.target('VirtualService', s, model));
      for (const r of model.realServers.keys()) this.enqueue('RealServer', r, this.target('RealServer', r, model));
      for (const [kind, m] of Object.entries(this.settled)) {
        const live = kind === 'DirectorGroup' ? model.groups : kind === 'VirtualService' ? model.services : model.realServers;
        if (m.size > live.size) for (const k of m.keys()) if (!live.has(k)) {
          m.delete(k);
          this.work?.forget(`${kind} ${k}`);
        }
      }
      // Planning reads every Service, pool and VirtualService: only when one of them changed.
      if (this.lbDirty || !this.lbPlan) {
        this.lbDirty = false;
        this.reconcileLoadBalancers(inf);
      }
      this.recordMetrics(model);
      this.stats.reconciles++;
      this.metrics.reconciles.inc({ result: 'success' });
      return true;
    } catch (err) {
      this.log.error({ err }, 'reconcile failed');
      this.metrics.reconciles.inc({ result: 'error' });
      return false;
    } finally {
      end();
    }
  }

  /**
   * Writes one status if it differs, then reports condition transitions as Events. Throws when
   * the write failed: a TerminalError when the API server refused the content itself (only a
   * change of the object makes a different request), otherwise an error to retry.
   */
  private async write(kind: Kind, obj: StatusObject, fields: object, previous: readonly Condition[] | undefined, desired: DesiredCondition[]): Promise<void> {
    if (ownedFieldsEqual(obj.status as Record<string, unknown> | undefined, fields, ownedStatusFields[kind])) {
      this.stats.skipped++;
      return;
    }
    const writer = this.writers?.[kind];
    if (!this.leading || !writer) return;
    const { name = '', namespace } = obj.metadata;
    try {
      const written = await writer.applyStatus(
        { metadata: { name, ...(namespace ? { namespace } : {}) }, status: fields as Record<string, unknown> },
        { fieldManager: this.fieldManager, force: true },
      );
      this.written[kind].remember(keyOf(obj), written as never);
      this.stats.writes++;
      this.metrics.statusWrites.inc({ kind, result: 'success' });
    } catch (err) {
      if (isNotFound(err)) return; // deleted meanwhile: nothing to report on
      if (writer.fence?.signal.aborted) return; // leadership ended: cut off, not failed (the queue is closed)
      this.metrics.statusWrites.inc({ kind, result: 'error' });
      if (err instanceof KubeApiError && (err.status === 400 || err.status === 422)) throw new TerminalError(err.message, { cause: err });
      throw err;
    }
    this.report(kind, obj, transitions(previous, desired));
  }

  /** One Event per reason per object and pass: Ready, Programmed and Degraded often share one cause. */
  private report(kind: Kind, obj: KubeObject, ts: Transition[]): void {
    const rec = this.recorder;
    if (!rec) return;
    const ref = referenceTo(obj, 'lvs.dev/v1alpha1', kind);
    const seen = new Set<string>();
    for (const t of ts) {
      const bad = isBad(t);
      const goodReady = t.type === 'Ready' && t.to.status === 'True';
      if (!bad && !goodReady) continue;
      if (seen.has(t.to.reason)) continue;
      seen.add(t.to.reason);
      const type = bad ? 'Warning' : 'Normal';
      this.metrics.events.inc({ type, reason: t.to.reason });
      void rec.record(ref, type, t.to.reason, t.to.message, 'Reconcile');
    }
  }

  private recordMetrics(model: ClusterModel): void {
    this.metrics.vrids.reset();
    for (const g of model.groups.values()) for (const a of g.vrids) this.metrics.vrids.inc({ group: g.name, interface: a.interface });
    // lvs_controller_objects walks every object: counted when scraped, from the last model.
    this.metrics.countObjects = (count) => {
      const inf = this.informers;
      const m = this.model;
      if (!inf || !m) return;
      const each = (kind: Kind, conditions: readonly Condition[] | undefined) => {
        for (const c of conditions ?? []) count(kind, c);
      };
      for (const g of m.groups.values()) each('DirectorGroup', this.written.DirectorGroup.current(g.name, inf.directorGroups.getByName(g.name))?.status?.conditions);
      for (const s of m.services.values()) each('VirtualService', this.written.VirtualService.current(s.key, inf.virtualServices.get(s.key))?.status?.conditions);
      for (const r of m.realServers.values()) each('RealServer', this.written.RealServer.current(r.key, inf.realServers.get(r.key))?.status?.conditions);
    };
  }
}
