import { parseDirectorGroup, parseRealServer, parseVirtualService } from '../api/index.js';
import type { ParseResult } from '../api/index.js';
import type { EndpointSlice, KubeObject, Node, Service } from '../kube/types.js';
import type { InvalidObject, Snapshot } from './types.js';

/** What informer caches hold: objects as the API server sent them. */
export interface RawSnapshot {
  directorGroups: readonly unknown[];
  virtualServices: readonly unknown[];
  realServers: readonly unknown[];
  services: readonly Service[];
  endpointSlices: readonly EndpointSlice[];
  nodes: readonly Node[];
  secrets?: ReadonlySet<string> | undefined;
  unsupportedSchedulers?: readonly string[] | undefined;
}

/**
 * Parse results by object identity: informer stores replace an object when it changes, so an
 * object seen before parses the same. Spares re-validating thousands of unchanged objects on
 * every pass.
 */
const parsed = new WeakMap<object, ParseResult<unknown>>();

/**
 * The last good parse of each VirtualService and RealServer by key, for objects whose `status`
 * alone changed (most updates at scale: the controller's and the agents' status writes). The
 * model reads no status of these kinds, so they are parsed without it (the parsed copy holds no
 * conditions) and a new object of the same uid, generation (a spec change bumps it), labels and
 * annotations keeps the previous parse: the same object, so the resolver sees no change.
 */
const lastParse = { VirtualService: new Map<string, ParseResult<unknown>>(), RealServer: new Map<string, ParseResult<unknown>>() };

/**
 * The last good parse of each DirectorGroup with the `status.vrids` it was made from. The model
 * reads nothing else of a group's status, so a status write that leaves the VRIDs as they were
 * (the controller's conditions and counts, many a minute while services come up) keeps the
 * previous parse: otherwise the group is new to the resolver, which then resolves every service
 * of it again (750 ms of a single change in the lab at 1,000 services).
 */
const lastGroupParse = new Map<string, { result: ParseResult<unknown>; vrids: string }>();

function sameStrings(a: unknown, b: Readonly<Record<string, string>> | undefined): boolean {
  const x = (a ?? {}) as Record<string, unknown>;
  const y = b ?? {};
  let n = 0;
  for (const k in x) {
    if (x[k] !== y[k]) return false;
    n++;
  }
  return n === Object.keys(y).length;
}

const parsers: Record<InvalidObject['kind'], (o: unknown) => ParseResult<unknown>> = { DirectorGroup: parseDirectorGroup, VirtualService: parseVirtualService, RealServer: parseRealServer };

/** One object's parse, reusing what is known of it (the same object, or its spec unchanged). */
export function parseObject(kind: InvalidObject['kind'], item: unknown): ParseResult<unknown> {
  const cached = typeof item === 'object' && item !== null ? parsed.get(item) : undefined;
  if (cached) return cached;
  const parse = parsers[kind];
  const r = kind === 'DirectorGroup' ? parseGroupKeepingVrids(item, parse) : parseWithoutStatus(item, parse, lastParse[kind]);
  if (typeof item === 'object' && item !== null) parsed.set(item, r);
  return r;
}

/** How an object that failed to parse is reported. */
export function invalidObject(kind: InvalidObject['kind'], item: unknown, error: string): InvalidObject {
  const meta = (item as Partial<KubeObject> | null)?.metadata ?? {};
  return { kind, namespace: meta.namespace, name: meta.name ?? '', generation: meta.generation, error };
}

/** An object being deleted is no longer desired. */
export const isDeleting = (item: unknown): boolean => Boolean((item as Partial<KubeObject> | null)?.metadata?.deletionTimestamp);

/** The parse of a VirtualService or RealServer deleted since can be forgotten. */
export function forgetParse(kind: InvalidObject['kind'], key: string): void {
  if (kind !== 'DirectorGroup') lastParse[kind].delete(key);
}

function parseAll<T>(kind: InvalidObject['kind'], items: readonly unknown[], invalid: InvalidObject[]): T[] {
  const out: T[] = [];
  for (const item of items) {
    const r = parseObject(kind, item);
    if (r.ok) out.push(r.value as T);
    else invalid.push(invalidObject(kind, item, r.error));
  }
  // Objects deleted since: forget them once they are as many as the live ones.
  const reuse = kind === 'DirectorGroup' ? undefined : lastParse[kind];
  if (reuse && reuse.size > 2 * items.length + 64) {
    const live = new Set(items.map((o) => objectKey((o as Partial<KubeObject> | null)?.metadata)));
    for (const k of reuse.keys()) if (!live.has(k)) reuse.delete(k);
  }
  return out;
}

