// From the cluster's Services, AddressPools, Namespaces and derived VirtualServices to what
// each Service and pool should look like: the level-based "desired = compile(state)" of the
// LoadBalancer side of the controller. The controller diffs and applies it (one work-queue key
// per Service and per pool). Pure.
import type { AddressPool, VirtualService } from '../api/index.js';
import type { DesiredCondition } from '../controller/conditions.js';
import type { LoadBalancerIngress, Namespace, Service } from '../kube/types.js';
import { type AllocationRequest, allocate } from './allocator.js';
import { buildPoolsConfig } from './config.js';
import { type DerivedVirtualService, derivedFromLabel, deriveVirtualServices, isDerivedError } from './derive.js';
import { canonical } from './ranges.js';
import { addressRequest, isOurs } from './service-config.js';

/** Condition types lvs-operator sets on a Service; the first also marks addresses as ours to release. */
export const addressCondition = 'lvs.dev/AddressAllocated';
export const derivedCondition = 'lvs.dev/VirtualServices';

export interface LoadBalancerInputs {
  services: readonly Service[];
  pools: readonly AddressPool[];
  namespaces: readonly Namespace[];
  virtualServices: readonly VirtualService[];
  /** Serve Services of type LoadBalancer without a loadBalancerClass too. */
  claimClassless: boolean;
  /**
   * status.loadBalancer.ingress[].ipMode: VIP (default; kube-proxy short-cuts in-cluster traffic
   * to the address straight to the endpoints) or Proxy (it sends that traffic to the directors,
   * and in IPVS mode creates no IPVS service of its own for the address).
   */
  ipMode?: 'VIP' | 'Proxy';
}

export interface ServicePlan {
  /** namespace/name */
  key: string;
  namespace: string;
  name: string;
  /** Undefined once the Service is gone: only its derived objects are left to delete. */
  service: Service | undefined;
  /**
   * The status to apply: ingress and our conditions; `release` clears both (the Service is no
   * longer ours); undefined: nothing of ours to write.
   */
  status: { ingress: LoadBalancerIngress[]; conditions: DesiredCondition[] } | 'release' | undefined;
  /** The derived objects to have; 'keep': leave the current ones exactly as they are (bad annotation). */
  derived: DerivedVirtualService[] | 'keep';
  /** Derived objects that exist now. */
  existing: VirtualService[];
}

export interface PoolPlan {
  name: string;
  pool: AddressPool;
  conditions: DesiredCondition[];
  allocated: number;
  free: string;
  conflicts: { pool: string; addresses: string }[];
}

export interface LoadBalancerPlan {
  services: Map<string, ServicePlan>;
  pools: Map<string, PoolPlan>;
}

const keyOf = (o: { metadata: { name?: string | undefined; namespace?: string | undefined } }) => `${o.metadata.namespace ?? ''}/${o.metadata.name ?? ''}`;

function ingressAddresses(svc: Service): string[] {
  return (svc.status?.loadBalancer?.ingress ?? []).flatMap((i) => {
    const c = i.ip !== undefined ? canonical(i.ip) : undefined;
    return c ? [c] : [];
  });
}

const hasOurMarker = (svc: Service) => !!svc.status?.conditions?.some((c) => c.type === addressCondition);

