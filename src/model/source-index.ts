import type { RealServer } from '../api/index.js';
import { type EndpointSlice, type Node, type Service, serviceNameLabel } from '../kube/types.js';
import type { BackendSources } from './backends.js';
import { addTo, removeFrom } from './multimap.js';
import type { Snapshot } from './types.js';

class NamespaceSources implements BackendSources {
  constructor(readonly nodes: ReadonlyMap<string, Node> = new Map()) {}
  readonly realServers = new Map<string, RealServer>();
  readonly realServersByLabel = new Map<string, Set<RealServer>>();
  readonly services = new Map<string, Service>();
  readonly slicesByService = new Map<string, Set<EndpointSlice>>();
}

const none: BackendSources = new NamespaceSources();

/**
 * The objects backends come from, by namespace. Built whole for a full resolve, or kept and
 * updated object by object (add the new version, remove the old one) by the incremental
 * resolver, so a change costs the labels of one object instead of re-indexing the cluster.
 * Keys (namespace/name) are unique per kind, as in informer caches.
 */
export class SourceIndex {
  private readonly namespaces = new Map<string, NamespaceSources>();
  /** Nodes by name, cluster-wide (shared by every namespace's sources). */
  private readonly nodes = new Map<string, Node>();
  private nodeList: readonly Node[] = [];

  static of(s: Snapshot): SourceIndex {
    const index = new SourceIndex();
    index.setNodes(s.nodes);
    for (const rs of s.realServers) index.addRealServer(rs);
    for (const svc of s.services) index.addService(svc);
    for (const slice of s.endpointSlices) index.addSlice(slice);
    return index;
  }

  /** What backends in `namespace` can come from; callers must not change it. */
  sources(namespace: string): BackendSources {
    return this.namespaces.get(namespace) ?? none;
  }

  /** The cluster's nodes (target Nodes backends need their addresses); cheap when the list is the same. */
  setNodes(nodes: readonly Node[]): void {
    if (nodes === this.nodeList) return;
    this.nodeList = nodes;
    this.nodes.clear();
    for (const n of nodes) this.nodes.set(n.metadata.name ?? '', n);
  }

  realServer(namespace: string, name: string): RealServer | undefined {
    return this.namespaces.get(namespace)?.realServers.get(name);
  }

  addRealServer(rs: RealServer): void {
    const ns = this.at(rs.metadata.namespace);
    ns.realServers.set(rs.metadata.name ?? '', rs);
    for (const [k, v] of Object.entries(rs.metadata.labels ?? {})) addTo(ns.realServersByLabel, `${k}=${v}`, rs);
  }

  removeRealServer(rs: RealServer): void {
    const ns = this.namespaces.get(rs.metadata.namespace ?? '');
    if (!ns) return;
    const name = rs.metadata.name ?? '';
    if (ns.realServers.get(name) === rs) ns.realServers.delete(name);
    for (const [k, v] of Object.entries(rs.metadata.labels ?? {})) removeFrom(ns.realServersByLabel, `${k}=${v}`, rs);
  }

  addService(svc: Service): void {
    this.at(svc.metadata.namespace).services.set(svc.metadata.name ?? '', svc);
  }

  removeService(svc: Service): void {
    const services = this.namespaces.get(svc.metadata.namespace ?? '')?.services;
    const name = svc.metadata.name ?? '';
    if (services?.get(name) === svc) services.delete(name);
  }

  /** Slices without the service-name label belong to no Service and are left out. */
  addSlice(slice: EndpointSlice): void {
    const svc = slice.metadata.labels?.[serviceNameLabel];
    if (svc) addTo(this.at(slice.metadata.namespace).slicesByService, svc, slice);
  }

  removeSlice(slice: EndpointSlice): void {
    const svc = slice.metadata.labels?.[serviceNameLabel];
    const ns = this.namespaces.get(slice.metadata.namespace ?? '');
    if (svc && ns) removeFrom(ns.slicesByService, svc, slice);
  }

  private at(namespace: string | undefined): NamespaceSources {
    const key = namespace ?? '';
    let ns = this.namespaces.get(key);
    if (!ns) {
      ns = new NamespaceSources(this.nodes);
      this.namespaces.set(key, ns);
    }
    return ns;
  }
}
