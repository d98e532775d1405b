// The chart and deploy/ carry copies of crds/ (Helm installs CRDs only from the chart's own
// crds/, kustomize loads nothing outside its directory). They must be byte-identical to the
// generated ones; `npm run gen:deploy` refreshes both.
import { readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = resolve(fileURLToPath(new URL('../../..', import.meta.url)));
const yamlIn = (dir: string): string[] => readdirSync(join(root, dir)).filter((f) => f.endsWith('.yaml')).sort();
const source = yamlIn('crds');

describe.each(['charts/lvs-operator/crds', 'deploy/crds'])('%s (run `npm run gen:deploy` if this fails)', (dir) => {
  it('has the same CRD files as crds/', () => {
    expect(source.length).toBeGreaterThan(0);
    expect(yamlIn(dir)).toEqual(source);
  });

  it.each(source)('%s is identical to crds/', (name) => {
    expect(readFileSync(join(root, dir, name), 'utf8')).toBe(readFileSync(join(root, 'crds', name), 'utf8'));
  });
});
