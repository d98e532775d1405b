import { describe, expect, it } from 'vitest';
import { CompileCache } from '../../../src/agent/compile-cache.js';
import { compile, type HealthLookup } from '../../../src/agent/compile.js';
import { IncrementalResolver, resolve, type ClusterModel } from '../../../src/model/index.js';
import type { Snapshot } from '../../../src/model/types.js';
import { dg, node, rs, snapshot, web } from '../model/fixtures.js';

const leadsAll = (): boolean => true;

function cluster(o: { apiWeight?: number; withApi?: boolean; rsNode?: string } = {}): Snapshot {
  return snapshot({
    directorGroups: [dg('g1')],
    virtualServices: [
      web('shop', 'web', '192.168.10.100', { forwarding: { method: 'DR' } }),
      ...(o.withApi === false ? [] : [web('shop', 'api', '192.168.10.101', { forwarding: { method: 'NAT' }, backends: { realServerSelector: { matchLabels: { app: 'api' } } } })]),
    ],
    realServers: [
      rs('shop', 'web-1', { address: '10.1.0.1', nodeName: o.rsNode ?? 'rs-1' }, { app: 'web' }),
      rs('shop', 'web-2', { address: '10.1.0.2', weight: 2 }, { app: 'web' }),
      rs('shop', 'api-1', { address: '10.1.0.3', port: 8080, weight: o.apiWeight ?? 1 }, { app: 'api' }),
    ],
    nodes: [node('d1', { 'lvs.dev/director': 'g1' }), node('rs-1'), node('rs-2')],
  });
}

/** The model `m` with one service's model replaced by a copy (what the incremental resolver does on a change). */
function withChanged(m: ClusterModel, key: string, change: (s: NonNullable<ReturnType<ClusterModel['services']['get']>>) => void): ClusterModel {
  const services = new Map(m.services);
  const copy = structuredClone(services.get(key)!);
  change(copy);
  services.set(key, copy);
  return { ...m, services };
}

describe('CompileCache', () => {
  it('equals compile() over a sequence of changes, on a director and on a real server', () => {
    const steps = [cluster(), cluster({ apiWeight: 5 }), cluster({ withApi: false }), cluster({ rsNode: 'rs-2' }), cluster()];
    for (const nodeName of ['d1', 'rs-1', 'rs-2']) {
      const cache = new CompileCache(nodeName);
      for (const s of steps) {
        const m = resolve(s);
        expect(cache.compile(m, () => true, leadsAll)).toEqual(compile(m, nodeName, () => true, leadsAll));
      }
    }
  });

  it('equals compile() over models that say what changed (the incremental resolver), skipping one', () => {
    const steps = [cluster(), cluster({ apiWeight: 5 }), cluster({ apiWeight: 6 }), cluster({ withApi: false }), cluster(), cluster({ apiWeight: 2, rsNode: 'rs-2' })];
    for (const nodeName of ['d1', 'rs-1']) {
      const cache = new CompileCache(nodeName);
      const inc = new IncrementalResolver();
      steps.forEach((s, i) => {
        const m = inc.resolve(s);
        if (i > 0) expect(m.changes).toBeDefined();
        // Step 2's model is never compiled: step 3's changes are relative to a model the cache did not see.
        if (i !== 2) expect(cache.compile(m, () => true, leadsAll), `step ${i}`).toEqual(compile(resolve(s), nodeName, () => true, leadsAll));
      });
    }
  });

  it('recompiles only the service whose model object changed', () => {
    const cache = new CompileCache('d1');
    const m1 = resolve(cluster());
    const first = cache.compile(m1, () => true, leadsAll);
    const m2 = withChanged(m1, 'shop/api', (s) => { s.backends[0]!.weight = 7; });
    const second = cache.compile(m2, () => true, leadsAll);
    const byKey = (d: typeof first, k: string) => d.services.find((x) => x.key === k)!;
    expect(byKey(second, 'shop/web')).toBe(byKey(first, 'shop/web'));
    expect(byKey(second, 'shop/api')).not.toBe(byKey(first, 'shop/api'));
    expect(byKey(second, 'shop/api').ipvs.dests[0]!.weight).toBe(7);
    expect(second).toEqual(compile(m2, 'd1', () => true, leadsAll));
  });

  it('keeps a service until told that one of its backends changed health', () => {
    const cache = new CompileCache('d1');
    const m = resolve(cluster());
    let down = '';
    const health: HealthLookup = (_s, b) => b.address !== down;
    expect(cache.compile(m, health, leadsAll).services[1]!.ipvs.dests).toHaveLength(2);
    down = '10.1.0.2';
    // Nothing said it changed: the kept piece stands (the agent invalidates on every checker transition).
    expect(cache.compile(m, health, leadsAll).services[1]!.ipvs.dests).toHaveLength(2);
    cache.invalidate('shop/web');
    const d = cache.compile(m, health, leadsAll);
    expect(d.services[1]!.ipvs.dests.map((x) => x.addr)).toEqual(['10.1.0.1']);
    expect(d).toEqual(compile(m, 'd1', health, leadsAll));
  });

  it('applies leadership on every pass (VRRP transitions need no recompile)', () => {
    const cache = new CompileCache('d1');
    const m = resolve(cluster());
    expect(cache.compile(m, () => true, leadsAll).addresses.map((a) => a.address)).toEqual(['192.168.10.100', '192.168.10.101']);
    expect(cache.compile(m, () => true, (_g, vip) => vip.endsWith('.101')).addresses.map((a) => a.address)).toEqual(['192.168.10.101']);
  });
});
