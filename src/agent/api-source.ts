// The agent's normal source: informers on the API server. The store keeps the last full picture
// when the API server goes away, so the agent keeps reconciling from it (the data plane never
// depends on the control plane) and catches up when watches resume.
import type { Logger } from 'pino';
import type { DirectorView } from '../api/index.js';
import { clusterInformers, Informer, resourceListWatcher, type ClusterInformers, type KubeClients, type ResourceClient } from '../kube/index.js';
import type { KubeObject } from '../kube/types.js';
import { ParsedKinds } from '../model/index.js';
import type { Snapshot } from '../model/types.js';
import type { SnapshotSource } from './source.js';

/**
 * The part of an object the agent's desired state depends on. Status writes (the controller's,
 * other agents'), Node heartbeats and managedFields churn change none of it, so they cause no
 * pass. Specs are covered by metadata.generation; DirectorGroup status carries the VRIDs.
 */
function relevance(informer: string, o: KubeObject): string {
  const m = o.metadata;
  const extra = informer === 'directorGroups' ? (o as { status?: { vrids?: unknown } }).status?.vrids
    : informer === 'endpointSlices' ? [(o as { endpoints?: unknown }).endpoints, (o as { ports?: unknown }).ports]
    : informer === 'services' ? (o as { spec?: unknown }).spec
    : informer === 'nodes' ? [m.annotations?.['lvs.dev/vrrp-priority'], m.annotations?.['lvs.dev/vrrp-unicast-src-ip']]
    : undefined;
  return JSON.stringify([m.generation, m.labels, m.deletionTimestamp, extra]);
}

/**
 * What the agent holds of each object's status: nothing of a RealServer's, and of a
 * VirtualService's only this node's entry (a restarted agent compares its report with it). The
 * model reads neither; at 10,000 x 10 the other writers' fields were much of the agent's memory.
 * Without a node (tests), everything is kept.
 */
export function storedStatus(node: string | undefined): Record<string, ((o: KubeObject) => KubeObject) | undefined> {
  if (node === undefined) return {};
  const without = (o: KubeObject & { status?: unknown }): KubeObject => {
    if (o.status === undefined) return o;
    const { status: _, ...rest } = o;
    return rest;
  };
  return {
    realservers: without,
    virtualservices: (o) => {
      const own = (o as { status?: { directors?: DirectorView[] } }).status?.directors?.find((d) => d.node === node);
      return own ? { ...without(o), status: { directors: [own] } } as KubeObject : without(o);
    },
  };
}

export class ApiSource implements SnapshotSource {
  private readonly informers: ClusterInformers;

  constructor(clients: KubeClients, log: Logger, opts: { backoffMaxMs?: number; node?: string } = {}) {
    const keep = storedStatus(opts.node);
    const make = <T extends KubeObject>(name: string, client: ResourceClient<T>): Informer<T> => {
      const transform = keep[name] as ((o: T) => T) | undefined;
      return new Informer<T>(name, resourceListWatcher(client), { log: log.child({ informer: name }), ...(opts.backoffMaxMs ? { backoffMaxMs: opts.backoffMaxMs } : {}), ...(transform ? { transform } : {}) });
    };
    this.informers = clusterInformers(clients, make);
    // Count the changes the desired state depends on, so snapshot() can hand out the same
    // snapshot (and resolve() its cached model) until one happens.
    this.onChange(() => { this.version++; });
    // Parsed as they arrive (a status write keeps the parse), so a snapshot after one change
    // parses one object. Registered before any pass can ask for a snapshot.
    this.informers.directorGroups.on((ev) => this.parsed.directorGroups.apply(ev));
    this.informers.virtualServices.on((ev) => this.parsed.virtualServices.apply(ev));
    this.informers.realServers.on((ev) => this.parsed.realServers.apply(ev));
  }

  private readonly parsed = new ParsedKinds();

  private version = 0;
  private cached: { version: number; snapshot: Snapshot } | undefined;

  private all(): Informer<KubeObject>[] {
    return Object.values(this.informers) as Informer<KubeObject>[];
  }

  start(): void {
    for (const i of this.all()) i.start();
  }

  /** Resolves when every informer has listed once (or `signal` aborts). */
  async waitForSync(signal?: AbortSignal): Promise<void> {
    await Promise.all(this.all().map((i) => i.waitForSync(signal)));
  }

  get synced(): boolean {
    return this.all().every((i) => i.hasSynced);
  }

  snapshot(): Snapshot {
    if (this.cached?.version === this.version) return this.cached.snapshot;
    const i = this.informers;
    const snapshot: Snapshot = { ...this.parsed.lists(), services: i.services.list(), endpointSlices: i.endpointSlices.list(), nodes: i.nodes.list(), secrets: undefined, unsupportedSchedulers: undefined };
    this.cached = { version: this.version, snapshot };
    return snapshot;
  }

  onChange(listener: () => void): () => void {
    const offs = (Object.entries(this.informers) as [string, Informer<KubeObject>][]).map(([kind, i]) => i.on((ev) => {
      if (ev.type === 'resync') return;
      if (ev.type === 'updated' && relevance(kind, ev.old) === relevance(kind, ev.obj)) return;
      listener();
    }));
    return () => offs.forEach((off) => off());
  }

  /**
   * The entry `node` wrote into a VirtualService's status.directors[], as the API server holds it:
   * a restarted agent compares with it and writes only what differs.
   */
  storedDirectorEntry(key: string, node: string): DirectorView | undefined {
    return this.informers.virtualServices.get(key)?.status?.directors?.find((d) => d.node === node);
  }

  async stop(): Promise<void> {
    await Promise.all(this.all().map((i) => i.stop()));
  }
}
