// The VirtualServices derived from a LoadBalancer Service: one per Service port and address
// family, named deterministically, owned by the Service, validated by the same schema as a
// hand-written VirtualService. externalTrafficPolicy Local makes the nodes with ready endpoints
// the real servers, by DR (docs/metallb-to-lvs-operator.md). Either every object validates or none is returned: a bad
// annotation never yields a half-made set. Pure.
import type { IpFamily } from '../address/index.js';
import { type VirtualServiceSpec, type VirtualServiceSpecInput, apiVersion, parseVirtualServiceSpec } from '../api/index.js';
import type { Service, ServicePort } from '../kube/types.js';
import { type AnnotationError, annotationOfField, annotations, serviceOverrides } from './service-config.js';

/** Label naming the Service a VirtualService was derived from (the selector of cleanup). */
export const derivedFromLabel = 'lvs.dev/service-name';
/** Label every derived VirtualService carries, so `kubectl get lvsvs -l lvs.dev/derived` lists them. */
export const derivedMarkerLabel = 'lvs.dev/derived';

export interface DerivedVirtualService {
  name: string;
  namespace: string;
  labels: Record<string, string>;
  ownerReferences: { apiVersion: 'v1'; kind: 'Service'; name: string; uid: string; controller: true }[];
  /** What is applied (only the fields we set). */
  spec: VirtualServiceSpecInput;
  /** The same with the schema's defaults, to compare with what the API server holds. */
  parsed: VirtualServiceSpec;
}

export interface AddressOfService {
  address: string;
  family: IpFamily;
  directorGroup: string;
}

/** `web-80-tcp`, and `web-80-tcp-v6` for the IPv6 address of a dual-stack Service. */
export function derivedName(service: string, port: ServicePort, family: IpFamily, dualStack: boolean): string {
  const base = `${service}-${port.port}-${(port.protocol ?? 'TCP').toLowerCase()}`;
  return dualStack && family === 'IPv6' ? `${base}-v6` : base;
}

export function deriveVirtualServices(svc: Service, addresses: readonly AddressOfService[]): DerivedVirtualService[] | AnnotationError[] {
  const name = svc.metadata.name ?? '';
  const namespace = svc.metadata.namespace ?? '';
  const overrides = serviceOverrides(svc);
  if ('annotation' in overrides) return [overrides];
  const local = svc.spec?.externalTrafficPolicy === 'Local';
  if (local && overrides.forwarding?.method === 'NAT') {
    return [{ annotation: annotations.forwarding, message: 'NAT: externalTrafficPolicy Local is served by DR or TUN to the nodes that host ready endpoints (the packet must reach the node still addressed to the VIP); use DR or TUN, or externalTrafficPolicy Cluster' }];
  }
  const dual = new Set(addresses.map((a) => a.family)).size > 1;
  const out: DerivedVirtualService[] = [];
  const errors = new Map<string, AnnotationError>();
  for (const a of addresses) {
    for (const port of svc.spec?.ports ?? []) {
      const spec: VirtualServiceSpecInput = {
        vip: a.address,
        port: port.port,
        protocol: port.protocol ?? 'TCP',
        directorGroup: a.directorGroup,
        // The Service port by name when it has one: a renumbered port keeps its endpoints.
        backends: { service: { name, port: port.name || port.port, ...(local ? { target: 'Nodes' } : {}) } },
        ...(local ? localDefaults(svc) : {}),
        ...(overrides as object),
        forwarding: local ? (overrides.forwarding ?? { method: 'DR' })
          // Source NAT by default: replies from pods come back through the director whatever the
          // pod network routes (DR and TUN have no snat; the schema refuses it there).
          : !overrides.forwarding || overrides.forwarding.method === 'NAT' ? { method: 'NAT', snat: true } : overrides.forwarding,
      } as VirtualServiceSpecInput;
      const r = parseVirtualServiceSpec(spec);
      if (!r.ok) {
        for (const issue of r.issues) {
          const field = String(issue.path[0] ?? '');
          const annotation = annotationOfField[field] ?? `port ${port.port}/${port.protocol ?? 'TCP'}`;
          const message = `${issue.path.length ? `${issue.path.join('.')}: ` : ''}${issue.message}`;
          if (!errors.has(annotation)) errors.set(annotation, { annotation, message });
        }
        continue;
      }
      out.push({
        name: derivedName(name, port, a.family, dual),
        namespace,
        labels: { [derivedFromLabel]: name, [derivedMarkerLabel]: 'true' },
        ownerReferences: [{ apiVersion: 'v1', kind: 'Service', name, uid: svc.metadata.uid ?? '', controller: true }],
        spec,
        parsed: r.value,
      });
    }
  }
  return errors.size ? [...errors.values()] : out;
}

/**
 * externalTrafficPolicy Local: the nodes are the real servers, checked as cloud load balancers
 * check them, on kube-proxy's health check node port (200 while the node has ready local
 * endpoints, 503 otherwise). A health-check annotation replaces it.
 */
function localDefaults(svc: Service): Partial<VirtualServiceSpecInput> {
  const port = svc.spec?.healthCheckNodePort;
  return port ? { healthCheck: { type: 'HTTP', port, http: { path: '/healthz' } } } as Partial<VirtualServiceSpecInput> : {};
}

export function isDerivedError(r: DerivedVirtualService[] | AnnotationError[]): r is AnnotationError[] {
  return r.length > 0 && 'annotation' in r[0]!;
}

/** The body of a server-side apply of one derived object. */
export function applyBody(d: DerivedVirtualService) {
  return {
    apiVersion,
    kind: 'VirtualService',
    metadata: { name: d.name, namespace: d.namespace, labels: d.labels, ownerReferences: d.ownerReferences },
    spec: d.spec as Record<string, unknown>,
  };
}
