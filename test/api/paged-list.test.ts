// Lists a page at a time against the real API server (src/kube/client.ts list): a collection
// larger than a page comes back whole, a consistent read in limit-sized pages, and the informer's
// first list from the watch cache (resourceVersion=0) holds the same objects.
import { describe, expect, inject, it } from 'vitest';
import { makeClients } from '../../src/kube/client.js';
import { KubeHttp } from '../../src/kube/http.js';
import { Informer, resourceListWatcher } from '../../src/kube/informer.js';
import type { Lease } from '../../src/kube/types.js';
import { fromKubeconfigFile } from '../../src/kube/config.js';
import { connectApiServer } from './harness.js';
import { testLogger, unique } from './controller-kit.js';

const api = connectApiServer(inject('kubeconfig'), inject('binDir'));

describe('paged lists', () => {
  it('reads 1,100 objects in pages of 500 and from the watch cache, each object once', async () => {
    const ns = unique('paged');
    expect((await api.kubectl(['create', 'namespace', ns])).code).toBe(0);
    try {
      const count = 1100;
      const items = Array.from({ length: count }, (_, i) => ({
        apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: `l-${i}`, namespace: ns }, spec: { holderIdentity: `h-${i}` },
      }));
      const created = await api.kubectl(['apply', '--server-side', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items }) });
      expect(created.code, created.stderr).toBe(0);
      const leases = makeClients(new KubeHttp(await fromKubeconfigFile(api.kubeconfigPath))).leases;
      const names = (l: readonly Lease[]) => new Set(l.map((o) => o.metadata.name));

      const latest = await leases.list({ namespace: ns });
      expect(latest.pages).toBe(3);
      expect(latest.items).toHaveLength(count);
      expect(names(latest.items).size).toBe(count);

      const small = await leases.list({ namespace: ns, limit: 300 });
      expect(small.pages).toBe(4);
      expect(names(small.items)).toEqual(names(latest.items));

      const cached = await leases.list({ namespace: ns, resourceVersion: '0' });
      expect(cached.items).toHaveLength(count);
      expect(names(cached.items)).toEqual(names(latest.items));

      // `each` runs on every item, a page at a time.
      let seen = 0;
      const mapped = await leases.list({ namespace: ns, limit: 300, each: (o) => { seen++; return { ...o, spec: { holderIdentity: 'mapped' } }; } });
      expect(seen).toBe(count);
      expect(new Set(mapped.items.map((o) => o.spec?.holderIdentity))).toEqual(new Set(['mapped']));

      // The informer shapes the pages as they come (lean: no managedFields; its transform).
      const inf = new Informer<Lease>('paged', resourceListWatcher(leases, { namespace: ns }), { log: testLogger('paged'), transform: (o) => ({ ...o, spec: { holderIdentity: 'kept' } }) });
      inf.start();
      try {
        await inf.waitForSync();
        expect(names(inf.list())).toEqual(names(latest.items));
        expect(inf.list().every((o) => o.metadata.managedFields === undefined && o.spec?.holderIdentity === 'kept')).toBe(true);
      } finally {
        await inf.stop();
      }
    } finally {
      await api.kubectl(['delete', 'namespace', ns, '--wait=false']);
    }
  });
});
