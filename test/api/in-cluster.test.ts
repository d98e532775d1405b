// The in-cluster path (src/kube/in-cluster.ts) against the real API server: a service account's
// token and the cluster CA in files laid out as the kubelet projects them, the server from
// KUBERNETES_SERVICE_HOST/PORT. Its unit tests cover the file handling; this proves the result
// authenticates as the service account, as it must in every agent and controller pod.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { inClusterAccess } from '../../src/kube/in-cluster.js';
import { KubeHttp } from '../../src/kube/http.js';
import { connectApiServer } from './harness.js';
import { unique } from './controller-kit.js';

const api = connectApiServer(inject('kubeconfig'), inject('binDir'));

describe('in-cluster access against the real API server', () => {
  it('authenticates as the pod\'s service account with the projected token and CA', async () => {
    const ns = unique('incluster');
    expect((await api.kubectl(['create', 'namespace', ns])).code).toBe(0);
    try {
      // The harness's service-account kubeconfig carries a real bound token issued by the server.
      const kc = readFileSync(await api.kubeconfigForServiceAccount(ns, 'agent'), 'utf8');
      const token = /token: (\S+)/.exec(kc)?.[1];
      expect(token).toBeDefined();
      const dir = mkdtempSync(join(tmpdir(), 'lvs-sa-'));
      writeFileSync(join(dir, 'token'), token!);
      writeFileSync(join(dir, 'ca.crt'), readFileSync(join(api.kubeconfigPath, '..', 'ca.crt')));
      writeFileSync(join(dir, 'namespace'), ns);
      const url = new URL(api.server);
      const access = inClusterAccess({ dir, env: { KUBERNETES_SERVICE_HOST: url.hostname, KUBERNETES_SERVICE_PORT: url.port } });
      expect(access.namespace).toBe(ns);
      const review = await new KubeHttp(access).request<{ status?: { userInfo?: { username?: string } } }>(
        'POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews',
        { body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' } },
      );
      expect(review.status?.userInfo?.username).toBe(`system:serviceaccount:${ns}:agent`);
      // A wrong token is refused: the token is what authenticates, not the connection.
      writeFileSync(join(dir, 'token'), 'not-a-token');
      const wrong = inClusterAccess({ dir, env: { KUBERNETES_SERVICE_HOST: url.hostname, KUBERNETES_SERVICE_PORT: url.port } });
      await expect(new KubeHttp(wrong).request('POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', {
        body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' },
      })).rejects.toMatchObject({ status: 401 });
    } finally {
      await api.kubectl(['delete', 'namespace', ns, '--wait=false']);
    }
  });
});
