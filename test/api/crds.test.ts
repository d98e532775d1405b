// The generated CRDs against a real kube-apiserver: they install, the examples apply,
// defaults and printer columns are what the zod layer and the docs say, kubectl explain
// reads the descriptions, status is per-director under server-side apply, and every
// object of the invalid table is refused at admission with its expected message.
import { readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { apiVersion, kinds, parseLvsObject, type LvsObject } from '../../src/api/index.js';
import { connectApiServer, type KubectlResult } from './harness.js';
import { invalidNamespace, invalidObjects, validAddressPool, validDirectorGroup, validRealServer, validVirtualService } from './invalid-objects.js';

const api = connectApiServer(inject('kubeconfig'), inject('binDir'));
const root = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const crdDir = join(root, 'crds');
const examplesDir = join(root, 'examples');

const crdNames = Object.values(kinds).map((k) => `${k.plural}.lvs.dev`);

function ok(r: KubectlResult): string {
  expect(r.code, `kubectl failed:\n${r.stderr}`).toBe(0);
  return r.stdout;
}

function exampleDocs(): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const f of readdirSync(examplesDir).filter((n) => n.endsWith('.yaml')).sort()) {
    for (const d of parseAllDocuments(readFileSync(join(examplesDir, f), 'utf8'))) out.push(d.toJS() as Record<string, unknown>);
  }
  return out;
}

/** kubectl's table output as rows keyed by header; columns are cut at the header offsets (cells may be empty). */
function table(text: string): Record<string, string>[] {
  const [header = '', ...lines] = text.replace(/\n+$/, '').split('\n');
  const starts = [...header.matchAll(/\S+/g)].map((m) => ({ name: m[0], at: m.index }));
  return lines.map((line) =>
    Object.fromEntries(
      starts.map((c, i) => [c.name, line.slice(c.at, starts[i + 1]?.at ?? line.length).trim()]),
    ),
  );
}

async function ensureNamespace(name: string): Promise<void> {
  const r = await api.kubectl(['create', 'namespace', name]);
  if (r.code !== 0 && !r.stderr.includes('AlreadyExists')) throw new Error(r.stderr);
}

async function installCrds(): Promise<void> {
  ok(await api.kubectl(['apply', '-f', crdDir]));
  ok(await api.kubectl(['wait', '--for=condition=Established', '--timeout=60s', ...crdNames.map((n) => `crd/${n}`)]));
}

describe('CRDs install', () => {
  it('pass a server-side dry run, then apply for real and become Established', async () => {
    const dry = ok(await api.kubectl(['apply', '--dry-run=server', '-f', crdDir]));
    for (const n of crdNames) expect(dry).toContain(n);
    await installCrds();
    for (const n of crdNames) {
      const conditions = JSON.parse(
        ok(await api.kubectl(['get', 'crd', n, '-o', 'jsonpath={.status.conditions}'])),
      ) as { type: string; status: string; message?: string }[];
      expect(conditions.find((c) => c.type === 'Established')?.status).toBe('True');
      // A CRD that is not structural still installs, but gets this condition: it must not.
      expect(conditions.find((c) => c.type === 'NonStructuralSchema')).toBeUndefined();
    }
  });

  it('serve short names and the lvs category', async () => {
    await installCrds();
    const resources = ok(await api.kubectl(['api-resources', '--api-group=lvs.dev', '-o', 'wide', '--no-headers']));
    for (const [short, plural] of [
      ['lvsdg', 'directorgroups'],
      ['lvsvs', 'virtualservices'],
      ['lvsrs', 'realservers'],
    ]) {
      expect(resources).toMatch(new RegExp(`^${plural}\\s+${short}\\s+lvs.dev/v1alpha1`, 'm'));
    }
    expect(resources).toContain('lvs');
    // `kubectl get lvs` lists all three kinds through the category
    ok(await api.kubectl(['get', 'lvs', '-A']));
  });
});

