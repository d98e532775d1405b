import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { buildCrd, buildCrds } from '../../../src/api/crd/crds.js';
import { StructuralSchemaError, allowedKeys, toStructural, walk, type SchemaNode } from '../../../src/api/crd/structural.js';

const crds = buildCrds();
const schemaOf = (kind: 'VirtualService' | 'RealServer' | 'DirectorGroup') =>
  buildCrd(kind).spec.versions[0]!.schema.openAPIV3Schema;

function at(root: SchemaNode, path: string): SchemaNode {
  let node = root;
  for (const part of path.split('.')) {
    const next = part === '[]' ? node.items : node.properties?.[part];
    if (!next) throw new Error(`no ${part} in ${path}`);
    node = next;
  }
  return node;
}

describe('generated CRDs are structural', () => {
  it.each(crds.map((c) => [c.spec.names.kind, c] as const))('%s', (_kind, crd) => {
    const root = crd.spec.versions[0]!.schema.openAPIV3Schema;
    const allowed = new Set<string>(allowedKeys);
    walk(root, (node, path) => {
      // every node has a type, or is int-or-string
      expect([path, node.type !== undefined || node['x-kubernetes-int-or-string'] === true]).toEqual([path, true]);
      for (const key of Object.keys(node)) expect([path, key, allowed.has(key)]).toEqual([path, key, true]);
      // every field (not only objects) is described; metadata is the API server's own and may carry nothing
      if (path !== '' && path !== 'metadata' && !path.endsWith('[]') && !path.endsWith('{}')) {
        expect([path, !!node.description]).toEqual([path, true]);
      }
      // properties and additionalProperties never together; a list map's keys are required fields
      expect(node.properties && node.additionalProperties).toBeFalsy();
      if (node['x-kubernetes-list-type'] === 'map') {
        for (const key of node['x-kubernetes-list-map-keys'] ?? []) expect(node.items?.required).toContain(key);
      }
      if (node['x-kubernetes-list-type'] === 'set') expect(['string', 'integer']).toContain(node.items?.type);
    });
    expect(JSON.stringify(root)).not.toMatch(/"(\$ref|anyOf|oneOf|allOf|not|\$defs|definitions|const|propertyNames|uniqueItems)"/);
    // the only preserve-unknown-fields allowed would be for metadata, which Kubernetes handles itself
    expect(JSON.stringify(root)).not.toContain('x-kubernetes-preserve-unknown-fields');
    expect(root.properties?.['metadata']).toEqual({ type: 'object' });
  });
});

