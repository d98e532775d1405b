import type { AddressPool, DirectorGroup, RealServer, VirtualService } from '../api/index.js';
import type { Fence } from './fence.js';
import { KubeApiError, type KubeHttp, type RequestOptions, isGone, isNotFound } from './http.js';
import { type Resource, apiVersionOf, collectionPath, objectPath, resources } from './resources.js';
import type { EndpointSlice, Event, KubeObject, Lease, ListResult, Namespace, Node, SecretMeta, Service } from './types.js';

export interface ListOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
}

export interface PageOptions {
  /** Objects per page (`limit`); the server may send fewer, or all at once from its watch cache. */
  limit?: number;
  /** The previous page's `metadata.continue`. */
  continue?: string;
  /** "0": any version, served from the API server's watch cache; omitted: the latest (a consistent read). */
  resourceVersion?: string;
}

/** client-go's pager default: 500 objects a page. */
export const defaultPageSize = 500;

export interface ApplyOptions {
  fieldManager: string;
  /** Take over fields another manager set; right for fields only this program may own. */
  force?: boolean;
}

const applyPatch = 'application/apply-patch+yaml';
const mergePatch = 'application/merge-patch+json';
/** Ask for metadata only: the object body (Secret data) never reaches this process. */
export const metadataOnlyAccept = 'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json';
const metadataOnlyObjectAccept = 'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json';

/** The body of an apply: whatever subset of the object this manager owns, plus identity. */
export type ApplyBody = { metadata: { name: string; namespace?: string } & Record<string, unknown> } & Record<string, unknown>;

/** Typed CRUD and server-side apply for one resource. */
export class ResourceClient<T extends KubeObject> {
  constructor(
    readonly http: KubeHttp,
    readonly resource: Resource,
    private readonly accept?: { list: string; object: string } | undefined,
    /** Every request of this client is fenced (reads too: a leader's view must be current). */
    readonly fence?: Fence,
  ) {}

  /** The same client with its requests behind `fence`. */
  fenced(fence: Fence): ResourceClient<T> {
    return new ResourceClient<T>(this.http, this.resource, this.accept, fence);
  }

  private send<R>(method: string, path: string, o: RequestOptions = {}): Promise<R> {
    return this.http.request<R>(method, path, this.fence ? { ...o, fence: this.fence } : o);
  }

  get apiVersion(): string {
    return apiVersionOf(this.resource);
  }

  /** One page of the collection; `continue` is set when there are more. */
  async listPage(o: ListOptions & PageOptions = {}): Promise<ListResult<T> & { continue?: string }> {
    const body = await this.send<{ items?: T[] | null; metadata?: { resourceVersion?: string; continue?: string } }>(
      'GET',
      collectionPath(this.resource, o.namespace),
      {
        query: {
          labelSelector: o.labelSelector,
          fieldSelector: o.fieldSelector,
          limit: o.limit,
          // A continue token carries its own version; the API refuses both.
          ...(o.continue ? { continue: o.continue } : { resourceVersion: o.resourceVersion }),
        },
        ...(this.accept ? { accept: this.accept.list } : {}),
      },
    );
    const next = body.metadata?.continue;
    return { items: body.items ?? [], resourceVersion: body.metadata?.resourceVersion ?? '', ...(next ? { continue: next } : {}) };
  }

  /**
   * The whole collection, a page at a time (as client-go's pager): a large list neither sits in
   * the API server's memory at once nor times out. A continue token that expired mid-way (410)
   * restarts as one unpaged list, as client-go does. `pages` counts the requests.
   */
  async list(o: ListOptions & Omit<PageOptions, 'continue'> & { each?: (item: T) => T } = {}): Promise<ListResult<T> & { pages: number }> {
    const limit = o.limit ?? defaultPageSize;
    const items: T[] = [];
    // `each` runs on a page as it arrives: what it drops (managedFields, statuses nobody reads)
    // is held for one page, not for the whole collection until the last page is in.
    const take = (page: T[]): T[] => (o.each ? page.map(o.each) : page);
    let page = await this.listPage({ ...o, limit });
    let pages = 1;
    items.push(...take(page.items));
    while (page.continue) {
      try {
        page = await this.listPage({ ...o, limit, continue: page.continue });
      } catch (err) {
        if (!isGone(err)) throw err;
        const whole = await this.listPage({ ...o, limit: undefined, resourceVersion: undefined });
        return { items: take(whole.items), resourceVersion: whole.resourceVersion, pages: pages + 2 };
      }
      pages++;
      items.push(...take(page.items));
    }
    return { items, resourceVersion: page.resourceVersion, pages };
  }

