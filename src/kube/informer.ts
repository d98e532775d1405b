import type { Logger } from 'pino';
import { logger } from '../util/log.js';
import type { ResourceClient } from './client.js';
import { KubeApiError, type WatchEvent, isGone } from './http.js';
import { collectionPath } from './resources.js';
import type { KubeObject, ListResult } from './types.js';
import { abortableSleep } from '../util/sleep.js';

/**
 * A reflector plus store, like client-go's shared informer but small: list, then watch
 * from the list's resourceVersion; a watch the server ends is resumed from the last seen
 * version; "410 Gone" (the version was compacted) relists; any other failure backs off
 * exponentially and resumes. The store always holds the last full picture, so consumers
 * read it (level-based) and treat events only as "something changed".
 */

/** Where an informer gets its objects from; a fake implements it in unit tests. */
export interface ListWatcher<T> {
  /**
   * The whole collection. `latest`: a consistent read, needed after a 410 (the version we had is
   * gone); otherwise any recent version will do, which the API server serves from its watch cache
   * (resourceVersion=0, as client-go's first list), so 100 agents starting at once cost etcd nothing.
   * `shape`: may be applied to the items as they arrive (then `shaped` is true); else the informer
   * applies it.
   */
  list(latest: boolean, shape?: (obj: T) => T): Promise<ListResult<T> & { shaped?: boolean }>;
  /** Streams events after `resourceVersion` until the server ends the stream or `signal` aborts. */
  watch(resourceVersion: string, onEvent: (ev: WatchEvent<T>) => void, signal: AbortSignal): Promise<void>;
}

export interface ResourceListWatchOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** Server-side watch duration; randomised per watch like client-go (default 300-600 s). */
  watchTimeoutSeconds?: () => number;
}

export function resourceListWatcher<T extends KubeObject>(client: ResourceClient<T>, o: ResourceListWatchOptions = {}): ListWatcher<T> {
  const timeout = o.watchTimeoutSeconds ?? (() => 300 + Math.floor(Math.random() * 300));
  const accept = client.resource.kind === 'Secret' ? metadataOnlyWatchAccept : undefined;
  return {
    // `shape` (the informer's lean and transform) runs on each page as it arrives.
    list: async (latest, shape) => ({ ...(await client.list({ ...(latest ? o : { ...o, resourceVersion: '0' }), ...(shape ? { each: shape } : {}) })), shaped: shape !== undefined }),
    watch: (resourceVersion, onEvent, signal) => {
      const seconds = timeout();
      return client.http.watch<T>(
        collectionPath(client.resource, o.namespace),
        onEvent,
        {
          query: {
            resourceVersion,
            allowWatchBookmarks: true,
            timeoutSeconds: seconds,
            labelSelector: o.labelSelector,
            fieldSelector: o.fieldSelector,
          },
          ...(accept ? { accept } : {}),
          // The server closes after `seconds`; anything much longer is a dead connection.
          idleTimeoutMs: (seconds + 30) * 1000,
          signal,
        },
      );
    },
  };
}

const metadataOnlyWatchAccept = 'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json';

export type InformerEvent<T> =
  | { type: 'added'; obj: T }
  | { type: 'updated'; obj: T; old: T }
  | { type: 'deleted'; obj: T }
  /** Periodic: nothing changed, but consumers may want to re-check everything. */
  | { type: 'resync' };

export interface InformerOptions<T = never> {
  /** Emit a `resync` event this often (0 = never). */
  resyncMs?: number;
  backoffInitialMs?: number;
  backoffMaxMs?: number;
  /**
   * Applied to every object as it arrives (after `lean`), before it is stored or handed out:
   * what the consumer never reads need not be held (client-go's SetTransform). Keep metadata.
   */
  transform?: (obj: T) => T;
  /** Injectable for tests. */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  log?: Logger;
}

export function keyOf(obj: KubeObject): string {
  const { namespace, name } = obj.metadata;
  return namespace ? `${namespace}/${name ?? ''}` : (name ?? '');
}


