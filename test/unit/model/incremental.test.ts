import { beforeEach, describe, expect, it, vi } from 'vitest';
import { resolveBackends } from '../../../src/model/backends.js';
import { resolveClaims } from '../../../src/model/conflicts.js';
import { IncrementalResolver } from '../../../src/model/incremental.js';
import { resolve } from '../../../src/model/resolve.js';
import { buildSnapshot, type RawSnapshot } from '../../../src/model/snapshot.js';
import type { Snapshot } from '../../../src/model/types.js';
import type { Node } from '../../../src/kube/types.js';
import { dg, node, nodesFor, rs, service, slice, ready, snapshot, web } from './fixtures.js';

// Count the expensive steps through the module boundary, without hooks in the code.
vi.mock('../../../src/model/backends.js', async (importOriginal) => {
  const mod = await importOriginal<typeof import('../../../src/model/backends.js')>();
  return { ...mod, resolveBackends: vi.fn(mod.resolveBackends) };
});
vi.mock('../../../src/model/conflicts.js', async (importOriginal) => {
  const mod = await importOriginal<typeof import('../../../src/model/conflicts.js')>();
  return { ...mod, resolveClaims: vi.fn(mod.resolveClaims) };
});

beforeEach(() => {
  vi.mocked(resolveBackends).mockClear();
  vi.mocked(resolveClaims).mockClear();
});

/** inc.resolve(s), checked against resolve(s); the spies count the incremental call only. */
function step(inc: IncrementalResolver, s: Snapshot) {
  const want = resolve(s);
  vi.mocked(resolveBackends).mockClear();
  vi.mocked(resolveClaims).mockClear();
  const got = inc.resolve(s);
  expect(got).toEqual(want);
  return got;
}

/** Keys whose value is not the same object in both maps. */
function replaced<V>(before: Map<string, V>, after: Map<string, V>): string[] {
  return [...after].filter(([k, v]) => before.get(k) !== v).map(([k]) => k);
}

/** Three services in two namespaces, two of them sharing a VIP on different ports. */
function shop(): Snapshot {
  return snapshot({
    directorGroups: [dg('g1')],
    nodes: nodesFor(),
    virtualServices: [
      web('shop', 'web', '192.0.2.10', { forwarding: { method: 'DR' } }),
      web('shop', 'api', '192.0.2.10', { port: 8080, backends: { realServerSelector: { matchLabels: { app: 'api' } } } }),
      web('blog', 'web', '192.0.2.20', { backends: { realServerSelector: { matchLabels: { app: 'web' } }, service: { name: 'blog' } } }),
    ],
    realServers: [
      rs('shop', 'web-1', { address: '10.0.0.11' }, { app: 'web' }),
      rs('shop', 'web-2', { address: '10.0.0.12' }, { app: 'web' }),
      rs('shop', 'api-1', { address: '10.0.0.21' }, { app: 'api' }),
      rs('shop', 'lonely', { address: '10.0.0.99' }, { app: 'none' }),
      rs('blog', 'web-1', { address: '10.0.1.11' }, { app: 'web' }),
    ],
    services: [service('blog', 'blog', [{ port: 80 }])],
    endpointSlices: [slice('blog', 'blog-1', 'blog', [{ port: 80 }], [ready('10.0.1.50')])],
  });
}

/** `s` with the RealServer at `index` replaced by a new object, the way an informer update does. */
function withRealServer(s: Snapshot, index: number, weight: number): Snapshot {
  const realServers = [...s.realServers];
  const old = realServers[index];
  if (!old) throw new Error('no such RealServer');
  realServers[index] = { ...old, metadata: { ...old.metadata, generation: (old.metadata.generation ?? 1) + 1 }, spec: { ...old.spec, weight } };
  return { ...s, realServers };
}

