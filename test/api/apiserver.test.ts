// Proves the API tier talks to a real kube-apiserver: real storage, real kubectl,
// real authentication and RBAC. Every later API test relies on these holding.
import { randomBytes } from 'node:crypto';
import { describe, expect, inject, it } from 'vitest';
import { connectApiServer } from './harness.js';

const api = connectApiServer(inject('kubeconfig'), inject('binDir'));
const unique = (prefix: string): string => `${prefix}-${randomBytes(3).toString('hex')}`;

type ClientNode = typeof import('@kubernetes/client-node');

// Imported lazily so that a client-node that cannot load fails only the tests that use
// it, with the reason, while the kubectl-based proofs still run.
async function clientNode(): Promise<ClientNode> {
  try {
    return await import('@kubernetes/client-node');
  } catch (err) {
    throw new Error(
      `@kubernetes/client-node cannot be loaded on Node ${process.version}: ${(err as Error).message}. ` +
        'client-node 2.x depends on undici 8, which needs Node >= 22.19 (zlib zstd).',
      { cause: err },
    );
  }
}

async function coreClient(kubeconfigPath: string): Promise<InstanceType<ClientNode['CoreV1Api']>> {
  const { KubeConfig, CoreV1Api } = await clientNode();
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  return kc.makeApiClient(CoreV1Api);
}

/** HTTP status of a client-node call: 200 when it resolves, the ApiException code when refused. */
async function statusOf(call: Promise<unknown>): Promise<number> {
  const { ApiException } = await clientNode();
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
    const list = await (await coreClient(api.kubeconfigPath)).listNamespace();
    const names = list.items.map((ns) => ns.metadata?.name);
    expect(names).toEqual(expect.arrayContaining(['default', 'kube-system', 'kube-public']));
  });

  it('stores a created namespace in etcd and reads it back through kubectl', async () => {
    const name = unique('api-create');
    const created = await (await coreClient(api.kubeconfigPath)).createNamespace({ body: { metadata: { name } } });
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
    const alice = { kubeconfig: await api.kubeconfigFor(user, ['lvs-test-nobody']) };

    const whoami = await api.kubectl(['auth', 'whoami', '-o', 'json'], alice);
    expect(JSON.parse(whoami.stdout)).toMatchObject({
      status: { userInfo: { username: user, groups: ['lvs-test-nobody', 'system:authenticated'] } },
    });

    const before = await api.kubectl(['get', 'configmaps', '-n', ns], alice);
    expect(before.code).not.toBe(0);
    expect(before.stderr).toMatch(/Forbidden.*User "alice-[0-9a-f]+" cannot list resource "configmaps"/);

    const role = await api.kubectl(['create', 'role', 'cm-reader', '-n', ns, '--verb=get,list', '--resource=configmaps']);
    expect(role.code, role.stderr).toBe(0);
    const binding = await api.kubectl(['create', 'rolebinding', 'cm-reader', '-n', ns, '--role=cm-reader', `--user=${user}`]);
    expect(binding.code, binding.stderr).toBe(0);

    expect((await api.kubectl(['create', 'configmap', 'visible', '-n', ns])).code).toBe(0);
    const after = await api.kubectl(['get', 'configmaps', '-n', ns, '-o', 'name'], alice);
    expect(after).toMatchObject({ code: 0, stdout: 'configmap/visible\n' });
    // Still Forbidden: other verbs, other namespaces, cluster scope.
    for (const args of [
      ['create', 'configmap', 'x', '-n', ns],
      ['get', 'configmaps', '-n', 'default'],
      ['get', 'namespaces'],
    ]) {
      const res = await api.kubectl(args, alice);
      expect(res.stderr, args.join(' ')).toMatch(/forbidden/i);
    }
  });

  it('gives @kubernetes/client-node a 403 ApiException for a user without rights', async () => {
    const nobody = await coreClient(await api.kubeconfigFor(unique('nobody')));
    expect(await statusOf(nobody.listNamespace())).toBe(403);
    expect(await statusOf((await coreClient(api.kubeconfigPath)).listNamespace())).toBe(200);
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