export class Informer<T extends KubeObject> {
  private readonly store = new Map<string, T>();
  private readonly handlers = new Set<(ev: InformerEvent<T>) => void>();
  private abort = new AbortController();
  private loop: Promise<void> | undefined;
  private resyncTimer: NodeJS.Timeout | undefined;
  private synced = false;
  private syncWaiters: (() => void)[] = [];
  private rv = '';
  private readonly log: Logger;
  /** Counters, for metrics and tests. */
  readonly stats = { lists: 0, watches: 0, failures: 0, relistsOnGone: 0 };

  constructor(
    readonly name: string,
    private readonly lw: ListWatcher<T>,
    private readonly o: InformerOptions<T> = {},
  ) {
    this.log = o.log ?? logger('informer').child({ informer: name });
  }

  /** Subscribe; returns the unsubscribe function. Handlers run synchronously, so keep them cheap. */
  on(handler: (ev: InformerEvent<T>) => void): () => void {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }

  get hasSynced(): boolean {
    return this.synced;
  }

  get resourceVersion(): string {
    return this.rv;
  }

  get(key: string): T | undefined {
    return this.store.get(key);
  }

  getByName(name: string, namespace?: string): T | undefined {
    return this.store.get(namespace ? `${namespace}/${name}` : name);
  }

  list(): T[] {
    return [...this.store.values()];
  }

  start(): void {
    if (this.loop) return;
    this.abort = new AbortController();
    this.loop = this.run(this.abort.signal);
    const resync = this.o.resyncMs ?? 0;
    if (resync > 0) {
      this.resyncTimer = setInterval(() => {
        if (this.synced) this.emit({ type: 'resync' });
      }, resync);
      this.resyncTimer.unref();
    }
  }

  /** Resolves after the first successful list. */
  waitForSync(signal?: AbortSignal): Promise<void> {
    if (this.synced) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.syncWaiters.push(resolve);
      signal?.addEventListener('abort', () => reject(new Error(`informer ${this.name}: sync aborted`)));
    });
  }

  async stop(): Promise<void> {
    this.abort.abort();
    if (this.resyncTimer) clearInterval(this.resyncTimer);
    this.resyncTimer = undefined;
    const loop = this.loop;
    this.loop = undefined;
    await loop;
  }

  private emit(ev: InformerEvent<T>): void {
    for (const h of [...this.handlers]) {
      try {
        h(ev);
      } catch (err) {
        this.log.error({ err }, 'informer handler failed');
      }
    }
  }

  private async run(signal: AbortSignal): Promise<void> {
    const sleep = this.o.sleep ?? abortableSleep;
    const initial = this.o.backoffInitialMs ?? 500;
    const max = this.o.backoffMaxMs ?? 30_000;
    let failures = 0;
    // After a 410 the watch cache may be as old as what expired: read the latest instead.
    let latest = false;
    while (!signal.aborted) {
      try {
        if (this.rv === '') {
          this.stats.lists++;
          const l = await this.lw.list(latest, (obj) => this.shape(obj));
          if (signal.aborted) break;
          this.replace(l.items, l.shaped === true);
          this.rv = l.resourceVersion;
          this.markSynced();
        }
        this.stats.watches++;
        await this.lw.watch(this.rv, (ev) => this.handle(ev), signal);
        failures = 0; // the server ended a healthy stream: resume at once
      } catch (err) {
        if (signal.aborted) break;
        if (isGone(err)) {
          this.stats.relistsOnGone++;
          this.log.info({ resourceVersion: this.rv }, 'watch expired (410 Gone), relisting');
          this.rv = '';
          latest = true;
          continue;
        }
        failures++;
        this.stats.failures++;
        const delay = Math.min(max, initial * 2 ** (failures - 1)) * (0.8 + Math.random() * 0.4);
        this.log.warn({ err, failures, delayMs: Math.round(delay) }, 'list/watch failed, retrying');
        await sleep(delay, signal);
      }
    }
  }

  private markSynced(): void {
    if (this.synced) return;
    this.synced = true;
    for (const w of this.syncWaiters.splice(0)) w();
  }

  /** A fresh list: emit the difference to what the store held, then hold the list. */
  /** `shaped`: the list watcher applied shape() already, a page at a time. */
  private replace(items: T[], shaped: boolean): void {
    const next = new Map(items.map((i) => [keyOf(i), shaped ? i : this.shape(i)] as const));
    for (const [k, old] of this.store) {
      if (!next.has(k)) {
        this.store.delete(k);
        this.emit({ type: 'deleted', obj: old });
      }
    }
    for (const [k, obj] of next) {
      const old = this.store.get(k);
      // An unchanged object keeps its identity: caches keyed on it (parsing, the model) stay valid.
      if (old && old.metadata.resourceVersion === obj.metadata.resourceVersion) continue;
      this.store.set(k, obj);
      if (!old) this.emit({ type: 'added', obj });
      else this.emit({ type: 'updated', obj, old });
    }
  }

  private shape(obj: T): T {
    const o = lean(obj);
    return this.o.transform ? this.o.transform(o) : o;
  }

  private handle(ev: WatchEvent<T>): void {
    if (ev.type === 'ERROR') {
      const status = ev.object as { code?: number; reason?: string; message?: string };
      throw new KubeApiError(status.code ?? 500, status.reason ?? 'Unknown', status.message ?? 'watch error', status);
    }
    const obj = ev.type === 'BOOKMARK' || ev.type === 'DELETED' ? lean(ev.object) : this.shape(ev.object);
    const rv = obj.metadata?.resourceVersion;
    if (ev.type !== 'BOOKMARK') {
      const k = keyOf(obj);
      const old = this.store.get(k);
      if (ev.type === 'DELETED') {
        this.store.delete(k);
        if (old) this.emit({ type: 'deleted', obj });
      } else {
        this.store.set(k, obj);
        if (!old) this.emit({ type: 'added', obj });
        else this.emit({ type: 'updated', obj, old });
      }
    }
    if (rv) this.rv = rv;
  }
}

