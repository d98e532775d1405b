import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, describe, expect, it } from 'vitest';
import { fromClientNodeKubeConfig } from '../../../src/kube/config.js';
import { staticKubeconfig } from '../../../src/kube/kubeconfig-file.js';

// Kubeconfig files with plain credentials are read without client-node; client-node's KubeConfig
// is the reference (its twin): both must give every request the same TLS material and headers.
const dir = mkdtempSync(join(tmpdir(), 'kubeconfig-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const b64 = (s: string): string => Buffer.from(s).toString('base64');

function write(name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

const config = (user: string, cluster = `certificate-authority-data: ${b64('CA')}`) => `apiVersion: v1
kind: Config
current-context: main
clusters:
- name: c1
  cluster:
    server: https://192.0.2.1:6443
    ${cluster}
- name: c2
  cluster: {server: https://192.0.2.2:6443, insecure-skip-tls-verify: true, tls-server-name: api.example}
users:
- name: u1
  user:
${user.split('\n').map((l) => `    ${l}`).join('\n')}
contexts:
- name: main
  context: {cluster: c1, user: u1, namespace: ops}
- name: other
  context: {cluster: c2, user: u1}
`;

async function both(file: string, context?: string) {
  const kc = new KubeConfig();
  kc.loadFromFile(file);
  if (context) kc.setCurrentContext(context);
  const ref = fromClientNodeKubeConfig(kc, file);
  const ours = staticKubeconfig(file, context);
  if (!ours) throw new Error('expected a static kubeconfig');
  const clean = (o: object) => JSON.parse(JSON.stringify(o)) as unknown;
  return { ours: { server: ours.server, namespace: ours.namespace, req: clean(await ours.requestOptions()) }, ref: { server: ref.server, namespace: ref.namespace, req: clean(await ref.requestOptions()) } };
}

describe('kubeconfig files without client-node', () => {
  it('client certificate and key as data: as client-node reads them', async () => {
    const { ours, ref } = await both(write('data.yaml', config(`client-certificate-data: ${b64('CERT')}\nclient-key-data: ${b64('KEY')}`)));
    expect(ours).toEqual(ref);
    expect(ours).toMatchObject({ server: 'https://192.0.2.1:6443', namespace: 'ops' });
    expect(ours.req).toMatchObject({ ca: { type: 'Buffer' }, cert: { type: 'Buffer' }, key: { type: 'Buffer' }, headers: {} });
  });

  it('files relative to the kubeconfig, a bearer token, another context with insecure TLS and a server name', async () => {
    mkdirSync(join(dir, 'pki'), { recursive: true });
    writeFileSync(join(dir, 'pki', 'ca.crt'), 'CA');
    writeFileSync(join(dir, 'pki', 'c.crt'), 'CERT');
    writeFileSync(join(dir, 'pki', 'c.key'), 'KEY');
    const files = write('files.yaml', config('client-certificate: pki/c.crt\nclient-key: pki/c.key', 'certificate-authority: pki/ca.crt'));
    const a = await both(files);
    expect(a.ours).toEqual(a.ref);
    expect(Buffer.from((a.ours.req as { ca: { data: number[] } }).ca.data).toString()).toBe('CA');
    const token = write('token.yaml', config('token: s3cret'));
    const t = await both(token, 'other');
    expect(t.ours).toEqual(t.ref);
    expect(t.ours.req).toMatchObject({ headers: { Authorization: 'Bearer s3cret' }, rejectUnauthorized: false, servername: 'api.example' });
  });

  it('a token file is read (and re-read as it rotates); basic auth', async () => {
    writeFileSync(join(dir, 'tok'), 'first\n');
    let now = 0;
    const access = staticKubeconfig(write('tokfile.yaml', config('tokenFile: tok')), undefined, () => now)!;
    expect((await access.requestOptions()).headers).toEqual({ Authorization: 'Bearer first' });
    writeFileSync(join(dir, 'tok'), 'second\n');
    expect((await access.requestOptions()).headers).toEqual({ Authorization: 'Bearer first' });
    now = 61_000;
    expect((await access.requestOptions()).headers).toEqual({ Authorization: 'Bearer second' });
    const basic = await both(write('basic.yaml', config('username: ann\npassword: pw')));
    expect(basic.ours).toEqual(basic.ref);
  });

  it('plugins and impersonation are left to client-node; broken files say what is missing', () => {
    expect(staticKubeconfig(write('exec.yaml', config('exec: {apiVersion: client.authentication.k8s.io/v1, command: get-token}')))).toBeUndefined();
    expect(staticKubeconfig(write('ap.yaml', config('auth-provider: {name: oidc}')))).toBeUndefined();
    expect(staticKubeconfig(write('as.yaml', config('token: t\nas: someone')))).toBeUndefined();
    expect(() => staticKubeconfig(write('none.yaml', config('token: t')), 'missing')).toThrow(/no context named "missing"/);
    expect(() => staticKubeconfig(write('gone.yaml', config('client-certificate: nowhere.crt\nclient-key: nowhere.key')))).toThrow(/nowhere\.crt/);
  });
});
