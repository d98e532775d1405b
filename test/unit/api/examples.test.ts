import { readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { apiVersion, parseLvsObject, type LvsObject } from '../../../src/api/index.js';

const dir = resolve(fileURLToPath(new URL('../../../examples', import.meta.url)));
const files = readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort();
/** Files with lvs.dev objects (00-namespaces.yaml holds only the namespaces they need). */
const serviceFiles = files.filter((f) => !f.startsWith('00-'));

function docs(file: string): Record<string, unknown>[] {
  return parseAllDocuments(readFileSync(join(dir, file), 'utf8')).map((d) => {
    expect(d.errors).toEqual([]);
    return d.toJS() as Record<string, unknown>;
  });
}

function lvsObjects(): LvsObject[] {
  const out: LvsObject[] = [];
  for (const f of files) {
    for (const d of docs(f)) {
      if (d['apiVersion'] !== apiVersion) continue;
      const r = parseLvsObject(d);
      if (r.ok) out.push(r.value);
    }
  }
  return out;
}

describe('examples/', () => {
  it('creates every namespace the examples use, in a file applied first', () => {
    const namespaces = new Set(docs('00-namespaces.yaml').filter((d) => d['kind'] === 'Namespace').map((d) => (d['metadata'] as { name: string }).name));
    const used = serviceFiles.flatMap((f) => docs(f).map((d) => (d['metadata'] as { namespace?: string }).namespace).filter((n): n is string => !!n));
    expect([...new Set(used)].filter((n) => !namespaces.has(n))).toEqual([]);
  });

  it.each(serviceFiles)('%s: every lvs.dev object validates', (file) => {
    const lvs = docs(file).filter((d) => d['apiVersion'] === apiVersion);
    expect(lvs.length).toBeGreaterThan(0);
    for (const d of lvs) {
      const r = parseLvsObject(d);
      expect(r.ok, r.ok ? '' : r.error).toBe(true);
    }
  });

  it('covers the classic DR web service, a Service-backed NAT service, UDP DNS, a persistent fwmark service and active-active over BGP', () => {
    const all = lvsObjects();
    const vs = (name: string) => all.find((o) => o.kind === 'VirtualService' && o.metadata.name === name);
    const web = vs('web');
    expect(web?.kind === 'VirtualService' && web.spec).toMatchObject({
      vip: '192.168.10.100',
      port: 80,
      protocol: 'TCP',
      scheduler: 'wrr',
      forwarding: { method: 'DR' },
      healthCheck: { type: 'TCP' },
    });
    const weights = all
      .filter((o) => o.kind === 'RealServer' && o.metadata.labels?.['app'] === 'web')
      .map((o) => (o.kind === 'RealServer' ? o.spec.weight : -1))
      .sort();
    expect(weights).toEqual([1, 2]);
    const api = vs('api');
    expect(api?.kind === 'VirtualService' && api.spec.backends.service?.name).toBe('api');
    expect(api?.kind === 'VirtualService' && api.spec.forwarding.method).toBe('NAT');
    const dns = vs('dns');
    expect(dns?.kind === 'VirtualService' && dns.spec).toMatchObject({ port: 53, protocol: 'UDP', healthCheck: { type: 'UDP' } });
    const https = vs('shop-https');
    expect(https?.kind === 'VirtualService' && https.spec.healthChecks?.map((c) => c.type)).toEqual(['TCP', 'HTTPS']);
    const shop = vs('shop');
    expect(shop?.kind === 'VirtualService' && shop.spec).toMatchObject({ fwmark: 1, persistence: { timeoutSeconds: 600 } });
    // active-active over BGP: the group announces to two routers, its service leaves the scheduler to the group (mh)
    const anycast = all.find((o) => o.kind === 'DirectorGroup' && o.metadata.name === 'anycast');
    expect(anycast?.kind === 'DirectorGroup' && anycast.spec).toMatchObject({ announce: 'BGP', bgp: { localASN: 65010, peers: [{ asn: 65000 }, { asn: 65000 }] } });
    const aw = vs('anycast-web');
    expect(aw?.kind === 'VirtualService' && [aw.spec.scheduler, aw.spec.forwarding.method, aw.spec.directorGroup]).toEqual([undefined, 'DR', 'anycast']);
    // every VirtualService names a DirectorGroup the examples define
    const groups = new Set(all.filter((o) => o.kind === 'DirectorGroup').map((o) => o.metadata.name));
    for (const o of all) if (o.kind === 'VirtualService') expect(groups).toContain(o.spec.directorGroup);
  });

  it('uses only documentation, private or example addresses', () => {
    for (const f of files) {
      const text = readFileSync(join(dir, f), 'utf8');
      for (const ip of text.match(/\b\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\b/g) ?? []) {
        expect([f, ip]).toSatisfy(([, a]: string[]) =>
          /^(10\.|192\.168\.|192\.0\.2\.|198\.51\.100\.|203\.0\.113\.|255\.)/.test(a ?? ''),
        );
      }
    }
  });
});
