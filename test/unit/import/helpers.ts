import { resolve } from 'node:path';
import { expect } from 'vitest';
import { parseLvsObject } from '../../../src/api/index.js';
import { type Finding, type ImportedObject, importConfig } from '../../../src/import/index.js';

export const root = resolve(import.meta.dirname, '../../..');
export const fixtures = 'test/unit/import/fixtures';

export interface Imported {
  objects: ImportedObject[];
  findings: Finding[];
  /** The one object of this kind and name (fails the test when absent). */
  get(kind: string, name: string): ImportedObject & { spec: Record<string, any> };
  /** Objects of a kind. */
  all(kind: string): (ImportedObject & { spec: Record<string, any> })[];
  /** The findings at a line of a file (the file's name relative to fixtures/). */
  at(file: string, line: number): Finding[];
}

/** Imports a fixture; every lvs.dev object it emits must validate against the API's schemas. */
export function importFixture(name: string, opts: { namespace?: string; group?: string } = {}): Imported {
  const r = importConfig(`${fixtures}/${name}`, { namespace: opts.namespace ?? 'lvs', group: opts.group, cwd: root });
  for (const o of r.objects) {
    if (o.kind === 'Secret') continue;
    const parsed = parseLvsObject(o);
    expect(parsed.ok, parsed.ok ? '' : parsed.error).toBe(true);
  }
  const all = (kind: string) => r.objects.filter((o) => o.kind === kind) as (ImportedObject & { spec: Record<string, any> })[];
  return {
    ...r,
    all,
    get(kind, objName) {
      const o = all(kind).find((x) => x.metadata.name === objName);
      expect(o, `${kind} ${objName} among ${r.objects.map((x) => `${x.kind}/${x.metadata.name}`).join(', ')}`).toBeDefined();
      return o as ImportedObject & { spec: Record<string, any> };
    },
    at: (file, line) => r.findings.filter((f) => f.file === `${fixtures}/${file}` && f.line === line),
  };
}

/** The message of the one finding at file:line matching `re`, for a readable failure. */
export function expectFinding(r: Imported, file: string, line: number, level: Finding['level'], re: RegExp): void {
  const here = r.at(file, line);
  expect(here.some((f) => f.level === level && re.test(f.message)), `${file}:${line} ${level} ${re} in ${JSON.stringify(here, null, 1)}`).toBe(true);
}
