import { describe, expect, it } from 'vitest';
import { affectsLoadBalancers } from '../../../src/controller/load-balancer.js';
import type { KubeObject } from '../../../src/kube/types.js';

const svc = (type: string, extra: object = {}): KubeObject => ({ metadata: { name: 's', namespace: 'n' }, spec: { type }, ...extra }) as KubeObject;
const vs = (labels: Record<string, string> | undefined, generation = 1, status = 'a'): KubeObject =>
  ({ metadata: { name: 'v', namespace: 'n', generation, ...(labels ? { labels } : {}) }, status: { phase: status } }) as KubeObject;
const derived = { 'lvs.dev/service-name': 's', 'lvs.dev/derived': 'true' };

describe('which informer events can change the LoadBalancer plan', () => {
  it('every pool and namespace event, and resyncs', () => {
    expect(affectsLoadBalancers('addressPools', { type: 'added', obj: vs(undefined) })).toBe(true);
    expect(affectsLoadBalancers('namespaces', { type: 'updated', obj: vs(undefined), old: vs(undefined) })).toBe(true);
    expect(affectsLoadBalancers('services', { type: 'resync' })).toBe(true);
  });

  it('Services of type LoadBalancer, before or after; not the others', () => {
    expect(affectsLoadBalancers('services', { type: 'added', obj: svc('LoadBalancer') })).toBe(true);
    expect(affectsLoadBalancers('services', { type: 'updated', obj: svc('ClusterIP'), old: svc('LoadBalancer') })).toBe(true);
    expect(affectsLoadBalancers('services', { type: 'updated', obj: svc('ClusterIP'), old: svc('ClusterIP') })).toBe(false);
    expect(affectsLoadBalancers('services', { type: 'deleted', obj: svc('NodePort') })).toBe(false);
  });

  it('VirtualServices: added or deleted, derived label changed, a derived one changed in spec, labels or owners; never a status write', () => {
    expect(affectsLoadBalancers('virtualServices', { type: 'added', obj: vs(undefined) })).toBe(true);
    expect(affectsLoadBalancers('virtualServices', { type: 'deleted', obj: vs(undefined) })).toBe(true);
    expect(affectsLoadBalancers('virtualServices', { type: 'updated', obj: vs(derived), old: vs(undefined) })).toBe(true);
    expect(affectsLoadBalancers('virtualServices', { type: 'updated', obj: vs(derived, 2), old: vs(derived, 1) })).toBe(true);
    expect(affectsLoadBalancers('virtualServices', { type: 'updated', obj: vs({ ...derived, x: '1' }), old: vs(derived) })).toBe(true);
    expect(affectsLoadBalancers('virtualServices', { type: 'updated', obj: vs(derived, 1, 'b'), old: vs(derived, 1, 'a') })).toBe(false);
    expect(affectsLoadBalancers('virtualServices', { type: 'updated', obj: vs(undefined, 2), old: vs(undefined, 1) })).toBe(false);
    expect(affectsLoadBalancers('realServers', { type: 'added', obj: vs(undefined) })).toBe(false);
  });
});
