import { readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { renderAll } from '../../../src/api/crd/render.js';

const root = resolve(fileURLToPath(new URL('../../..', import.meta.url)));

// crds/ and docs/api.md are generated from src/api/; a schema change without
// `npm run gen:crds` fails here instead of shipping stale CRDs.
describe('generated files are up to date (run `npm run gen:crds` if this fails)', () => {
  const files = renderAll();

  it('generates twice the same bytes', () => {
    expect(renderAll()).toEqual(files);
  });

  it.each([...files.keys()])('%s', (path) => {
    expect(readFileSync(join(root, path), 'utf8')).toBe(files.get(path));
  });

  it('crds/ holds no other CRD file', () => {
    const onDisk = readdirSync(join(root, 'crds')).filter((f) => f.endsWith('.yaml')).map((f) => `crds/${f}`);
    expect(onDisk.sort()).toEqual([...files.keys()].filter((p) => p.startsWith('crds/')).sort());
  });
});