describe('examples', () => {
  beforeAll(async () => {
    await installCrds();
    const namespaces = new Set<string>();
    for (const d of exampleDocs()) {
      const ns = (d['metadata'] as { namespace?: string } | undefined)?.namespace;
      if (ns) namespaces.add(ns);
    }
    for (const ns of namespaces) await ensureNamespace(ns);
  });
  // Other API test files share this server: leave no cluster-scoped DirectorGroups behind.
  // Namespaces stay (lvs-system among them): without kube-controller-manager a deleted one hangs
  // in Terminating and every later file that writes there fails.
  afterAll(async () => {
    const objects = exampleDocs().filter((d) => d && d['kind'] !== 'Namespace');
    ok(await api.kubectl(['delete', '-f', '-', '--ignore-not-found', '--wait=false'], { input: objects.map((o) => JSON.stringify(o)).join('\n') }));
  });

  it('apply cleanly (server-side dry run, then for real)', async () => {
    ok(await api.kubectl(['apply', '--dry-run=server', '-f', examplesDir]));
    const out = ok(await api.kubectl(['apply', '-f', examplesDir]));
    expect(out).toContain('virtualservice.lvs.dev/web');
    expect(out).toContain('directorgroup.lvs.dev/edge');
  });

  it('get the same defaults from the API server as from the zod parsers', async () => {
    ok(await api.kubectl(['apply', '-f', examplesDir]));
    const lvs = exampleDocs().filter((d) => d['apiVersion'] === apiVersion);
    expect(lvs.length).toBeGreaterThanOrEqual(10);
    for (const doc of lvs) {
      const parsed = parseLvsObject(doc);
      expect(parsed.ok).toBe(true);
      if (!parsed.ok) continue;
      const o: LvsObject = parsed.value;
      const nsArgs = o.metadata.namespace ? ['-n', o.metadata.namespace] : [];
      const stored = JSON.parse(
        ok(await api.kubectl(['get', `${o.kind.toLowerCase()}.lvs.dev`, o.metadata.name ?? '', ...nsArgs, '-o', 'json'])),
      ) as { spec: unknown };
      expect([o.kind, o.metadata.name, stored.spec]).toEqual([o.kind, o.metadata.name, o.spec]);
    }
  });

  it('print VirtualServices like ipvsadm -Ln', async () => {
    ok(await api.kubectl(['apply', '-f', examplesDir]));
    const vs = table(ok(await api.kubectl(['get', 'lvsvs', '-n', 'lvs-demo'])));
    expect(Object.keys(vs[0] ?? {})).toEqual([
      'NAME', 'VIP', 'PORT', 'PROTOCOL', 'FWMARK', 'SCHEDULER', 'MODE', 'MASTER', 'HEALTHY', 'TOTAL', 'READY', 'AGE',
    ]);
    const pick = (row: Record<string, string> | undefined, cols: string[]) => cols.map((c) => row?.[c]);
    const cols = ['VIP', 'PORT', 'PROTOCOL', 'FWMARK', 'SCHEDULER', 'MODE', 'MASTER', 'READY'];
    // no controller runs here, so status columns stay empty (the scheduler in effect is one:
    // the spec may leave it to the group's default)
    expect(pick(vs.find((r) => r['NAME'] === 'web'), cols)).toEqual(['192.168.10.100', '80', 'TCP', '', '', 'DR', '', '']);
    expect(pick(vs.find((r) => r['NAME'] === 'dns'), cols)).toEqual(['192.0.2.53', '53', 'UDP', '', '', 'NAT', '', '']);
    expect(pick(vs.find((r) => r['NAME'] === 'shop'), cols)).toEqual(['', '', '', '1', '', 'TUN', '', '']);
    const rs = table(ok(await api.kubectl(['get', 'lvsrs', '-n', 'lvs-demo', 'web-2', 'shop-1'])));
    expect(rs.map((r) => pick(r, ['NAME', 'ADDRESS', 'PORT', 'WEIGHT', 'MODE']))).toEqual([
      ['web-2', '192.168.10.102', '', '2', ''],
      ['shop-1', '203.0.113.11', '', '100', ''],
    ]);
    const dg = table(ok(await api.kubectl(['get', 'lvsdg', 'edge', 'internal'])));
    expect(dg.map((r) => pick(r, ['NAME', 'INTERFACE', 'VRRP']))).toEqual([
      ['edge', 'eth0', '2'],
      ['internal', 'eth1', '3'],
    ]);
  });
});