export function planLoadBalancers(inputs: LoadBalancerInputs): LoadBalancerPlan {
  const config = buildPoolsConfig(inputs.pools);
  const ipMode = inputs.ipMode ?? 'VIP';
  const nsLabels = new Map(inputs.namespaces.map((n) => [n.metadata.name ?? '', n.metadata.labels]));
  const derivedBy = new Map<string, VirtualService[]>();
  for (const vs of inputs.virtualServices) {
    const owner = vs.metadata.labels?.[derivedFromLabel];
    if (owner === undefined) continue;
    const k = `${vs.metadata.namespace ?? ''}/${owner}`;
    derivedBy.set(k, [...(derivedBy.get(k) ?? []), vs]);
  }

  const requests: AllocationRequest[] = [];
  const releasing = new Set<string>();
  const badRequest = new Map<string, string>();
  const ours: Service[] = [];
  for (const svc of inputs.services) {
    const held = ingressAddresses(svc);
    if (!isOurs(svc, inputs.claimClassless)) {
      if (hasOurMarker(svc)) for (const a of held) releasing.add(a);
      continue;
    }
    ours.push(svc);
    const r = addressRequest(svc);
    if ('annotation' in r) {
      // A typo in an annotation must not take a working address away: keep it, reserved.
      badRequest.set(keyOf(svc), `annotation ${r.annotation}: ${r.message}`);
      for (const a of held) releasing.add(a);
      continue;
    }
    requests.push({
      key: keyOf(svc),
      namespace: svc.metadata.namespace ?? '',
      namespaceLabels: nsLabels.get(svc.metadata.namespace ?? ''),
      creationTimestamp: svc.metadata.creationTimestamp ?? '',
      families: r.families,
      requested: r.requested,
      pool: r.pool,
      sharingKey: r.sharingKey,
      ports: (svc.spec?.ports ?? []).map((p) => ({ port: p.port, protocol: p.protocol ?? 'TCP' })),
      held,
    });
  }
  const result = allocate(config, requests, releasing);

  const services = new Map<string, ServicePlan>();
  for (const svc of ours) {
    const key = keyOf(svc);
    const existing = derivedBy.get(key) ?? [];
    const base = { key, namespace: svc.metadata.namespace ?? '', name: svc.metadata.name ?? '', service: svc, existing };
    // Every Service of ours gets the address condition and the derived-objects condition, in that order.
    const plan = (ingress: LoadBalancerIngress[], address: DesiredCondition, objects: DesiredCondition, derived: ServicePlan['derived']): void => {
      services.set(key, { ...base, status: { ingress, conditions: [address, objects] }, derived });
    };
    const leftAsTheyWere = (why: string): DesiredCondition => ({ type: derivedCondition, status: 'False', reason: 'InvalidAnnotation', message: `${why}; the VirtualServices are left as they were` });
    const bad = badRequest.get(key);
    if (bad !== undefined) {
      const ingress = (svc.status?.loadBalancer?.ingress ?? []).filter((i) => i.ip !== undefined).map((i) => ({ ip: i.ip!, ipMode }));
      const keeping = ingress.length ? `; keeping ${ingress.map((i) => i.ip).join(', ')}` : '';
      plan(ingress, { type: addressCondition, status: 'False', reason: 'InvalidAnnotation', message: `${bad}${keeping}` }, leftAsTheyWere(bad), 'keep');
      continue;
    }
    const a = result.byService.get(key)!;
    if (!a.ok) {
      plan([], { type: addressCondition, status: 'False', reason: a.reason, message: a.message },
        { type: derivedCondition, status: 'False', reason: 'NoAddress', message: 'no VirtualServices without an address' }, []);
      continue;
    }
    // Local: kube-proxy on the nodes must take the VIP (ipMode VIP), whatever the default.
    const ingress = a.addresses.map((x) => ({ ip: x.address, ipMode: svc.spec?.externalTrafficPolicy === 'Local' ? 'VIP' as const : ipMode }));
    const allocated: DesiredCondition = { type: addressCondition, status: 'True', reason: 'Allocated', message: a.addresses.map((x) => `${x.address} from AddressPool ${x.pool.name}`).join(', ') };
    const derived = deriveVirtualServices(svc, a.addresses.map((x) => ({ address: x.address, family: x.family, directorGroup: x.pool.directorGroup })));
    if (isDerivedError(derived)) {
      plan(ingress, allocated, leftAsTheyWere(derived.map((e) => `annotation ${e.annotation}: ${e.message}`).join('; ')), 'keep');
      continue;
    }
    // A name held by a VirtualService someone wrote by hand is never taken over.
    const taken = derived.filter((d) => inputs.virtualServices.some((v) => v.metadata.namespace === d.namespace && v.metadata.name === d.name && v.metadata.labels?.[derivedFromLabel] !== base.name));
    if (taken.length) {
      plan(ingress, allocated, { type: derivedCondition, status: 'False', reason: 'NameConflict', message: `VirtualService ${taken.map((d) => d.name).join(', ')} exists and was not derived from this Service; rename one of them` },
        derived.filter((d) => !taken.includes(d)));
    } else {
      plan(ingress, allocated, { type: derivedCondition, status: 'True', reason: 'Derived', message: `VirtualService ${derived.map((d) => d.name).join(', ')}` }, derived);
    }
  }
  // Services that are not (or no longer) ours: release our addresses, delete derived objects.
  for (const svc of inputs.services) {
    const key = keyOf(svc);
    if (services.has(key)) continue;
    const existing = derivedBy.get(key) ?? [];
    if (!hasOurMarker(svc) && existing.length === 0) continue;
    services.set(key, { key, namespace: svc.metadata.namespace ?? '', name: svc.metadata.name ?? '', service: svc, status: hasOurMarker(svc) ? 'release' : undefined, derived: [], existing });
  }
  // Derived objects whose Service is gone (the API tier runs no garbage collector; a cluster's
  // would delete them through the ownerReference, and we do not wait for it).
  const present = new Set(inputs.services.map(keyOf));
  for (const [key, existing] of derivedBy) {
    if (present.has(key)) continue;
    const [namespace = '', name = ''] = key.split('/');
    services.set(key, { key, namespace, name, service: undefined, status: undefined, derived: [], existing });
  }

  const pools = new Map<string, PoolPlan>();
  for (const p of inputs.pools) {
    const name = p.metadata.name ?? '';
    const refused = config.refused.get(name);
    const usage = result.usage.get(name);
    const conditions: DesiredCondition[] = refused
      ? [
          { type: 'Ready', status: 'False', reason: refused.reason, message: refused.message },
          { type: 'Degraded', status: 'False', reason: refused.reason, message: 'the pool is not used' },
        ]
      : [
          { type: 'Ready', status: 'True', reason: 'Ready', message: `${usage?.allocated ?? 0} allocated, ${usage?.free ?? 0n} free` },
          usage && usage.free <= 0n
            ? { type: 'Degraded', status: 'True', reason: 'Exhausted', message: 'every address is allocated: Services that need one more wait (Service condition lvs.dev/AddressAllocated, reason PoolExhausted)' }
            : { type: 'Degraded', status: 'False', reason: 'Ready', message: '' },
        ];
    pools.set(name, {
      name,
      pool: p,
      conditions,
      allocated: usage?.allocated ?? 0,
      free: String(usage?.free ?? 0n),
      conflicts: refused?.conflicts ?? [],
    });
  }
  return { services, pools };
}
