// Proves the API tier talks to a real kube-apiserver: real storage, real kubectl,
// real authentication and RBAC. Every later API test relies on these holding.
import { randomBytes } from 'node:crypto';
import { ApiException, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { describe, expect, inject, it } from 'vitest';
import { connectApiServer } from './harness.js';

const api = connectApiServer(inject('kubeconfig'), inject('binDir'));
const unique = (prefix: string): string => `${prefix}-${randomBytes(3).toString('hex')}`;

function coreClient(kubeconfigPath: string): CoreV1Api {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  return kc.makeApiClient(CoreV1Api);
}

async function statusOf(call: Promise<unknown>): Promise<number> {
  try {
    await call;
    return 200;
  } catch (err) {
    if (err instanceof ApiException) return err.code;
    throw err;
  }
}

describe('harness API server', () => {
  it('serves the built-in namespaces to @kubernetes/client-node', async () => {
    const list = await coreClient(api.kubeconfigPath).listNamespace();
    const names = list.items.map((ns) => ns.metadata?.name);
    expect(names).toEqual(expect.arrayContaining(['default', 'kube-system', 'kube-public']));
  });

  it('stores a created namespace in etcd and reads it back through kubectl', async () => {
    const name = unique('api-create');
    const created = await coreClient(api.kubeconfigPath).createNamespace({ body: { metadata: { name } } });
    expect(created.metadata?.uid).toMatch(/^[0-9a-f-]{36}$/);

    const got = await api.kubectl(['get', 'namespace', name, '-o', 'jsonpath={.metadata.uid}']);
    expect(got).toMatchObject({ code: 0, stdout: created.metadata?.uid });

    const again = await api.kubectl(['create', 'namespace', name]);
    expect(again.code).not.toBe(0);
    expect(again.stderr).toContain('AlreadyExists');
  });

  it('answers kubectl version with the pinned release version on both sides', async () => {
    const res = await api.kubectl(['version', '-o', 'json']);
    expect(res.code, res.stderr).toBe(0);
    const v = JSON.parse(res.stdout) as {
      clientVersion: { gitVersion: string };
      serverVersion: { gitVersion: string; minor: string };
    };
    expect(v.serverVersion.gitVersion).toMatch(/^v1\.\d+\.\d+$/);
    expect(v.clientVersion.gitVersion).toBe(v.serverVersion.gitVersion);
    expect(v.serverVersion.gitVersion).toContain(`v1.${v.serverVersion.minor}.`);
  });

  it('refuses a certificate user without RBAC rights, then allows exactly what a Role grants', async () => {
    const ns = unique('api-rbac');
    const user = unique('alice');
    expect((await api.kubectl(['create', 'namespace', ns])).code).toBe(0);
    const alice = coreClient(await api.kubeconfigFor(user, ['lvs-test-nobody']));

    expect(await statusOf(alice.listNamespacedConfigMap({ namespace: ns }))).toBe(403);

    const role = await api.kubectl(['create', 'role', 'cm-reader', '-n', ns, '--verb=get,list', '--resource=configmaps']);
    expect(role.code, role.stderr).toBe(0);
    const binding = await api.kubectl(['create', 'rolebinding', 'cm-reader', '-n', ns, '--role=cm-reader', `--user=${user}`]);
    expect(binding.code, binding.stderr).toBe(0);

    expect(await statusOf(alice.listNamespacedConfigMap({ namespace: ns }))).toBe(200);
    // Still Forbidden: other verbs, other namespaces, cluster scope.
    expect(await statusOf(alice.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'x' } } }))).toBe(403);
    expect(await statusOf(alice.listNamespacedConfigMap({ namespace: 'default' }))).toBe(403);
    expect(await statusOf(alice.listNamespace())).toBe(403);
  });

  it('authenticates a ServiceAccount token and applies RBAC to it', async () => {
    const ns = unique('api-sa');
    expect((await api.kubectl(['create', 'namespace', ns])).code).toBe(0);
    const saKubeconfig = await api.kubeconfigForServiceAccount(ns, 'robot');

    const who = await api.kubectl(['auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}'], {
      kubeconfig: saKubeconfig,
    });
    expect(who).toMatchObject({ code: 0, stdout: `system:serviceaccount:${ns}:robot` });

    const denied = await api.kubectl(['get', 'secrets', '-n', ns], { kubeconfig: saKubeconfig });
    expect(denied.code).not.toBe(0);
    expect(denied.stderr).toContain('Forbidden');
  });
});