describe('kubectl explain', () => {
  beforeAll(installCrds);

  it('reads nested field descriptions: lvsvs.spec.healthCheck.http', async () => {
    const out = ok(await api.kubectl(['explain', 'lvsvs.spec.healthCheck.http']));
    expect(out).toMatch(/KIND:\s+VirtualService/);
    expect(out).toMatch(/FIELD:\s+http <Object>/);
    expect(out).toContain('digest');
    expect(out).toContain('expectedStatus');
    expect(out).toContain('keepalived HTTP_GET');
  });

  it('reads a leaf with its enum and default: lvsdg.spec.vrrp.version', async () => {
    const out = ok(await api.kubectl(['explain', 'lvsdg.spec.vrrp.version']));
    expect(out).toContain('RFC 5798');
    expect(out).toMatch(/3/);
  });
});

describe('status', () => {
  const ns = 'lvs-status';
  beforeAll(async () => {
    await installCrds();
    await ensureNamespace(ns);
    const vs = validVirtualService('status-web');
    vs.metadata.namespace = ns;
    ok(await api.kubectl(['apply', '-f', '-'], { input: JSON.stringify(vs) }));
  });
  afterAll(async () => {
    ok(await api.kubectl(['delete', 'lvsvs', 'status-web', '-n', ns, '--ignore-not-found']));
  });

  const applyStatus = (manager: string, status: unknown) =>
    api.kubectl(
      ['apply', '--server-side', '--subresource=status', `--field-manager=${manager}`, '-f', '-'],
      {
        input: JSON.stringify({
          apiVersion,
          kind: 'VirtualService',
          metadata: { name: 'status-web', namespace: ns },
          status,
        }),
      },
    );

  it('keeps one directors[] entry per node, each owned by its own field manager', async () => {
    ok(await applyStatus('lvs-agent-node-a', { directors: [{ node: 'node-a', vrrpState: 'Master', healthy: 2, total: 2 }] }));
    ok(await applyStatus('lvs-agent-node-b', { directors: [{ node: 'node-b', vrrpState: 'Backup', healthy: 1, total: 2 }] }));
    // node-a updates its own entry without conflicting with node-b
    ok(await applyStatus('lvs-agent-node-a', { directors: [{ node: 'node-a', vrrpState: 'Master', healthy: 1, total: 2 }] }));
    const got = JSON.parse(
      ok(await api.kubectl(['get', 'lvsvs', 'status-web', '-n', ns, '-o', 'jsonpath={.status.directors}'])),
    ) as { node: string; healthy: number }[];
    expect(got.map((d) => [d.node, d.healthy]).sort()).toEqual([
      ['node-a', 1],
      ['node-b', 1],
    ]);
  });

  it('validates status too', async () => {
    const r = await applyStatus('lvs-agent-node-c', { directors: [{ node: 'node-c', vrrpState: 'Leader' }] });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('Unsupported value: "Leader"');
  });
});

describe('admission refuses invalid objects', () => {
  beforeAll(async () => {
    await installCrds();
    await ensureNamespace(invalidNamespace);
  });

  it('has a table of at least 25 cases', () => {
    expect(invalidObjects.length).toBeGreaterThanOrEqual(25);
  });

  it('accepts the valid base objects the cases start from', async () => {
    for (const obj of [validVirtualService(), validRealServer(), validDirectorGroup(), validAddressPool()]) {
      ok(await api.kubectl(['create', '--dry-run=server', '-f', '-'], { input: JSON.stringify(obj) }));
    }
  });

  it.each(invalidObjects.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const r = await api.kubectl(['create', '--dry-run=server', '-f', '-'], { input: JSON.stringify(c.object) });
    expect(r.code, `accepted:\n${r.stdout}`).not.toBe(0);
    expect(r.stderr).toContain('is invalid');
    expect(r.stderr).toContain(c.server);
  });
});
