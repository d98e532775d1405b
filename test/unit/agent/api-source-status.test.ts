// What the agent keeps of statuses it never reads: nothing of a RealServer's, of a
// VirtualService's only its own director entry (a restart compares its report with it).
import { describe, expect, it } from 'vitest';
import { storedStatus } from '../../../src/agent/api-source.js';
import type { KubeObject } from '../../../src/kube/types.js';

const meta = { name: 'x', namespace: 'n', uid: 'u', generation: 2, resourceVersion: '9', labels: { app: 'web' } };

describe('storedStatus', () => {
  const keep = storedStatus('d1');

  it('drops a RealServer status and keeps its metadata and spec', () => {
    const rs = { metadata: meta, spec: { address: '10.0.0.1' }, status: { conditions: [], directors: [{ node: 'd1', healthy: true }] } } as KubeObject;
    expect(keep.realservers!(rs)).toEqual({ metadata: meta, spec: { address: '10.0.0.1' } });
  });

  it("keeps of a VirtualService status only this node's director entry", () => {
    const own = { node: 'd1', programmedGeneration: 2, backends: [{ address: '10.0.0.1', port: 80, healthy: true, weight: 1 }] };
    const vs = { metadata: meta, spec: { vip: '10.1.1.1' }, status: { conditions: [{ type: 'Ready' }], directors: [{ node: 'd2', programmedGeneration: 2 }, own] } } as KubeObject;
    expect(keep.virtualservices!(vs)).toEqual({ metadata: meta, spec: { vip: '10.1.1.1' }, status: { directors: [own] } });
    const notYet = { metadata: meta, spec: {}, status: { directors: [{ node: 'd2' }] } } as KubeObject;
    expect(keep.virtualservices!(notYet)).toEqual({ metadata: meta, spec: {} });
  });

  it('keeps everything without a node, and other kinds as they are', () => {
    expect(storedStatus(undefined)).toEqual({});
    expect(keep.directorgroups).toBeUndefined();
    expect(keep.nodes).toBeUndefined();
  });
});