describe('IncrementalResolver: identity of unchanged models', () => {
  it('an unrelated RealServer change keeps every ServiceModel, the services Map and the groups Map', () => {
    const inc = new IncrementalResolver();
    const s0 = shop();
    const m0 = inc.resolve(s0);
    const m1 = step(inc, withRealServer(s0, 3, 9)); // shop/lonely: selected by nobody
    expect(m1.services).toBe(m0.services);
    expect(m1.groups).toBe(m0.groups);
    expect(replaced(m0.realServers, m1.realServers)).toEqual(['shop/lonely']);
    expect(vi.mocked(resolveBackends)).not.toHaveBeenCalled();
  });

  it('a weight change gives a new ServiceModel only for the service that selects the RealServer', () => {
    const inc = new IncrementalResolver();
    const s0 = shop();
    const m0 = inc.resolve(s0);
    const m1 = step(inc, withRealServer(s0, 0, 7)); // shop/web-1
    expect(vi.mocked(resolveBackends)).toHaveBeenCalledTimes(1);
    expect(replaced(m0.services, m1.services)).toEqual(['shop/web']);
    expect(m1.services.get('shop/web')?.backends.map((b) => b.weight)).toEqual([7, 1]);
    expect(m1.groups).toBe(m0.groups);
    // web-1's generation changed; web-2 is still used by the same service in the same way.
    expect(replaced(m0.realServers, m1.realServers)).toEqual(['shop/web-1']);
  });

  it('the same snapshot, or a new one with the same objects, gives the same model', () => {
    const inc = new IncrementalResolver();
    const s0 = shop();
    const m0 = inc.resolve(s0);
    expect(inc.resolve(s0)).toBe(m0);
    expect(inc.resolve({ ...s0, realServers: [...s0.realServers], invalid: [] })).toBe(m0);
  });

  it('starts over after a snapshot it cannot resolve', () => {
    const inc = new IncrementalResolver();
    const s0 = shop();
    inc.resolve(s0);
    // Fails half way: after the service is recorded, before it is indexed.
    const web0 = s0.virtualServices[0];
    if (!web0) throw new Error('fixture');
    const bad = { ...web0, metadata: { ...web0.metadata, name: 'broken' }, spec: { ...web0.spec, vip: '192.0.2.99', backends: undefined as never } };
    const broken = { ...s0, virtualServices: [...s0.virtualServices, bad] };
    expect(() => inc.resolve(broken)).toThrow();
    // A new claim settles all claims again: a leftover of the broken service would show.
    const s1 = { ...s0, virtualServices: [...s0.virtualServices, web('shop', 'new', '192.0.2.30')] };
    expect(inc.resolve(s1)).toEqual(resolve(s1));
  });

  it('a VirtualService change that keeps its claim settles no claims and keeps the groups', () => {
    const inc = new IncrementalResolver();
    const s0 = shop();
    const m0 = inc.resolve(s0);
    const virtualServices = [...s0.virtualServices];
    virtualServices[1] = web('shop', 'api', '192.0.2.10', { port: 8080, scheduler: 'rr', backends: { realServerSelector: { matchLabels: { app: 'api' } } } }, { created: s0.virtualServices[1]?.metadata.creationTimestamp });
    const m1 = step(inc, { ...s0, virtualServices });
    expect(vi.mocked(resolveClaims)).not.toHaveBeenCalled();
    expect(replaced(m0.services, m1.services)).toEqual(['shop/api']);
    expect(m1.groups).toBe(m0.groups);
    expect(m1.realServers).toBe(m0.realServers);
  });

  it('an EndpointSlice change re-resolves only the service that names its Service', () => {
    const inc = new IncrementalResolver();
    const s0 = shop();
    const m0 = inc.resolve(s0);
    const m1 = step(inc, { ...s0, endpointSlices: [slice('blog', 'blog-1', 'blog', [{ port: 80 }], [ready('10.0.1.50'), ready('10.0.1.51')])] });
    expect(vi.mocked(resolveBackends)).toHaveBeenCalledTimes(1);
    expect(replaced(m0.services, m1.services)).toEqual(['blog/web']);
    expect(m1.realServers).toBe(m0.realServers);
  });

  it('a node address change re-resolves the services whose real servers are nodes, and only them; a heartbeat none', () => {
    const inc = new IncrementalResolver();
    const worker = (address: string, heartbeat: string): Node => ({ ...node('worker-2'), metadata: { name: 'worker-2', annotations: { beat: heartbeat } }, status: { addresses: [{ type: 'InternalIP', address }] } });
    const s0 = {
      ...shop(),
      nodes: [...nodesFor(), worker('10.0.0.12', '1')],
      services: [...shop().services, service('blog', 'local', [{ name: 'http', port: 80 }])],
      endpointSlices: [...shop().endpointSlices, slice('blog', 'local-1', 'local', [{ name: 'http', port: 8080 }], [ready('10.244.2.1', 'worker-2')])],
      virtualServices: [...shop().virtualServices, web('blog', 'local', '192.0.2.99', { forwarding: { method: 'DR' }, backends: { service: { name: 'local', port: 'http', target: 'Nodes' } } })],
    };
    const m0 = step(inc, s0);
    expect(m0.services.get('blog/local')?.backends.map((b) => b.address)).toEqual(['10.0.0.12']);
    const m1 = step(inc, { ...s0, nodes: [...nodesFor(), worker('10.0.0.12', '2')] });
    expect(vi.mocked(resolveBackends)).toHaveBeenCalledTimes(0);
    expect(m1.services).toBe(m0.services);
    const m2 = step(inc, { ...s0, nodes: [...nodesFor(), worker('10.0.0.22', '2')] });
    expect(vi.mocked(resolveBackends)).toHaveBeenCalledTimes(1);
    expect(replaced(m1.services, m2.services)).toEqual(['blog/local']);
    expect(m2.services.get('blog/local')?.backends.map((b) => b.address)).toEqual(['10.0.0.22']);
  });
});