describe('CRD shape', () => {
  it('has names, scope, category, status subresource and one served storage version', () => {
    const byKind = Object.fromEntries(crds.map((c) => [c.spec.names.kind, c]));
    expect(byKind['VirtualService']?.metadata.name).toBe('virtualservices.lvs.dev');
    expect(byKind['DirectorGroup']?.spec.scope).toBe('Cluster');
    expect(byKind['RealServer']?.spec.scope).toBe('Namespaced');
    for (const crd of crds) {
      expect(crd.spec.group).toBe('lvs.dev');
      expect(crd.spec.names.categories).toEqual(['lvs']);
      expect(crd.spec.versions).toHaveLength(1);
      expect(crd.spec.versions[0]).toMatchObject({ name: 'v1alpha1', served: true, storage: true, subresources: { status: {} } });
    }
    expect(crds.map((c) => c.spec.names.shortNames[0]).sort()).toEqual(['lvsdg', 'lvspool', 'lvsrs', 'lvsvs']);
  });

  it('prints VirtualServices like ipvsadm -Ln', () => {
    const cols = buildCrd('VirtualService').spec.versions[0]!.additionalPrinterColumns;
    expect(cols.map((c) => c.name)).toEqual(['VIP', 'Port', 'Protocol', 'FWMark', 'Scheduler', 'Mode', 'Master', 'Healthy', 'Total', 'Ready', 'Age']);
    expect(cols.find((c) => c.name === 'Ready')?.jsonPath).toBe('.status.conditions[?(@.type=="Ready")].status');
    expect(cols.find((c) => c.name === 'Healthy')?.jsonPath).toBe('.status.backends.healthy');
  });

  it('keys status.directors by node so each agent owns its entry under server-side apply', () => {
    const directors = at(schemaOf('VirtualService'), 'status.directors');
    expect(directors['x-kubernetes-list-type']).toBe('map');
    expect(directors['x-kubernetes-list-map-keys']).toEqual(['node']);
    expect(at(schemaOf('RealServer'), 'status.directors')['x-kubernetes-list-map-keys']).toEqual(['node']);
    expect(at(schemaOf('VirtualService'), 'status.conditions')['x-kubernetes-list-map-keys']).toEqual(['type']);
  });

  it('spells name-or-number ports and netmasks as int-or-string, with a bounded length for CEL', () => {
    for (const path of ['spec.backends.service.port', 'spec.persistence.netmask']) {
      const node = at(schemaOf('VirtualService'), path);
      expect(node['x-kubernetes-int-or-string']).toBe(true);
      expect(node.type).toBeUndefined();
      expect(node.maxLength).toBe(15);
    }
  });

  it('carries defaults; parent objects default to their children spelled out, so their CEL rules hold', () => {
    const spec = at(schemaOf('VirtualService'), 'spec');
    expect(at(spec, 'forwarding').default).toEqual({ method: 'NAT' });
    expect(at(spec, 'forwarding.method').default).toBe('NAT');
    // No default check object: the model gives real servers one check of the service protocol.
    expect(at(spec, 'healthCheck').default).toBeUndefined();
    expect(at(spec, 'healthCheck.intervalSeconds').default).toBe(5);
    expect(at(spec, 'healthChecks.[].dns.queryType').default).toBe('SOA');
    expect(at(schemaOf('DirectorGroup'), 'spec.sync').default).toEqual({ enabled: false, syncId: 0 });
    // No default in the schema: the model picks wlc, or mh with mh-port in a BGP group.
    expect(at(spec, 'scheduler').default).toBeUndefined();
    expect(at(schemaOf('DirectorGroup'), 'spec.vrrp.version')).toMatchObject({ type: 'integer', enum: [2, 3], default: 3 });
    expect(spec.required).toEqual(['backends', 'directorGroup']);
  });

  it('bounds every list and every string a CEL rule reads', () => {
    for (const crd of crds) {
      walk(crd.spec.versions[0]!.schema.openAPIV3Schema, (node, path) => {
        if (node.type === 'array') expect([path, node.maxItems !== undefined]).toEqual([path, true]);
        if (node.type === 'string' && node['x-kubernetes-validations']) {
          expect([path, node.maxLength !== undefined]).toEqual([path, true]);
        }
      });
    }
  });

  it('puts the cross-field rules where the API server evaluates them', () => {
    const rules = (path: string) => (at(schemaOf('VirtualService'), path)['x-kubernetes-validations'] ?? []).map((v) => v.rule);
    expect(rules('spec')).toContain('has(self.vip) != has(self.fwmark)');
    expect(rules('spec.healthCheck')).toContain('self.timeoutSeconds < self.intervalSeconds');
    expect(rules('spec.forwarding')).toContain("!has(self.tunnelType) || self.method == 'TUN'");
    const vrrp = at(schemaOf('DirectorGroup'), 'spec.vrrp')['x-kubernetes-validations'] ?? [];
    expect(vrrp.map((v) => v.message)).toContain('authSecretRef is only allowed with VRRP version 2 (RFC 5798 removed authentication)');
  });
});

describe('toStructural refuses what a CRD cannot hold', () => {
  it('refuses unions, undescribed fields and unknown keywords', () => {
    const union = z.object({ a: z.union([z.string(), z.boolean()]).describe('a') });
    expect(() => toStructural(z.toJSONSchema(union, { target: 'openapi-3.0' }) as Record<string, unknown>)).toThrow(StructuralSchemaError);
    const undescribed = z.object({ a: z.string() });
    expect(() => toStructural(z.toJSONSchema(undescribed, { target: 'openapi-3.0' }) as Record<string, unknown>)).toThrow(
      'a: every field needs a description',
    );
    expect(() => toStructural({ type: 'string', description: 'x', uniqueItems: true })).toThrow('uniqueItems');
  });
});
