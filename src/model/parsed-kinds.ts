// The lvs.dev objects of an informer, parsed as their events arrive: a snapshot after one change
// costs that object's parse and a copy of the parsed list, not a walk of every object's cache
// entry (at 10,000 x 10 that walk was the largest part of a single change's pass). Equal to
// buildSnapshot() over the informers' lists (a unit test holds them together).
import type { KubeObject } from '../kube/types.js';
import { forgetParse, invalidObject, isDeleting, parseObject } from './snapshot.js';
import type { DirectorGroup, RealServer, VirtualService } from '../api/index.js';
import type { InvalidObject } from './types.js';

/** What an informer tells about one object (src/kube/informer.ts). */
export type ObjectEvent = { type: 'added' | 'updated' | 'deleted'; obj: unknown } | { type: 'resync' };

class ParsedKind<T> {
  /** In the informer store's order: a key keeps its place when its object is replaced. */
  private readonly results = new Map<string, { item: unknown; ok: boolean; value: unknown; error?: string }>();
  private lists: { valid: T[]; invalid: InvalidObject[] } | undefined;
  /** Each valid object's index in `lists.valid`, while the lists are kept. */
  private readonly positions = new Map<string, number>();

  constructor(private readonly kind: InvalidObject['kind']) {}

  apply(ev: ObjectEvent): void {
    if (ev.type === 'resync') return;
    const key = keyOf(ev.obj);
    if (ev.type === 'deleted') forgetParse(this.kind, key);
    if (ev.type === 'deleted' || isDeleting(ev.obj)) {
      if (this.results.delete(key)) this.lists = undefined;
      return;
    }
    const r = parseObject(this.kind, ev.obj);
    const prev = this.results.get(key);
    const next = r.ok ? { item: ev.obj, ok: true, value: r.value } : { item: ev.obj, ok: false, value: undefined, error: r.error };
    this.results.set(key, next);
    // A status write keeps the parse: the lists stay as they are.
    if (prev?.ok && next.ok && prev.value === next.value) return;
    // An edit of a valid object that stays valid: a copy of the list with its slot replaced (a
    // copy, because the last snapshot holds the list), not a walk of every entry.
    const at = this.lists && prev?.ok && next.ok ? this.positions.get(key) : undefined;
    if (this.lists && at !== undefined) {
      const valid = this.lists.valid.slice();
      valid[at] = next.value as T;
      this.lists = { valid, invalid: this.lists.invalid };
      return;
    }
    this.lists = undefined;
  }

  list(): { valid: T[]; invalid: InvalidObject[] } {
    if (this.lists) return this.lists;
    const valid: T[] = [];
    const invalid: InvalidObject[] = [];
    this.positions.clear();
    for (const [key, r] of this.results) {
      if (r.ok) {
        this.positions.set(key, valid.length);
        valid.push(r.value as T);
      } else invalid.push(invalidObject(this.kind, r.item, r.error ?? ''));
    }
    this.lists = { valid, invalid };
    return this.lists;
  }
}

function keyOf(obj: unknown): string {
  const m = (obj as Partial<KubeObject> | null)?.metadata;
  return m?.namespace ? `${m.namespace}/${m.name ?? ''}` : (m?.name ?? '');
}

/** The three parsed kinds of a snapshot, fed by informer events. */
export class ParsedKinds {
  readonly directorGroups = new ParsedKind<DirectorGroup>('DirectorGroup');
  readonly virtualServices = new ParsedKind<VirtualService>('VirtualService');
  readonly realServers = new ParsedKind<RealServer>('RealServer');

  /** The snapshot's parsed part: what buildSnapshot() gives for the same objects. */
  lists(): { directorGroups: DirectorGroup[]; virtualServices: VirtualService[]; realServers: RealServer[]; invalid: InvalidObject[] } {
    const g = this.directorGroups.list();
    const v = this.virtualServices.list();
    const r = this.realServers.list();
    return { directorGroups: g.valid, virtualServices: v.valid, realServers: r.valid, invalid: [...g.invalid, ...v.invalid, ...r.invalid] };
  }
}
