import { describe, expect, it } from 'vitest';
import { logManifests, manifestFindings } from '../../../src/agent/standalone-report.js';
import { rawSnapshotFromManifests } from '../../../src/agent/source.js';
import { buildSnapshot, resolve } from '../../../src/model/index.js';

const nodes = [{ apiVersion: 'v1', kind: 'Node', metadata: { name: 'd1', labels: { 'lvs.dev/director': 'true' } } }];
const manifests = `
apiVersion: lvs.dev/v1alpha1
kind: DirectorGroup
metadata: {name: edge}
spec: {nodeSelector: {matchLabels: {lvs.dev/director: "true"}}, interface: eth0}
---
apiVersion: lvs.dev/v1alpha1
kind: VirtualService
metadata: {name: slow-check, namespace: web}
spec:
  directorGroup: edge
  vip: 192.0.2.10
  port: 80
  protocol: TCP
  backends: {realServerSelector: {matchLabels: {app: a}}}
  healthCheck: {type: TCP, intervalSeconds: 2, timeoutSeconds: 5}
---
apiVersion: lvs.dev/v1alpha1
kind: VirtualService
metadata: {name: dr, namespace: web}
spec:
  directorGroup: edge
  vip: 192.0.2.11
  port: 80
  protocol: TCP
  forwarding: {method: DR}
  backends: {realServerSelector: {matchLabels: {app: b}}}
---
apiVersion: lvs.dev/v1alpha1
kind: RealServer
metadata: {name: mapped, namespace: web, labels: {app: b}}
spec: {address: 10.0.0.5, port: 8080}
---
apiVersion: lvs.dev/v1alpha1
kind: RealServer
metadata: {name: fine, namespace: web, labels: {app: b}}
spec: {address: 10.0.0.6}
`;

function load(text: string) {
  const snapshot = buildSnapshot(rawSnapshotFromManifests([text], nodes));
  return { snapshot, model: resolve(snapshot) };
}

describe('a standalone agent says what it refuses', () => {
  it('names the object, the field and the reason of every refused or degraded object', () => {
    const { model } = load(manifests);
    const findings = manifestFindings(model);
    const timeout = findings.find((f) => f.object === 'VirtualService web/slow-check');
    expect(timeout).toMatchObject({ level: 'error', reason: 'InvalidSpec' });
    expect(timeout!.message).toMatch(/spec\.healthCheck\.timeoutSeconds: timeoutSeconds must be less than intervalSeconds/);
    const mapped = findings.filter((f) => f.object.endsWith('web/mapped') || f.object === 'VirtualService web/dr');
    expect(mapped.length).toBeGreaterThan(0);
    expect(mapped.map((f) => f.reason)).toContain('PortMappingNotSupported');
    expect(mapped.map((f) => f.message).join('\n')).toMatch(/8080/);
  });

  it('logs each finding at its level, then a summary', () => {
    const { snapshot, model } = load(manifests);
    const lines: [string, Record<string, unknown>, string][] = [];
    const log = {
      error: (o: Record<string, unknown>, m: string) => void lines.push(['error', o, m]),
      warn: (o: Record<string, unknown>, m: string) => void lines.push(['warn', o, m]),
      info: (o: Record<string, unknown>, m: string) => void lines.push(['info', o, m]),
    };
    const summary = logManifests(log as never, snapshot, model);
    expect(lines.filter(([l]) => l === 'error').map(([, o]) => o.object)).toContain('VirtualService web/slow-check');
    expect(lines.at(-1)).toEqual(['info', summary, 'manifests loaded']);
    expect(summary).toMatchObject({ directorGroups: 1, virtualServices: { total: 2, refused: 1 }, realServers: 2, invalid: 1 });
  });

  it('says nothing but the summary for good manifests', () => {
    const good = manifests.split('---').filter((d) => !d.includes('slow-check') && !d.includes('mapped')).join('---');
    const { model } = load(good);
    expect(manifestFindings(model)).toEqual([]);
  });
});

describe('a standalone agent reads VRRPv2 passwords from Secrets in its manifests', () => {
  it('finds data (base64) and stringData keys; a missing Secret or key is undefined', async () => {
    const { FileSource } = await import('../../../src/agent/source.js');
    const { secretKeyReader, vrrpPasswords } = await import('../../../src/agent/vrrp-secrets.js');
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const file = join(mkdtempSync(join(tmpdir(), 'lvs-sa-')), 'm.yaml');
    writeFileSync(file, `
apiVersion: lvs.dev/v1alpha1
kind: DirectorGroup
metadata: {name: edge}
spec:
  nodeSelector: {matchLabels: {lvs.dev/director: "true"}}
  interface: eth0
  vrrp: {version: 2, advertIntervalMs: 1000, authSecretRef: {name: vrrp-auth, namespace: lvs-system}}
---
apiVersion: v1
kind: Secret
metadata: {name: vrrp-auth, namespace: lvs-system}
data: {password: ${Buffer.from('s3cret').toString('base64')}}
---
apiVersion: v1
kind: Secret
metadata: {name: other, namespace: lvs-system}
stringData: {pass: plain}
`);
    const src = new FileSource([file], nodes as never);
    await src.reload();
    const readSecret = secretKeyReader(src.readSecretData);
    expect(await readSecret('lvs-system', 'vrrp-auth', 'password')).toBe('s3cret');
    expect(await readSecret('lvs-system', 'other', 'pass')).toBe('plain');
    expect(await readSecret('lvs-system', 'other', 'nope')).toBeUndefined();
    expect(await readSecret('default', 'vrrp-auth', 'password')).toBeUndefined();
    // Whole Secrets too, base64 as the API serves them (client certificates of HTTPS checks).
    expect(await src.readSecretData('lvs-system', 'other')).toEqual({ pass: Buffer.from('plain').toString('base64') });
    expect(await src.readSecretData('lvs-system', 'missing')).toBeUndefined();
    const silent = { warn: () => {} } as never;
    expect(await vrrpPasswords(resolve(src.snapshot()), ['edge'], readSecret, silent)).toEqual(new Map([['edge', 's3cret']]));
  });
});
