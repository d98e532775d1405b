import { group as lvsGroup, version as lvsVersion, kinds } from '../api/group.js';

/** What a client needs to know about one API resource to build its URLs. */
export interface Resource {
  /** '' for the core group. */
  group: string;
  version: string;
  plural: string;
  kind: string;
  namespaced: boolean;
}

export function apiVersionOf(r: Resource): string {
  return r.group === '' ? r.version : `${r.group}/${r.version}`;
}

function prefix(r: Resource): string {
  return r.group === '' ? `/api/${r.version}` : `/apis/${r.group}/${r.version}`;
}

/** The collection URL; namespace undefined means all namespaces (or a cluster-scoped kind). */
export function collectionPath(r: Resource, namespace?: string): string {
  if (r.namespaced && namespace !== undefined) return `${prefix(r)}/namespaces/${encodeURIComponent(namespace)}/${r.plural}`;
  return `${prefix(r)}/${r.plural}`;
}

export function objectPath(r: Resource, name: string, namespace?: string): string {
  if (r.namespaced && namespace === undefined) throw new Error(`${r.kind} ${name}: namespace required`);
  return `${collectionPath(r, namespace)}/${encodeURIComponent(name)}`;
}

function lvs(k: keyof typeof kinds): Resource {
  const d = kinds[k];
  return { group: lvsGroup, version: lvsVersion, plural: d.plural, kind: d.kind, namespaced: d.scope === 'Namespaced' };
}

export const resources = {
  directorGroups: lvs('DirectorGroup'),
  virtualServices: lvs('VirtualService'),
  realServers: lvs('RealServer'),
  addressPools: lvs('AddressPool'),
  nodes: { group: '', version: 'v1', plural: 'nodes', kind: 'Node', namespaced: false },
  services: { group: '', version: 'v1', plural: 'services', kind: 'Service', namespaced: true },
  secrets: { group: '', version: 'v1', plural: 'secrets', kind: 'Secret', namespaced: true },
  namespaces: { group: '', version: 'v1', plural: 'namespaces', kind: 'Namespace', namespaced: false },
  endpointSlices: { group: 'discovery.k8s.io', version: 'v1', plural: 'endpointslices', kind: 'EndpointSlice', namespaced: true },
  leases: { group: 'coordination.k8s.io', version: 'v1', plural: 'leases', kind: 'Lease', namespaced: true },
  events: { group: 'events.k8s.io', version: 'v1', plural: 'events', kind: 'Event', namespaced: true },
} as const satisfies Record<string, Resource>;
