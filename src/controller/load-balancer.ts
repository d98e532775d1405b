// The LoadBalancer side of the controller: applies what src/pool/plan.ts decided, one Service
// or AddressPool per work-queue key (so one bad Service never holds back the others), writing
// only what differs: a Service's status.loadBalancer and conditions, its derived
// VirtualServices, and an AddressPool's status.
import type { Logger } from 'pino';
import { Gauge, type Registry } from 'prom-client';
import { type AddressPool, type Condition, type VirtualService, apiVersion, parseVirtualServiceSpec } from '../api/index.js';
import type { ResourceClient } from '../kube/client.js';
import { type EventRecorder, referenceTo } from '../kube/events.js';
import { KubeApiError, isNotFound } from '../kube/http.js';
import type { InformerEvent } from '../kube/informer.js';
import type { KubeObject, Service } from '../kube/types.js';
import { TerminalError } from '../kube/workqueue.js';
import { sameContent } from '../model/same-content.js';
import { applyBody, derivedFromLabel } from '../pool/derive.js';
import type { LoadBalancerPlan, PoolPlan, ServicePlan } from '../pool/plan.js';
import { type DesiredCondition, mergeConditions, transitions } from './conditions.js';

/**
 * Whether an informer event can change what planLoadBalancers decides: any change of a pool or a
 * namespace; a Service that is (or was) of type LoadBalancer; a VirtualService added or deleted
 * (a hand-written one may hold a derived name), or changed in its derived label, or a derived
 * one changed in spec (generation), labels or owners. Status writes of VirtualServices, which
 * agents make all the time, and changes of other Services do not count. Pure.
 */
export function affectsLoadBalancers(informer: string, ev: InformerEvent<KubeObject>): boolean {
  if (ev.type === 'resync') return true;
  if (informer === 'addressPools' || informer === 'namespaces') return true;
  if (informer === 'services') {
    const lb = (o: KubeObject) => (o as Service).spec?.type === 'LoadBalancer';
    return lb(ev.obj) || (ev.type === 'updated' && lb(ev.old));
  }
  if (informer !== 'virtualServices') return false;
  if (ev.type !== 'updated') return true;
  const derived = (o: KubeObject) => o.metadata.labels?.[derivedFromLabel];
  if (derived(ev.obj) !== derived(ev.old)) return true;
  if (derived(ev.obj) === undefined) return false;
  const owners = (o: KubeObject) => (o.metadata as { ownerReferences?: unknown }).ownerReferences;
  return ev.obj.metadata.generation !== ev.old.metadata.generation || !sameContent(ev.obj.metadata.labels ?? {}, ev.old.metadata.labels ?? {}) || !sameContent(owners(ev.obj), owners(ev.old));
}

export interface LoadBalancerWriters {
  services: ResourceClient<Service>;
  virtualServices: ResourceClient<VirtualService>;
  addressPools: ResourceClient<AddressPool>;
  recorder: EventRecorder;
}

export class LoadBalancerMetrics {
  readonly poolAddresses: Gauge<'pool' | 'state'>;
  readonly services: Gauge<'result'>;

  constructor(registry: Registry) {
    this.poolAddresses = new Gauge({
      name: 'lvs_controller_pool_addresses',
      help: 'Addresses of each AddressPool by state (allocated, free) after the last reconcile.',
      labelNames: ['pool', 'state'],
      registers: [registry],
    });
    this.services = new Gauge({
      name: 'lvs_controller_load_balancer_services',
      help: 'LoadBalancer Services served by lvs-operator, by the reason of their lvs.dev/AddressAllocated condition.',
      labelNames: ['result'],
      registers: [registry],
    });
  }

  record(plan: LoadBalancerPlan): void {
    this.poolAddresses.reset();
    this.services.reset();
    for (const p of plan.pools.values()) {
      this.poolAddresses.set({ pool: p.name, state: 'allocated' }, p.allocated);
      this.poolAddresses.set({ pool: p.name, state: 'free' }, Number(p.free));
    }
    for (const s of plan.services.values()) {
      if (typeof s.status === 'object') this.services.inc({ result: s.status.conditions[0]?.reason ?? 'Unknown' });
    }
  }
}

/** A refusal of the content itself is terminal: retrying the same request cannot succeed. */
function classify(err: unknown): unknown {
  if (err instanceof KubeApiError && (err.status === 400 || err.status === 422)) return new TerminalError(err.message, { cause: err });
  return err;
}

type ServiceStatus = NonNullable<Service['status']>;

export class LoadBalancerApplier {
  constructor(
    private readonly fieldManager: string,
    private readonly log: Logger,
  ) {}

  /** A stable text of what a plan entry asks for: the work-queue version, so terminal failures wait for a change. */
  static fingerprint(p: ServicePlan | PoolPlan): string {
    return JSON.stringify(p, (k, v: unknown) => (k === 'existing' || k === 'pool' || k === 'service' ? undefined : typeof v === 'bigint' ? String(v) : v));
  }

