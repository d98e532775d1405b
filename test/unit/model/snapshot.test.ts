import { describe, expect, it } from 'vitest';
import { buildSnapshot, type RawSnapshot } from '../../../src/model/snapshot.js';

const empty: RawSnapshot = { directorGroups: [], virtualServices: [], realServers: [], services: [], endpointSlices: [], nodes: [] };

function realServer(o: { uid?: string; generation?: number; labels?: Record<string, string>; weight?: number; status?: object } = {}) {
  return {
    apiVersion: 'lvs.dev/v1alpha1',
    kind: 'RealServer',
    metadata: { name: 'rs-1', namespace: 'snap', creationTimestamp: '2024-01-01T00:00:00Z', labels: o.labels ?? { app: 'web' }, ...(o.uid ? { uid: o.uid } : {}), ...(o.generation ? { generation: o.generation } : {}) },
    spec: { address: '10.0.0.1', weight: o.weight ?? 1 },
    ...(o.status ? { status: o.status } : {}),
  };
}

const parsedOne = (raw: unknown) => {
  const s = buildSnapshot({ ...empty, realServers: [raw] });
  expect(s.invalid).toEqual([]);
  return s.realServers[0]!;
};

describe('buildSnapshot', () => {
  it('parses VirtualServices and RealServers without their status, which the model never reads', () => {
    const conditions = [{ type: 'Ready', status: 'True', reason: 'InUse', message: 'used', lastTransitionTime: '2024-01-01T00:00:00Z' }];
    const r = parsedOne(realServer({ uid: 'u-status', generation: 1, status: { observedGeneration: 1, conditions, healthy: 1, total: 1 } }));
    expect(r.status).toBeUndefined();
    expect(r.spec.weight).toBe(1);
  });

  it('keeps the parse of an object whose status alone changed, and parses again on a new generation, labels or uid', () => {
    const first = parsedOne(realServer({ uid: 'u-1', generation: 1 }));
    // A status write: a new object from the informer, same uid, generation and labels.
    expect(parsedOne(realServer({ uid: 'u-1', generation: 1, status: { observedGeneration: 1 } }))).toBe(first);
    const relabelled = parsedOne(realServer({ uid: 'u-1', generation: 1, labels: { app: 'api' } }));
    expect(relabelled).not.toBe(first);
    expect(relabelled.metadata.labels).toEqual({ app: 'api' });
    const respecced = parsedOne(realServer({ uid: 'u-1', generation: 2, labels: { app: 'api' }, weight: 5 }));
    expect(respecced.spec.weight).toBe(5);
    const recreated = parsedOne(realServer({ uid: 'u-2', generation: 2, labels: { app: 'api' }, weight: 7 }));
    expect(recreated.spec.weight).toBe(7);
  });

  it('without a uid and generation (manifest files) parses every new object', () => {
    const a = parsedOne(realServer({ weight: 2 }));
    const b = parsedOne(realServer({ weight: 3 }));
    expect(a.spec.weight).toBe(2);
    expect(b.spec.weight).toBe(3);
  });
});
