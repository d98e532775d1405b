// Bundles the compiled CLI (dist/cli/main.js, from `tsc`) into dist/bundle/ with esbuild: the
// image runs the bundle. A start then reads a few files instead of some 200 modules and their
// packages, which in the lab kernel was most of an agent's cold start (seconds). Left out: the
// netlink package (native code) and @kubernetes/client-node (loaded lazily, only for kubeconfig
// files with plugins), both still in node_modules. Chunks keep lazy imports lazy. dist/bundle is
// two levels under the package root like dist/cli, so package.json and the addon resolve alike.
import { rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

// `node scripts/bundle.mjs [dist-dir]` (default: this checkout's dist/).
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = resolve(process.argv[2] ?? join(root, 'dist'));
const outdir = join(dist, 'bundle');
rmSync(outdir, { recursive: true, force: true });
await build({
  entryPoints: [join(dist, 'cli', 'main.js')],
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: 'linked',
  external: ['netlink', '@kubernetes/client-node'],
  // Packages from this checkout, also for a dist/ compiled elsewhere (the packaging test's).
  nodePaths: [join(root, 'node_modules')],
  // CommonJS dependencies inside an ES module bundle still call require().
  banner: { js: "import { createRequire as __lvsCreateRequire } from 'node:module'; const require = __lvsCreateRequire(import.meta.url);" },
  logLevel: 'warning',
});
