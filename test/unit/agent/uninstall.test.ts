import { describe, expect, it } from 'vitest';
import { agentRemoval } from '../../../src/agent/uninstall.js';
import { KubeApiError } from '../../../src/kube/index.js';

// Fake API answers per path; the real twin is e2e/cluster.test.ts (helm uninstall and rollout restart on real nodes).
const api = (answers: Record<string, unknown>) => ({
  async request<T>(_method: string, path: string): Promise<T> {
    const a = answers[path];
    if (a instanceof Error) throw a;
    if (a === undefined) throw new KubeApiError(404, 'NotFound', `${path} not found`, {});
    return a as T;
  },
});
const podPath = '/api/v1/namespaces/lvs-system/pods/agent-x';
const dsPath = '/apis/apps/v1/namespaces/lvs-system/daemonsets/lvs-operator-agent';
const pod = { metadata: { ownerReferences: [{ kind: 'DaemonSet', name: 'lvs-operator-agent', apiVersion: 'apps/v1' }] } };

describe('agentRemoval: uninstall or restart', () => {
  it('a DaemonSet that is still there is a restart', async () => {
    expect((await agentRemoval(api({ [podPath]: pod, [dsPath]: { metadata: {} } }), 'lvs-system', 'agent-x')).removed).toBe(false);
  });
  it('a DaemonSet gone or being deleted is an uninstall', async () => {
    expect(await agentRemoval(api({ [podPath]: pod }), 'lvs-system', 'agent-x')).toEqual({ removed: true, why: 'DaemonSet lvs-operator-agent is gone' });
    expect((await agentRemoval(api({ [podPath]: pod, [dsPath]: { metadata: { deletionTimestamp: '2026-01-01T00:00:00Z' } } }), 'lvs-system', 'agent-x')).removed).toBe(true);
  });
  it('an identity or rights taken away with the release is an uninstall', async () => {
    expect((await agentRemoval(api({ [podPath]: new KubeApiError(401, 'Unauthorized', 'no', {}) }), 'lvs-system', 'agent-x')).removed).toBe(true);
    expect((await agentRemoval(api({ [podPath]: pod, [dsPath]: new KubeApiError(403, 'Forbidden', 'no', {}) }), 'lvs-system', 'agent-x')).removed).toBe(true);
  });
  it('no definite answer keeps the kernel state: outage, server error, no owner', async () => {
    const quick = { pauseMs: 0 };
    expect((await agentRemoval(api({ [podPath]: new Error('connect ETIMEDOUT') }), 'lvs-system', 'agent-x', quick)).removed).toBe(false);
    expect((await agentRemoval(api({ [podPath]: pod, [dsPath]: new KubeApiError(500, 'InternalError', 'etcd', {}) }), 'lvs-system', 'agent-x', quick)).removed).toBe(false);
    expect((await agentRemoval(api({ [podPath]: { metadata: {} } }), 'lvs-system', 'agent-x', quick)).removed).toBe(false);
    expect((await agentRemoval(api({}), 'lvs-system', 'agent-x', quick)).removed).toBe(false);
  });
  it('asks again after a read that failed (a loaded API server), up to three times, and stops at an answer', async () => {
    const paths: string[] = [];
    let podReads = 0;
    const flaky = {
      async request<T>(_method: string, path: string): Promise<T> {
        paths.push(path);
        if (path === podPath && ++podReads === 1) throw new Error('request timed out after 5000 ms');
        if (path === podPath) return pod as T;
        throw new KubeApiError(404, 'NotFound', 'gone', {});
      },
    };
    expect(await agentRemoval(flaky, 'lvs-system', 'agent-x', { pauseMs: 0 })).toEqual({ removed: true, why: 'DaemonSet lvs-operator-agent is gone' });
    expect(paths).toEqual([podPath, podPath, dsPath]);
    const down = { async request<T>(_m: string, path: string): Promise<T> { paths.push(path); throw new Error('connect ECONNREFUSED'); } };
    paths.length = 0;
    expect((await agentRemoval(down, 'lvs-system', 'agent-x', { pauseMs: 0 })).removed).toBe(false);
    expect(paths).toEqual([podPath, podPath, podPath]);
  });
});