  /** The object, or undefined when it does not exist. */
  async get(name: string, namespace?: string): Promise<T | undefined> {
    try {
      return await this.send<T>('GET', objectPath(this.resource, name, namespace), {
        ...(this.accept ? { accept: this.accept.object } : {}),
      });
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  create(obj: T, fieldManager?: string): Promise<T> {
    const body = { apiVersion: this.apiVersion, kind: this.resource.kind, ...obj };
    return this.send<T>('POST', collectionPath(this.resource, obj.metadata.namespace), {
      body,
      query: { fieldManager },
    });
  }

  /** PUT with the object's resourceVersion: fails with 409 Conflict when someone wrote in between. */
  replace(obj: T, fieldManager?: string): Promise<T> {
    const name = requireName(obj);
    const body = { apiVersion: this.apiVersion, kind: this.resource.kind, ...obj };
    return this.send<T>('PUT', objectPath(this.resource, name, obj.metadata.namespace), {
      body,
      query: { fieldManager },
    });
  }

  mergePatch(name: string, namespace: string | undefined, patch: unknown, fieldManager?: string): Promise<T> {
    return this.send<T>('PATCH', objectPath(this.resource, name, namespace), {
      body: patch,
      contentType: mergePatch,
      query: { fieldManager },
    });
  }

  /** Server-side apply of the main resource. */
  apply(body: ApplyBody, o: ApplyOptions): Promise<T> {
    return this.serverSideApply('', body, o);
  }

  /**
   * Server-side apply on the `/status` subresource: the manager ends up owning exactly the
   * fields in `body.status`; fields it owned before and left out are removed, fields other
   * managers own (an agent's `directors[]` entry) are untouched.
   */
  applyStatus(body: ApplyBody, o: ApplyOptions): Promise<T> {
    return this.serverSideApply('/status', body, o);
  }

  private serverSideApply(sub: string, body: ApplyBody, o: ApplyOptions): Promise<T> {
    const full = { apiVersion: this.apiVersion, kind: this.resource.kind, ...body };
    return this.send<T>('PATCH', objectPath(this.resource, body.metadata.name, body.metadata.namespace) + sub, {
      body: full,
      contentType: applyPatch,
      query: { fieldManager: o.fieldManager, force: o.force ? true : undefined },
    });
  }

  /** Deletes; true when something was deleted, false when it was already gone. */
  async delete(name: string, namespace?: string): Promise<boolean> {
    try {
      await this.send('DELETE', objectPath(this.resource, name, namespace));
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  }
}

function requireName(obj: KubeObject): string {
  const name = obj.metadata.name;
  if (!name) throw new KubeApiError(400, 'Invalid', 'object has no metadata.name', undefined);
  return name;
}

/** Every client the operator uses, typed by kind. */
export interface KubeClients {
  http: KubeHttp;
  directorGroups: ResourceClient<DirectorGroup>;
  virtualServices: ResourceClient<VirtualService>;
  realServers: ResourceClient<RealServer>;
  addressPools: ResourceClient<AddressPool>;
  nodes: ResourceClient<Node>;
  namespaces: ResourceClient<Namespace>;
  services: ResourceClient<Service>;
  endpointSlices: ResourceClient<EndpointSlice>;
  /** Metadata only. */
  secrets: ResourceClient<SecretMeta>;
  leases: ResourceClient<Lease>;
  events: ResourceClient<Event>;
}

export function makeClients(http: KubeHttp): KubeClients {
  return {
    http,
    directorGroups: new ResourceClient<DirectorGroup>(http, resources.directorGroups),
    virtualServices: new ResourceClient<VirtualService>(http, resources.virtualServices),
    realServers: new ResourceClient<RealServer>(http, resources.realServers),
    addressPools: new ResourceClient<AddressPool>(http, resources.addressPools),
    nodes: new ResourceClient<Node>(http, resources.nodes),
    namespaces: new ResourceClient<Namespace>(http, resources.namespaces),
    services: new ResourceClient<Service>(http, resources.services),
    endpointSlices: new ResourceClient<EndpointSlice>(http, resources.endpointSlices),
    secrets: new ResourceClient<SecretMeta>(http, resources.secrets, { list: metadataOnlyAccept, object: metadataOnlyObjectAccept }),
    leases: new ResourceClient<Lease>(http, resources.leases),
    events: new ResourceClient<Event>(http, resources.events),
  };
}
