import { describe, expect, it } from 'vitest';
import { buildSnapshot, carryParse, type RawSnapshot } from '../../../src/model/snapshot.js';

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

  it('hands the parse on to an object whose status alone changed (carryParse), never across a spec change', () => {
    const old = realServer({ uid: 'u-carry', generation: 1 });
    const first = parsedOne(old);
    const statusOnly = realServer({ uid: 'u-carry', generation: 1, status: { observedGeneration: 1 } });
    carryParse(old, statusOnly);
    // Another object of that name parsed meanwhile: only the hand-over can give the same parse back.
    parsedOne(realServer({ uid: 'u-other', generation: 1, weight: 3 }));
    expect(parsedOne(statusOnly)).toBe(first);
    const notCarried = realServer({ uid: 'u-carry', generation: 1, status: { observedGeneration: 2 } });
    parsedOne(realServer({ uid: 'u-other', generation: 1, weight: 3 }));
    expect(parsedOne(notCarried)).not.toBe(first);
    const respecced = realServer({ uid: 'u-carry', generation: 2, weight: 9 });
    carryParse(statusOnly, respecced);
    expect(parsedOne(respecced).spec.weight).toBe(9);
    const relabelled = realServer({ uid: 'u-carry', generation: 2, weight: 9, labels: { app: 'db' } });
    carryParse(respecced, relabelled);
    expect(parsedOne(relabelled).metadata.labels).toEqual({ app: 'db' });
    // Nothing to hand on from an object never parsed, or from manifest objects without uid.
    const unparsed = realServer({ uid: 'u-new', generation: 1, weight: 4 });
    carryParse({}, unparsed);
    expect(parsedOne(unparsed).spec.weight).toBe(4);
  });

  it('keeps the parse of a DirectorGroup whose status changed but not its VRIDs, the one status field the model reads', () => {
    const group = (rv: string, status: object) => ({
      apiVersion: 'lvs.dev/v1alpha1', kind: 'DirectorGroup',
      metadata: { name: 'g-keep', uid: 'g-u', generation: 1, resourceVersion: rv, creationTimestamp: '2024-01-01T00:00:00Z' },
      spec: { nodeSelector: { matchLabels: { role: 'lb' } }, interface: 'eth0' },
      status,
    });
    const parsedGroup = (raw: unknown) => {
      const s = buildSnapshot({ ...empty, directorGroups: [raw] });
      expect(s.invalid).toEqual([]);
      return s.directorGroups[0]!;
    };
    const vrids = [{ vip: '10.0.0.10', interface: 'eth0', vrid: 7 }];
    const cond = (message: string) => [{ type: 'Ready', status: 'True', reason: 'Ready', message, lastTransitionTime: '2024-01-01T00:00:00Z' }];
    const first = parsedGroup(group('1', { vrids, conditions: cond('1 service') }));
    expect(parsedGroup(group('2', { vrids, conditions: cond('900 services') }))).toBe(first);
    const moved = parsedGroup(group('3', { vrids: [{ ...vrids[0], vrid: 8 }], conditions: cond('900 services') }));
    expect(moved).not.toBe(first);
    expect(moved.status?.vrids?.[0]?.vrid).toBe(8);
  });
});
