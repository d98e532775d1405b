// Writes deploy/ (kustomize base) and the chart's copy of the CRDs from charts/lvs-operator and
// crds/ (npm run gen:deploy; after `npm run gen:crds` when the API changed). The helm binary comes
// from scripts/k8s-bins.sh (built from Go modules, cached) unless LVS_K8S_BIN_DIR names a dir with
// one. test/api/packaging.test.ts fails when the committed files differ from this output.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chartDir, renderDeploy } from './deploy/render.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

function binDir(): string {
  const fromEnv = process.env['LVS_K8S_BIN_DIR'];
  if (fromEnv) return fromEnv;
  const r = spawnSync('bash', [join(root, 'scripts', 'k8s-bins.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  const dir = r.stdout.trim().split('\n').pop();
  if (r.status !== 0 || !dir) throw new Error(`scripts/k8s-bins.sh failed (exit ${r.status})`);
  return dir;
}

const files = renderDeploy(join(binDir(), 'helm'), root);

// deploy/ and the chart's crds/ hold exactly what is generated: remove leftovers of renamed kinds.
for (const dir of ['deploy', 'deploy/crds', `${chartDir}/crds`]) {
  let names: string[] = [];
  try {
    names = readdirSync(join(root, dir));
  } catch {
    continue;
  }
  for (const name of names) {
    if (name.endsWith('.yaml') && !files.has(`${dir}/${name}`)) rmSync(join(root, dir, name));
  }
}
for (const [path, content] of files) {
  mkdirSync(dirname(join(root, path)), { recursive: true });
  writeFileSync(join(root, path), content);
  console.log(`wrote ${path}`);
}