describe('IncrementalResolver: cost follows the change', () => {
  const services = 1000;
  const backends = 10;
  const ts = '2026-01-01T00:00:00Z';
  const virtualService = (name: string, vip: string, port: number) => ({
    apiVersion: 'lvs.dev/v1alpha1',
    kind: 'VirtualService',
    metadata: { name, namespace: 'bench', generation: 1, creationTimestamp: ts },
    spec: { vip, port, protocol: 'TCP', scheduler: 'wrr', forwarding: { method: 'DR' }, healthCheck: { type: 'None' }, backends: { realServerSelector: { matchLabels: { vs: name } } }, directorGroup: 'bench' },
  });
  // The scale and shape of bench/converge.ts.
  const raw = {
    directorGroups: [{ apiVersion: 'lvs.dev/v1alpha1', kind: 'DirectorGroup', metadata: { name: 'bench', generation: 1, creationTimestamp: ts }, spec: { nodeSelector: { matchLabels: { d: '1' } }, interface: 'eth0', vrrp: {} } }],
    virtualServices: Array.from({ length: services }, (_, i) => virtualService(`vs-${i}`, `10.252.0.${(i % 50) + 1}`, 1000 + i)),
    realServers: Array.from({ length: services * backends }, (_, k) => ({
      apiVersion: 'lvs.dev/v1alpha1',
      kind: 'RealServer',
      metadata: { name: `rs-${k}`, namespace: 'bench', generation: 1, creationTimestamp: ts, labels: { vs: `vs-${Math.floor(k / backends)}` } },
      spec: { address: `10.253.${Math.floor(k / 250)}.${(k % 250) + 1}`, weight: 1 },
    })),
    services: [],
    endpointSlices: [],
    nodes: [{ metadata: { name: 'd1', labels: { d: '1' } } }],
  } as unknown as RawSnapshot & { realServers: { metadata: { generation: number; labels: Record<string, string> }; spec: { weight: number } }[] };

  it(`one RealServer change at ${services} VirtualServices x ${backends} RealServers re-resolves one service`, () => {
    const inc = new IncrementalResolver();
    const m0 = inc.resolve(buildSnapshot({ ...raw, realServers: [...raw.realServers] }));
    expect(vi.mocked(resolveBackends)).toHaveBeenCalledTimes(services);

    const realServers = [...raw.realServers];
    const old = realServers[4242];
    if (!old) throw new Error('fixture');
    realServers[4242] = { ...old, metadata: { ...old.metadata, generation: 2 }, spec: { ...old.spec, weight: 5 } };
    const m1 = step(inc, buildSnapshot({ ...raw, realServers }));
    expect(vi.mocked(resolveBackends)).toHaveBeenCalledTimes(1);
    expect(vi.mocked(resolveBackends).mock.calls[0]?.[0].metadata.name).toBe('vs-424');
    expect(vi.mocked(resolveClaims)).not.toHaveBeenCalled();
    expect(replaced(m0.services, m1.services)).toEqual(['bench/vs-424']);
    expect(replaced(m0.realServers, m1.realServers)).toEqual(['bench/rs-4242']);
    expect(m1.groups).toBe(m0.groups);

    // Moving it to another service re-resolves the one it left and the one it joined.
    const moved = realServers[4242];
    if (!moved) throw new Error('fixture');
    realServers[4242] = { ...moved, metadata: { ...moved.metadata, labels: { vs: 'vs-7' } } };
    const m2 = step(inc, buildSnapshot({ ...raw, realServers }));
    expect(vi.mocked(resolveBackends).mock.calls.map((c) => c[0].metadata.name).sort()).toEqual(['vs-424', 'vs-7']);
    expect(replaced(m1.services, m2.services).sort()).toEqual(['bench/vs-424', 'bench/vs-7']);

    // A new service with a new VIP settles the claims again but resolves only itself.
    const m3 = step(inc, buildSnapshot({ ...raw, realServers, virtualServices: [...raw.virtualServices, virtualService('vs-new', '10.252.1.1', 80)] }));
    expect(vi.mocked(resolveClaims)).toHaveBeenCalledTimes(1);
    expect(vi.mocked(resolveBackends).mock.calls.map((c) => c[0].metadata.name)).toEqual(['vs-new']);
    expect(replaced(m2.services, m3.services)).toEqual(['bench/vs-new']);
    expect(m3.groups.get('bench')?.vrids).toHaveLength(51);
  });
});
