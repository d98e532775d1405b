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

function parseAll<T>(
  kind: InvalidObject['kind'],
  items: readonly unknown[],
  parse: (o: unknown) => ParseResult<T>,
  invalid: InvalidObject[],
): T[] {
  const out: T[] = [];
  for (const item of items) {
    const cached = typeof item === 'object' && item !== null ? (parsed.get(item) as ParseResult<T> | undefined) : undefined;
    const r = cached ?? parse(item);
    if (!cached && typeof item === 'object' && item !== null) parsed.set(item, r);
    if (r.ok) {
      out.push(r.value);
      continue;
    }
    const meta = (item as Partial<KubeObject> | null)?.metadata ?? {};
    invalid.push({ kind, namespace: meta.namespace, name: meta.name ?? '', generation: meta.generation, error: r.error });
  }
  return out;
}

/**
 * Parses the lvs.dev objects with the API schemas (applying defaults, so the model sees
 * what the API server would store) and sets aside those that fail, to be reported.
 * Objects being deleted are left out: they are no longer desired.
 */
export function buildSnapshot(raw: RawSnapshot): Snapshot {
  const invalid: InvalidObject[] = [];
  const live = (items: readonly unknown[]) =>
    items.filter((o) => !(o as Partial<KubeObject> | null)?.metadata?.deletionTimestamp);
  return {
    directorGroups: parseAll('DirectorGroup', live(raw.directorGroups), parseDirectorGroup, invalid),
    virtualServices: parseAll('VirtualService', live(raw.virtualServices), parseVirtualService, invalid),
    realServers: parseAll('RealServer', live(raw.realServers), parseRealServer, invalid),
    services: raw.services,
    endpointSlices: raw.endpointSlices,
    nodes: raw.nodes,
    secrets: raw.secrets,
    unsupportedSchedulers: raw.unsupportedSchedulers,
    invalid,
  };
}