  async applyService(p: ServicePlan, w: LoadBalancerWriters, now: string): Promise<void> {
    if (p.service && p.status !== undefined) await this.writeServiceStatus(p.service, p.status, w, now);
    if (p.derived === 'keep') return;
    const wanted = new Set(p.derived.map((d) => d.name));
    for (const d of p.derived) {
      const cur = p.existing.find((e) => e.metadata.name === d.name);
      const same =
        cur &&
        sameContent(parseSpec(cur), d.parsed) &&
        sameContent(cur.metadata.labels ?? {}, { ...(cur.metadata.labels ?? {}), ...d.labels }) &&
        sameContent((cur.metadata as { ownerReferences?: unknown }).ownerReferences, d.ownerReferences);
      if (same) continue;
      try {
        await w.virtualServices.apply(applyBody(d), { fieldManager: this.fieldManager, force: true });
        this.log.info({ service: p.key, virtualService: d.name, vip: d.spec.vip, port: d.spec.port }, cur ? 'derived VirtualService updated' : 'derived VirtualService created');
      } catch (err) {
        throw classify(err);
      }
    }
    for (const e of p.existing) {
      const name = e.metadata.name ?? '';
      if (wanted.has(name) || e.metadata.labels?.[derivedFromLabel] !== p.name) continue;
      if (await w.virtualServices.delete(name, p.namespace)) this.log.info({ service: p.key, virtualService: name }, 'derived VirtualService deleted');
    }
  }

  private async writeServiceStatus(svc: Service, want: ServicePlan['status'], w: LoadBalancerWriters, now: string): Promise<void> {
    const cur = svc.status ?? {};
    const ours = (cur.conditions ?? []).filter((c) => c.type.startsWith('lvs.dev/'));
    let status: ServiceStatus;
    let desired: DesiredCondition[] = [];
    if (want === 'release') {
      if (ours.length === 0 && !(cur.loadBalancer?.ingress?.length)) return;
      status = {};
    } else if (want) {
      desired = want.conditions;
      const conditions = mergeConditions(ours as Condition[], desired, svc.metadata.generation, now);
      status = { loadBalancer: { ingress: want.ingress }, conditions };
      const sameIngress = sameContent(cur.loadBalancer?.ingress ?? [], want.ingress);
      const sameConditions = ours.length === conditions.length && conditions.every((c) => {
        const o = ours.find((x) => x.type === c.type);
        return o && o.status === c.status && o.reason === c.reason && o.message === c.message && o.observedGeneration === c.observedGeneration;
      });
      if (sameIngress && sameConditions) return;
    } else return;
    const { name = '', namespace = '' } = svc.metadata;
    try {
      // Server-side apply under our own manager: leaving a field out removes it, so the release
      // (an empty status) takes back exactly the ingress and conditions we wrote.
      await w.services.applyStatus({ metadata: { name, namespace }, status: status as Record<string, unknown> }, { fieldManager: this.fieldManager, force: true });
    } catch (err) {
      if (isNotFound(err)) return;
      throw classify(err);
    }
    if (want === 'release') {
      this.log.info({ service: `${namespace}/${name}`, released: cur.loadBalancer?.ingress?.map((i) => i.ip) }, 'addresses released');
      void w.recorder.record(referenceTo(svc, 'v1', 'Service'), 'Normal', 'AddressReleased', `released ${(cur.loadBalancer?.ingress ?? []).map((i) => i.ip).join(', ') || 'nothing'}: the Service is no longer served by lvs-operator`);
      return;
    }
    this.report(svc, 'Service', 'v1', ours as Condition[], desired, w.recorder);
  }

  async applyPool(p: PoolPlan, w: LoadBalancerWriters, now: string): Promise<void> {
    const cur = p.pool.status;
    const conditions = mergeConditions(cur?.conditions, p.conditions, p.pool.metadata.generation, now);
    const status = { observedGeneration: p.pool.metadata.generation ?? 0, conditions, allocated: p.allocated, free: p.free, conflicts: p.conflicts };
    const same =
      cur?.observedGeneration === status.observedGeneration &&
      cur.allocated === status.allocated &&
      cur.free === status.free &&
      sameContent(cur.conflicts ?? [], status.conflicts) &&
      (cur.conditions ?? []).length === conditions.length &&
      conditions.every((c) => cur.conditions?.some((o) => o.type === c.type && o.status === c.status && o.reason === c.reason && o.message === c.message));
    if (same) return;
    try {
      await w.addressPools.applyStatus({ metadata: { name: p.name }, status }, { fieldManager: this.fieldManager, force: true });
    } catch (err) {
      if (isNotFound(err)) return;
      throw classify(err);
    }
    this.report(p.pool, 'AddressPool', apiVersion, cur?.conditions, p.conditions, w.recorder);
  }

  /** Events for conditions that changed: Warning when something went wrong, Normal when it came right. */
  private report(obj: KubeObject, kind: string, version: string, previous: readonly Condition[] | undefined, desired: DesiredCondition[], recorder: EventRecorder): void {
    const ref = referenceTo(obj, version, kind);
    for (const t of transitions(previous, desired)) {
      const bad = t.type === 'Degraded' ? t.to.status === 'True' : t.to.status === 'False';
      if (!bad && t.from === undefined && t.type === 'Degraded') continue;
      if (!bad && t.type !== 'Ready' && t.type !== 'lvs.dev/AddressAllocated') continue;
      void recorder.record(ref, bad ? 'Warning' : 'Normal', t.to.reason, t.to.message);
    }
  }
}

function parseSpec(vs: VirtualService): unknown {
  const r = parseVirtualServiceSpec(vs.spec);
  return r.ok ? r.value : undefined;
}
