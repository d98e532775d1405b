// What a LoadBalancer Service asks of lvs-operator, read from its spec and annotations. Pure.
// Address annotations (which address, which pool, sharing) feed the allocator; the
// VirtualService annotations become fields of the derived VirtualServices and are validated
// by the same zod schema as a hand-written VirtualService (src/pool/derive.ts).
import type { IpFamily } from '../address/index.js';
import type { Service } from '../kube/types.js';
import { canonical, toNumber } from './ranges.js';

/** The loadBalancerClass lvs-operator implements. */
export const loadBalancerClass = 'lvs.dev/ipvs';

export const annotations = {
  loadBalancerIPs: 'lvs.dev/load-balancer-ips',
  addressPool: 'lvs.dev/address-pool',
  allowSharedIP: 'lvs.dev/allow-shared-ip',
  scheduler: 'lvs.dev/scheduler',
  persistenceTimeout: 'lvs.dev/persistence-timeout',
  healthCheck: 'lvs.dev/health-check',
  forwarding: 'lvs.dev/forwarding',
} as const;

/**
 * Whether lvs-operator serves this Service: type LoadBalancer with our class, or (when the
 * controller claims class-less Services, --claim-default-load-balancers) with no class.
 */
export function isOurs(svc: Service, claimClassless: boolean): boolean {
  if (svc.spec?.type !== 'LoadBalancer') return false;
  const cls = svc.spec.loadBalancerClass;
  return cls === loadBalancerClass || (cls === undefined && claimClassless);
}

export interface AddressRequest {
  requested: string[];
  pool: string | undefined;
  sharingKey: string | undefined;
  families: IpFamily[];
}

export interface AnnotationError {
  annotation: string;
  message: string;
}

const dnsSubdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Which addresses the Service asks for; an error names the annotation (or field) at fault. */
export function addressRequest(svc: Service): AddressRequest | AnnotationError {
  const a = svc.metadata.annotations ?? {};
  const families: IpFamily[] = svc.spec?.ipFamilies?.length ? [...svc.spec.ipFamilies] : ['IPv4'];
  const fromAnnotation = a[annotations.loadBalancerIPs];
  const source = fromAnnotation !== undefined ? annotations.loadBalancerIPs : 'spec.loadBalancerIP';
  const text = fromAnnotation ?? svc.spec?.loadBalancerIP ?? '';
  const requested: string[] = [];
  for (const part of text.split(',').map((s) => s.trim()).filter((s) => s !== '')) {
    const c = canonical(part);
    if (!c) return { annotation: source, message: `${JSON.stringify(part)} is not an IPv4 or IPv6 address` };
    const family = toNumber(c)!.family;
    if (requested.some((r) => toNumber(r)!.family === family)) return { annotation: source, message: `more than one ${family} address: a Service gets one address per family` };
    if (!families.includes(family)) return { annotation: source, message: `${c} is ${family}, but the Service's ipFamilies are ${families.join(', ')}` };
    requested.push(c);
  }
  if (fromAnnotation !== undefined && requested.length === 0) return { annotation: source, message: 'empty: list one address per family, comma-separated' };
  const pool = a[annotations.addressPool];
  if (pool !== undefined && (!dnsSubdomain.test(pool) || pool.length > 253)) {
    return { annotation: annotations.addressPool, message: `${JSON.stringify(pool)} is not an AddressPool name` };
  }
  const sharingKey = a[annotations.allowSharedIP];
  if (sharingKey !== undefined && (sharingKey.trim() === '' || sharingKey.length > 253)) {
    return { annotation: annotations.allowSharedIP, message: 'the sharing key must be 1 to 253 characters' };
  }
  return { requested, pool, sharingKey, families };
}

/** The VirtualService fields the annotations set, before the schema checks them. */
export interface ServiceOverrides {
  scheduler?: string;
  persistence?: { timeoutSeconds: number };
  healthCheck?: { type: string; http?: { path: string } };
  forwarding?: { method: string };
}

const healthTypes: Record<string, string> = { tcp: 'TCP', udp: 'UDP', sctp: 'SCTP', http: 'HTTP', https: 'HTTPS', ping: 'Ping', none: 'None' };

/**
 * The annotations' fields, or the first annotation that is not even of the right form (the
 * schema judges the values: an unknown scheduler is refused by the same enum as in a
 * VirtualService).
 */
export function serviceOverrides(svc: Service): ServiceOverrides | AnnotationError {
  const a = svc.metadata.annotations ?? {};
  const o: ServiceOverrides = {};
  const scheduler = a[annotations.scheduler];
  if (scheduler !== undefined) o.scheduler = scheduler.trim();
  const persistence = a[annotations.persistenceTimeout];
  if (persistence !== undefined) {
    if (!/^\s*[0-9]+\s*$/.test(persistence)) {
      return { annotation: annotations.persistenceTimeout, message: `${JSON.stringify(persistence)} is not a number of seconds` };
    }
    const seconds = Number(persistence);
    if (seconds > 0) o.persistence = { timeoutSeconds: seconds };
  }
  const check = a[annotations.healthCheck];
  if (check !== undefined) {
    const colon = check.indexOf(':');
    const kind = (colon < 0 ? check : check.slice(0, colon)).trim().toLowerCase();
    const path = colon < 0 ? undefined : check.slice(colon + 1).trim();
    const type = healthTypes[kind];
    if (!type) return { annotation: annotations.healthCheck, message: `${JSON.stringify(check)}: expected tcp, udp, sctp, ping, none, http[:/path] or https[:/path]` };
    if (path !== undefined && type !== 'HTTP' && type !== 'HTTPS') return { annotation: annotations.healthCheck, message: `${JSON.stringify(check)}: only http and https checks take a path` };
    if (path !== undefined && !path.startsWith('/')) return { annotation: annotations.healthCheck, message: `${JSON.stringify(check)}: the path must start with "/"` };
    o.healthCheck = path !== undefined ? { type, http: { path } } : { type };
  }
  const forwarding = a[annotations.forwarding];
  if (forwarding !== undefined) o.forwarding = { method: forwarding.trim().toUpperCase() };
  return o;
}

/** Which annotation a VirtualService field comes from, to word schema errors for the Service's owner. */
export const annotationOfField: Record<string, string> = {
  scheduler: annotations.scheduler,
  persistence: annotations.persistenceTimeout,
  healthCheck: annotations.healthCheck,
  forwarding: annotations.forwarding,
};
