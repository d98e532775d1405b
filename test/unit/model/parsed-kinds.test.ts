import { describe, expect, it } from 'vitest';
import { ParsedKinds } from '../../../src/model/parsed-kinds.js';
import { buildSnapshot } from '../../../src/model/snapshot.js';

// A store like an informer's: events in, lists out; the incremental parse must equal buildSnapshot().
class Store {
  readonly items = new Map<string, object>();
  constructor(private readonly parsed: ParsedKinds, private readonly kind: 'realServers' | 'virtualServices' | 'directorGroups') {}
  put(o: { metadata: { name: string; namespace?: string } }): void {
    const key = `${o.metadata.namespace ?? ''}/${o.metadata.name}`;
    const had = this.items.has(key);
    this.items.set(key, o);
    this.parsed[this.kind].apply({ type: had ? 'updated' : 'added', obj: o });
  }
  remove(name: string, namespace = 'pk'): void {
    const o = this.items.get(`${namespace}/${name}`)!;
    this.items.delete(`${namespace}/${name}`);
    this.parsed[this.kind].apply({ type: 'deleted', obj: o });
  }
}

const rs = (name: string, o: { gen?: number; weight?: unknown; status?: object; deleting?: boolean } = {}) => ({
  apiVersion: 'lvs.dev/v1alpha1', kind: 'RealServer',
  metadata: { name, namespace: 'pk', uid: `u-${name}`, generation: o.gen ?? 1, creationTimestamp: '2024-01-01T00:00:00Z', labels: { app: 'web' }, ...(o.deleting ? { deletionTimestamp: '2024-01-02T00:00:00Z' } : {}) },
  spec: { address: '10.0.0.1', weight: o.weight ?? 1 },
  ...(o.status ? { status: o.status } : {}),
});
const vs = (name: string) => ({
  apiVersion: 'lvs.dev/v1alpha1', kind: 'VirtualService',
  metadata: { name, namespace: 'pk', uid: `u-${name}`, generation: 1, creationTimestamp: '2024-01-01T00:00:00Z' },
  spec: { vip: '192.0.2.1', port: 80, protocol: 'TCP', directorGroup: 'g1', backends: { realServerSelector: { matchLabels: { app: 'web' } } } },
});

describe('ParsedKinds', () => {
  it('gives what buildSnapshot gives over the same objects, through adds, edits, status writes, bad objects and deletes', () => {
    const parsed = new ParsedKinds();
    const realServers = new Store(parsed, 'realServers');
    const virtualServices = new Store(parsed, 'virtualServices');
    const check = () => {
      const want = buildSnapshot({ directorGroups: [], virtualServices: [...virtualServices.items.values()], realServers: [...realServers.items.values()], services: [], endpointSlices: [], nodes: [] });
      const got = parsed.lists();
      expect(got.realServers).toEqual(want.realServers);
      expect(got.virtualServices).toEqual(want.virtualServices);
      expect(got.invalid).toEqual(want.invalid);
      return got;
    };
    for (const n of ['a', 'b', 'c']) realServers.put(rs(n));
    virtualServices.put(vs('web'));
    const first = check();
    // A status write: the same parse, the same lists.
    realServers.put(rs('b', { status: { observedGeneration: 1 } }));
    const afterStatus = check();
    expect(afterStatus.realServers).toBe(first.realServers);
    expect(afterStatus.realServers[1]).toBe(first.realServers[1]);
    // A spec change: parsed again, in its place.
    realServers.put(rs('b', { gen: 2, weight: 7 }));
    expect(check().realServers.map((r) => r.spec.weight)).toEqual([1, 7, 1]);
    // Refused by the schema: reported as invalid, not dropped silently; fixed again.
    realServers.put(rs('c', { gen: 2, weight: 'heavy' }));
    expect(check().invalid).toMatchObject([{ kind: 'RealServer', name: 'c', generation: 2 }]);
    realServers.put(rs('c', { gen: 3, weight: 3 }));
    expect(check().invalid).toEqual([]);
    // Being deleted: no longer desired; then gone.
    realServers.put(rs('a', { deleting: true }));
    expect(parsed.lists().realServers.map((r) => r.metadata.name)).toEqual(['b', 'c']);
    realServers.remove('a');
    realServers.remove('c');
    expect(check().realServers.map((r) => r.metadata.name)).toEqual(['b']);
  });
});
