// Writes crds/*.yaml and docs/api.md from the zod schemas in src/api/ (npm run gen:crds).
// test/unit/api/crds-up-to-date.test.ts fails when the committed files differ from this output.
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderAll } from '../src/api/crd/render.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const files = renderAll();

// Remove CRD files of kinds that no longer exist, so crds/ holds exactly what is generated.
for (const name of readdirSync(join(root, 'crds'))) {
  if (name.endsWith('.yaml') && !files.has(`crds/${name}`)) rmSync(join(root, 'crds', name));
}
for (const [path, content] of files) {
  mkdirSync(dirname(join(root, path)), { recursive: true });
  writeFileSync(join(root, path), content);
  console.log(`wrote ${path}`);
}
