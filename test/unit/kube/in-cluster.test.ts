import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { inClusterAccess } from '../../../src/kube/in-cluster.js';

function serviceAccount(token = 'token-1'): string {
  const dir = mkdtempSync(join(tmpdir(), 'lvs-sa-'));
  writeFileSync(join(dir, 'token'), `${token}\n`);
  writeFileSync(join(dir, 'ca.crt'), 'CA PEM');
  writeFileSync(join(dir, 'namespace'), 'lvs-system');
  return dir;
}

describe('in-cluster access', () => {
  it('takes the server from the environment and the CA, token and namespace from the service account', async () => {
    const dir = serviceAccount();
    const a = inClusterAccess({ dir, env: { KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' } });
    expect(a).toMatchObject({ server: 'https://10.96.0.1:443', namespace: 'lvs-system', source: 'in-cluster' });
    const o = await a.requestOptions();
    expect(o.ca?.toString()).toBe('CA PEM');
    expect(o.headers).toEqual({ Authorization: 'Bearer token-1' });
    expect(inClusterAccess({ dir, env: { KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '443' } }).server).toBe('https://[fd00::1]:443');
  });

  it('re-reads the token a minute after reading it (the kubelet rotates it)', async () => {
    const dir = serviceAccount('old');
    let now = 0;
    const a = inClusterAccess({ dir, env: { KUBERNETES_SERVICE_HOST: 'h', KUBERNETES_SERVICE_PORT: '6443' }, now: () => now });
    writeFileSync(join(dir, 'token'), 'new');
    now = 59_999;
    expect((await a.requestOptions()).headers.Authorization).toBe('Bearer old');
    now = 60_000;
    expect((await a.requestOptions()).headers.Authorization).toBe('Bearer new');
  });

  it('says what is missing', () => {
    expect(() => inClusterAccess({ dir: serviceAccount(), env: {} })).toThrow(/KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be set/);
    expect(() => inClusterAccess({ dir: join(tmpdir(), 'no-such-sa'), env: { KUBERNETES_SERVICE_HOST: 'h', KUBERNETES_SERVICE_PORT: '1' } })).toThrow(/cannot read the service account's ca.crt/);
    const empty = serviceAccount('');
    expect(() => inClusterAccess({ dir: empty, env: { KUBERNETES_SERVICE_HOST: 'h', KUBERNETES_SERVICE_PORT: '1' } })).toThrow(/token .* is empty/);
  });

  // The process the CLI runs, with a hook that fails any load of @kubernetes/client-node.
  const root = resolve(import.meta.dirname, '../../..');
  const load = (env: Record<string, string>) => spawnSync(process.execPath, [
    '--import', 'tsx', '--import', './test/unit/kube/fixtures/refuse-client-node.mjs', 'test/unit/kube/fixtures/load-access.ts',
  ], { cwd: root, encoding: 'utf8', env: { PATH: process.env.PATH ?? '', HOME: mkdtempSync(join(tmpdir(), 'lvs-home-')), ...env } });

  it('a pod never loads @kubernetes/client-node, nor a kubeconfig file with plain credentials; one with an exec plugin does', () => {
    const dir = serviceAccount();
    const pod = load({ KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443', SA_DIR: dir });
    expect(pod.stderr).not.toMatch(/client-node loaded/);
    expect(pod.status, pod.stderr).toBe(0);
    expect(JSON.parse(pod.stdout)).toEqual({ source: 'in-cluster', server: 'https://10.96.0.1:443' });
    const kubeconfig = join(dir, 'kubeconfig');
    writeFileSync(kubeconfig, 'apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]\nusers: [{name: u, user: {token: t}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n');
    const file = load({ KUBECONFIG: kubeconfig });
    expect(file.stderr).not.toMatch(/client-node loaded/);
    expect(file.status, file.stderr).toBe(0);
    expect(JSON.parse(file.stdout)).toEqual({ source: kubeconfig, server: 'https://127.0.0.1:1' });
    const plugin = join(dir, 'kubeconfig-exec');
    writeFileSync(plugin, 'apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]\nusers: [{name: u, user: {exec: {apiVersion: client.authentication.k8s.io/v1, command: get-token}}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n');
    const execFile = load({ KUBECONFIG: plugin });
    expect(execFile.status).not.toBe(0);
    expect(execFile.stderr).toMatch(/client-node loaded/);
  });
});