/**
 * Drops metadata.managedFields, which nothing here reads and which is often the larger part of
 * an object (client-go informers are commonly given the same transform): less memory and less
 * garbage-collection work with tens of thousands of cached objects.
 */
export function lean<T extends KubeObject>(obj: T): T {
  // A copy without it, not `delete`: V8 turns an object that loses a property into a slow
  // dictionary, here about five times the size (450 bytes a metadata object instead of 90).
  if (obj.metadata && 'managedFields' in obj.metadata) {
    const { managedFields: _, ...metadata } = obj.metadata as KubeObject['metadata'] & { managedFields?: unknown };
    obj.metadata = metadata;
  }
  const o = obj as KubeObject & { apiVersion?: unknown; kind?: unknown; status?: { conditions?: unknown } };
  if (typeof o.apiVersion === 'string') o.apiVersion = intern(o.apiVersion);
  if (typeof o.kind === 'string') o.kind = intern(o.kind);
  const conditions = o.status?.conditions;
  if (Array.isArray(conditions)) {
    for (const c of conditions as Record<string, unknown>[]) {
      if (typeof c !== 'object' || c === null) continue;
      for (const f of conditionStrings) {
        const v = c[f];
        if (typeof v === 'string') c[f] = intern(v);
      }
    }
  }
  return obj;
}

/**
 * JSON.parse makes a new string of every value, so 100,000 objects carried 100,000 copies of
 * "lvs.dev/v1alpha1" and of each condition's type, status, reason, common messages and
 * transition times (one per second). Their strings are shared through a bounded table instead,
 * cleared when full (an uncommon string then costs what it did before).
 */
const conditionStrings = ['type', 'status', 'reason', 'message', 'lastTransitionTime'] as const;
const interned = new Map<string, string>();
const maxInterned = 50_000;

function intern(s: string): string {
  const known = interned.get(s);
  if (known !== undefined) return known;
  if (s.length > 256) return s;
  if (interned.size >= maxInterned) interned.clear();
  interned.set(s, s);
  return s;
}