function objectKey(meta: Partial<KubeObject['metadata']> | undefined): string {
  return `${meta?.namespace ?? ''}/${meta?.name ?? ''}`;
}

/** Whether `b` is `a` with at most its status (and resourceVersion, managedFields) changed. */
function sameSpec(a: Partial<KubeObject['metadata']> & { annotations?: unknown } | undefined, b: Partial<KubeObject['metadata']> & { annotations?: unknown } | undefined): boolean {
  return typeof a?.uid === 'string' && typeof a.generation === 'number' && a.uid === b?.uid && a.generation === b.generation
    && sameStrings(a.labels, b.labels as Record<string, string> | undefined) && sameStrings(a.annotations, b.annotations as Record<string, string> | undefined);
}

/**
 * A VirtualService or RealServer replaced by a status write keeps its parse, handed over as the
 * watch event arrives (O(1) each): the next pass after a wave of status writes finds every object
 * parsed instead of checking them all (189 ms of a single change's 360 in the lab at 1,000 x 10).
 */
export function carryParse(old: unknown, obj: unknown): void {
  if (typeof old !== 'object' || old === null || typeof obj !== 'object' || obj === null) return;
  const cached = parsed.get(old);
  if (!cached?.ok || parsed.has(obj)) return;
  if (!sameSpec((obj as Partial<KubeObject>).metadata, (old as Partial<KubeObject>).metadata)) return;
  parsed.set(obj, cached);
}

function parseGroupKeepingVrids<T>(item: unknown, parse: (o: unknown) => ParseResult<T>): ParseResult<T> {
  const o = item as { metadata?: Partial<KubeObject['metadata']> & { annotations?: unknown }; status?: { vrids?: unknown } } | null;
  const meta = o?.metadata;
  if (typeof meta?.uid !== 'string' || typeof meta.generation !== 'number') return parse(item);
  const key = objectKey(meta);
  const vrids = JSON.stringify(o?.status?.vrids ?? null);
  const last = lastGroupParse.get(key);
  if (last?.result.ok && last.vrids === vrids && sameSpec(meta, (last.result.value as { metadata: KubeObject['metadata'] }).metadata)) return last.result as ParseResult<T>;
  const result = parse(item);
  if (result.ok) lastGroupParse.set(key, { result, vrids });
  else lastGroupParse.delete(key);
  if (lastGroupParse.size > 1024) lastGroupParse.clear(); // groups are few; a bound against churn
  return result;
}

function parseWithoutStatus<T>(item: unknown, parse: (o: unknown) => ParseResult<T>, reuse: Map<string, ParseResult<unknown>>): ParseResult<T> {
  if (typeof item !== 'object' || item === null) return parse(item);
  const meta = (item as { metadata?: Partial<KubeObject['metadata']> & { annotations?: unknown } }).metadata;
  const withoutStatus = (): unknown => {
    const { status: _status, ...rest } = item as { status?: unknown };
    return rest;
  };
  // Without a uid and generation (manifest files) nothing proves the spec unchanged.
  if (typeof meta?.uid !== 'string' || typeof meta.generation !== 'number') return parse(withoutStatus());
  const key = objectKey(meta);
  const last = reuse.get(key) as ParseResult<T & { metadata: KubeObject['metadata'] & { annotations?: Record<string, string> } }> | undefined;
  // Checked before anything is copied: after a wave of status writes every object is new.
  if (last?.ok && sameSpec(meta, last.value.metadata)) return last;
  const result = parse(withoutStatus());
  if (result.ok) reuse.set(key, result);
  else reuse.delete(key);
  return result;
}

/**
 * Parses the lvs.dev objects with the API schemas (applying defaults, so the model sees
 * what the API server would store) and sets aside those that fail, to be reported.
 * Objects being deleted are left out: they are no longer desired.
 */
export function buildSnapshot(raw: RawSnapshot): Snapshot {
  const invalid: InvalidObject[] = [];
  const live = (items: readonly unknown[]) => items.filter((o) => !isDeleting(o));
  return {
    directorGroups: parseAll('DirectorGroup', live(raw.directorGroups), invalid),
    virtualServices: parseAll('VirtualService', live(raw.virtualServices), invalid),
    realServers: parseAll('RealServer', live(raw.realServers), invalid),
    services: raw.services,
    endpointSlices: raw.endpointSlices,
    nodes: raw.nodes,
    secrets: raw.secrets,
    unsupportedSchedulers: raw.unsupportedSchedulers,
    invalid,
  };
}
