// `kubectl lvs` as krew installs it: `npm run package:kubectl-plugin` builds the archive and
// manifest, the real krew (scripts/k8s-bins.sh, K8S_BINS_KREW=1) installs them into a temporary
// KREW_ROOT, and every subcommand then runs through kubectl with a PATH that holds no node, so
// only the archive's own Node.js can run it: against a real HTTP server (genhash), a keepalived
// corpus file (import) and this tier's API server (status). The custom-index way of
// docs/kubectl-plugin.md is followed too: a git repository as index, the archive over HTTP.
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { kinds } from '../../src/api/index.js';
import { connectApiServer, type KubectlResult } from './harness.js';

const root = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const api = connectApiServer(inject('kubeconfig'), inject('binDir'));
const ns = 'lvs-kubectl-plugin';
const work = mkdtempSync(join(tmpdir(), 'lvs-kubectl-plugin-'));
const krewRoot = join(work, 'krew');
const tools = join(work, 'tools');
const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
const nodePin = /^NODE_VERSION=(\S+)$/m.exec(readFileSync(join(root, 'scripts', 'image', 'build.sh'), 'utf8'))?.[1];

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env, cwd = root): Promise<KubectlResult> {
  const child = spawn(cmd, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  return new Promise((res, rej) => {
    child.on('error', rej);
    child.on('close', (code) => res({ code: code ?? -1, stdout, stderr }));
  });
}

/**
 * A user's shell without Node: krew's bin dir, kubectl, kubectl-krew, readlink (the one tool the
 * archive's launcher runs) and git (krew clones indexes with it); nothing else, so no node.
 * HOME is ours: kubectl and krew write there.
 */
const plain = (extra: Record<string, string> = {}, krew = krewRoot): NodeJS.ProcessEnv => ({
  PATH: `${join(krew, 'bin')}:${tools}`, HOME: work, KREW_ROOT: krew, KREW_NO_UPGRADE_CHECK: '1', ...extra,
});
const kubectl = (args: string[], extra?: Record<string, string>, krew?: string): Promise<KubectlResult> => run('kubectl', args, plain(extra, krew));

function ok(r: KubectlResult, what: string): string {
  expect(r.code, `${what} failed (exit ${r.code}):\n${r.stderr}\n${r.stdout.slice(0, 2000)}`).toBe(0);
  return r.stdout;
}

let built: { archive: string; manifest: string; sha256: string; bytes: number };
// Serves the archive at archiveUrl, as a release's download site would (the custom-index install).
let downloads = 0;
const files: Server = createServer((req, res) => {
  if (built && req.url === `/${basename(built.archive)}`) {
    downloads++;
    res.writeHead(200, { 'content-type': 'application/gzip' }).end(readFileSync(built.archive));
  } else {
    res.writeHead(404).end();
  }
});
let archiveUrl = '';

beforeAll(async () => {
  // Cached after the first build; a fresh machine builds krew here (scripts/setup.sh does it earlier).
  const bins = await run('env', ['K8S_BINS_KREW=1', `K8S_BINS_SKIP_HELM=${process.env['K8S_BINS_SKIP_HELM'] ?? ''}`, 'bash', join(root, 'scripts', 'k8s-bins.sh')]);
  const binDir = ok(bins, 'K8S_BINS_KREW=1 scripts/k8s-bins.sh').trim().split('\n').pop()!;
  mkdirSync(tools);
  symlinkSync(join(binDir, 'kubectl'), join(tools, 'kubectl'));
  symlinkSync(join(binDir, 'kubectl-krew'), join(tools, 'kubectl-krew'));
  for (const tool of ['readlink', 'git']) symlinkSync(ok(await run('sh', ['-c', `command -v ${tool}`]), `find ${tool}`).trim(), join(tools, tool));

  await new Promise<void>((r) => files.listen(0, '127.0.0.1', r));
  archiveUrl = `http://127.0.0.1:${(files.address() as AddressInfo).port}/kubectl-lvs-v${version}-linux-amd64.tar.gz`;
  const script = join(root, 'scripts', 'package-kubectl-plugin.ts');
  const out = ok(await run(process.execPath, ['--import', 'tsx', script, '--out', join(work, 'out'), '--uri', archiveUrl]), 'npm run package:kubectl-plugin');
  built = JSON.parse(out.trim().split('\n').pop()!) as typeof built;
  ok(await kubectl(['krew', 'install', `--manifest=${built.manifest}`, `--archive=${built.archive}`]), 'kubectl krew install');

  const created = await api.kubectl(['create', 'namespace', ns]);
  if (created.code !== 0) expect(created.stderr).toContain('AlreadyExists');
  ok(await api.kubectl(['apply', '-f', join(root, 'crds')]), 'apply CRDs');
  ok(await api.kubectl(['wait', '--for=condition=Established', '--timeout=60s', ...Object.values(kinds).map((k) => `crd/${k.plural}.lvs.dev`)]), 'wait CRDs');
});

afterAll(async () => {
  await new Promise((r) => files.close(r));
  rmSync(work, { recursive: true, force: true });
});

describe('the krew archive and manifest', () => {
  it('the manifest names the plugin, its version and the sha256 of the archive built', () => {
    const m = parse(readFileSync(built.manifest, 'utf8')) as { kind: string; metadata: { name: string }; spec: { version: string; platforms: { uri: string; sha256: string; bin: string; selector: unknown }[] } };
    expect(m.kind).toBe('Plugin');
    expect(m.metadata.name).toBe('lvs');
    expect(m.spec.version).toBe(`v${version}`);
    expect(m.spec.platforms).toHaveLength(1);
    expect(m.spec.platforms[0]!.selector).toEqual({ matchLabels: { os: 'linux', arch: 'amd64' } });
    expect(m.spec.platforms[0]!.bin).toBe('kubectl-lvs');
    expect(m.spec.platforms[0]!.uri).toBe(archiveUrl);
    expect(m.spec.platforms[0]!.sha256).toBe(createHash('sha256').update(readFileSync(built.archive)).digest('hex'));
  });

  it('the test shell has no node: only the archive can run the plugin', async () => {
    const r = await run('/bin/sh', ['-c', 'command -v node'], plain());
    expect(r.code, `node found at ${r.stdout}`).not.toBe(0);
  });

  it('kubectl lvs version: the package version on the Node.js of the archive', async () => {
    expect(nodePin).toBeDefined();
    expect(ok(await kubectl(['lvs', 'version']), 'kubectl lvs version')).toBe(`lvs-operator ${version} (node v${nodePin})\n`);
  });

  it('installs from a custom index: a git repository with plugins/lvs.yaml, the archive downloaded from --uri', async () => {
    const index = join(work, 'index');
    mkdirSync(join(index, 'plugins'), { recursive: true });
    writeFileSync(join(index, 'plugins', 'lvs.yaml'), readFileSync(built.manifest));
    for (const args of [['init', '-q'], ['add', 'plugins/lvs.yaml'], ['-c', 'user.name=test', '-c', 'user.email=test@example.invalid', 'commit', '-q', '-m', 'lvs']]) {
      ok(await run('git', args, process.env, index), `git ${args.join(' ')}`);
    }
    const other = join(work, 'krew-index');
    ok(await kubectl(['krew', 'index', 'add', 'lvs-operator', index], {}, other), 'kubectl krew index add');
    const before = downloads;
    ok(await kubectl(['krew', 'install', 'lvs-operator/lvs'], {}, other), 'kubectl krew install lvs-operator/lvs');
    expect(downloads).toBe(before + 1);
    expect(ok(await kubectl(['lvs', 'version'], {}, other), 'kubectl lvs version')).toBe(`lvs-operator ${version} (node v${nodePin})\n`);
  });
});

describe('kubectl lvs, installed by krew', () => {
  it('genhash prints the MD5 of a real server’s chunked page body', async () => {
    const body = randomBytes(70_000);
    const server: Server = createServer((_req, res) => {
      // No content-length: chunked, which genhash must take apart before hashing.
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      for (let i = 0; i < body.length; i += 16_384) res.write(body.subarray(i, i + 16_384));
      res.end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const { port } = server.address() as AddressInfo;
      const r = await kubectl(['lvs', 'genhash', '--url', `http://127.0.0.1:${port}/health`]);
      expect(ok(r, 'kubectl lvs genhash')).toBe(`MD5SUM = ${createHash('md5').update(body).digest('hex')}\n`);
      expect(r.stderr).toContain(`HTTP status 200, ${body.length} bytes`);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });

  it('import turns a keepalived.conf into objects the API server accepts', async () => {
    const conf = join(root, 'test', 'unit', 'import', 'fixtures', 'corpus', 'kernel-parity.conf');
    const yaml = ok(await kubectl(['lvs', 'import', '--namespace', ns, conf]), 'kubectl lvs import');
    const objs = parseAllDocuments(yaml).map((d) => d.toJS() as { apiVersion: string; kind: string; metadata: { namespace?: string } });
    const count = (kind: string): number => objs.filter((o) => o.kind === kind).length;
    expect({ DirectorGroup: count('DirectorGroup'), VirtualService: count('VirtualService'), RealServer: count('RealServer') })
      .toEqual({ DirectorGroup: 1, VirtualService: 4, RealServer: 6 });
    expect(objs).toHaveLength(11);
    for (const o of objs) {
      expect(o.apiVersion).toBe('lvs.dev/v1alpha1');
      expect(o.metadata.namespace).toBe(o.kind === 'DirectorGroup' ? undefined : ns);
    }
    const dry = ok(await api.kubectl(['apply', '--dry-run=server', '-f', '-'], { input: yaml }), 'server dry run of the import');
    expect(dry.match(/\(server dry run\)/g)).toHaveLength(11);
  });

  it('status without agents says so in one line (no stack trace), exit 1', async () => {
    const r = await kubectl(['lvs', 'status', '-n', ns], { KUBECONFIG: api.kubeconfigPath });
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`lvs-operator status: no running agent pods in ${ns} match app.kubernetes.io/component=agent\n`);
    expect(r.code).toBe(1);
  });

  it('status reaches the API server with the kubeconfig’s credentials (a user without rights is refused)', async () => {
    const nobody = await api.kubeconfigFor('lvs-plugin-nobody');
    const r = await kubectl(['lvs', 'status', '-n', ns], { KUBECONFIG: nobody });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('pods is forbidden: User "lvs-plugin-nobody" cannot list resource "pods"');
  });
});
