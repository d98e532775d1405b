// The production install, as far as it can be run without a Docker engine:
//  1. what `npm pack` publishes, installed with `npm install --omit=dev <tarball>` (a user's
//     `npm install -g lvs-operator`), runs `lvs-operator --version` and `--help`;
//  2. the Dockerfile's runtime layout (`npm ci --omit=dev` from the lockfile, then the compiled
//     dist/ with its bundle, the bundle's entry symlinked onto PATH) does the same.
// Both compile src/ afresh into a temp dir (never the shared dist/), install from the npm
// registry (or npm's cache) and build the native VRRP addon through the package's install script.
import { spawn } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = resolve(fileURLToPath(new URL('../../..', import.meta.url)));
const pkg = (await import(join(root, 'package.json'), { with: { type: 'json' } })).default as { name: string; version: string };
const addon = join('native', 'build', 'Release', 'packet_socket.node');

interface Result { code: number; stdout: string; stderr: string }

// Children get npm's user config but not the lifecycle variables of an outer `npm run`.
function env(): NodeJS.ProcessEnv {
  const e = { ...process.env };
  for (const k of Object.keys(e)) if (k.startsWith('npm_lifecycle_') || k.startsWith('npm_package_')) delete e[k];
  return e;
}

function run(cmd: string, args: string[], cwd: string): Promise<Result> {
  const child = spawn(cmd, args, { cwd, env: env(), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  return new Promise((res) => {
    child.once('error', (err) => res({ code: 127, stdout, stderr: stderr + String(err) }));
    child.once('close', (code) => res({ code: code ?? 1, stdout, stderr }));
  });
}

async function ok(cmd: string, args: string[], cwd: string): Promise<string> {
  const r = await run(cmd, args, cwd);
  expect(r.code, `${cmd} ${args.join(' ')} (in ${cwd}) failed:\n${r.stderr.slice(-4000)}\n${r.stdout.slice(-2000)}`).toBe(0);
  return r.stdout;
}

const npmQuiet = ['--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'];

let work = '';
let stage = '';
let tarball = '';
let tarballFiles: string[] = [];

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'lvs-prod-install-'));
  stage = join(work, 'stage');
  // Fresh compile of src/ (the Dockerfile's `npm run build`), into the stage only.
  await ok(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(root, 'tsconfig.json'), '--outDir', join(stage, 'dist')], root);
  // Everything else npm would publish from the checkout (package.json "files"), minus the stale dist/.
  const listed = JSON.parse(await ok('npm', ['pack', '--dry-run', '--json', '--loglevel=error'], root)) as { files: { path: string }[] }[];
  for (const { path } of listed[0]!.files) {
    if (path.startsWith('dist/')) continue;
    mkdirSync(dirname(join(stage, path)), { recursive: true });
    cpSync(join(root, path), join(stage, path));
  }
  const packed = JSON.parse(await ok('npm', ['pack', '--json', '--loglevel=error', '--pack-destination', work], stage)) as { filename: string; files: { path: string }[] }[];
  tarball = join(work, packed[0]!.filename);
  tarballFiles = packed[0]!.files.map((f) => f.path);
}, 300_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

async function checkCli(bin: string, cwd: string): Promise<void> {
  const version = await ok(bin, ['--version'], cwd);
  expect(version).toMatch(new RegExp(`^lvs-operator ${pkg.version.replace(/\./g, '\\.')} \\(node v\\d+\\.`));
  const help = await ok(bin, ['--help'], cwd);
  expect(help).toContain('Usage: lvs-operator <command> [flags]');
  expect(help).toMatch(/^\s+controller\s/m);
  expect(help).toMatch(/^\s+agent\s/m);
  expect(await ok(bin, ['help', 'agent'], cwd)).toContain('--state-dir DIR');
  expect(await ok(bin, ['controller', '--help'], cwd)).toContain('--leader-election-namespace NS');
  const bad = await run(bin, ['frobnicate'], cwd);
  expect(bad.code).toBe(2);
  expect(bad.stderr).toContain('unknown command "frobnicate"');
}

/** The addon was built by the install script and loads into this node. */
async function checkAddon(path: string, cwd: string): Promise<void> {
  expect(existsSync(path), `${path} built by the install script`).toBe(true);
  const out = await ok(process.execPath, ['-e', `const b = require(${JSON.stringify(path)}); console.log(typeof b.socket, typeof b.recvStart)`], cwd);
  expect(out.trim()).toBe('function function');
}

describe('npm pack + npm install --omit=dev <tarball>', () => {
  it('publishes the compiled program, the addon sources and the CRDs, and no sources or tests', () => {
    expect(tarballFiles).toEqual(expect.arrayContaining(['package.json', 'dist/cli/main.js', 'dist/agent/daemon.js', 'native/build.mjs', 'native/binding.gyp', 'native/packet_socket.c']));
    expect(tarballFiles.filter((f) => /^(src|test|scripts|bench|e2e|charts|deploy)\//.test(f) || f.startsWith('native/build/'))).toEqual([]);
  });

  it('installs without dev dependencies and runs lvs-operator --version and --help', async () => {
    const app = join(work, 'app');
    mkdirSync(app);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'lvs-install-check', version: '0.0.0', private: true }));
    await ok('npm', ['install', '--omit=dev', ...npmQuiet, tarball], app);
    const installed = join(app, 'node_modules', pkg.name);
    expect(existsSync(join(app, 'node_modules', 'vitest')), 'no dev dependency installed').toBe(false);
    expect(existsSync(join(app, 'node_modules', 'typescript'))).toBe(false);
    await checkCli(join(app, 'node_modules', '.bin', 'lvs-operator'), app);
    await checkAddon(join(installed, addon), app);
  }, 600_000);
});

describe('the Dockerfile runtime layout: npm ci --omit=dev + dist/ + bin on PATH', () => {
  it('runs lvs-operator --version and --help through the symlinked bin', async () => {
    const image = join(work, 'image');
    mkdirSync(join(image, 'native'), { recursive: true });
    for (const f of ['package.json', 'package-lock.json', 'native/binding.gyp', 'native/build.mjs', 'native/packet_socket.c']) cpSync(join(root, f), join(image, f));
    await ok('npm', ['ci', '--omit=dev', ...npmQuiet], image);
    // The Dockerfile's build stage bundles dist/cli/main.js into dist/bundle/ (scripts/bundle.mjs).
    await ok(process.execPath, [join(root, 'scripts', 'bundle.mjs'), join(stage, 'dist')], root);
    cpSync(join(stage, 'dist'), join(image, 'dist'), { recursive: true });
    // RUN chmod 0755 dist/cli/main.js dist/bundle/main.js && ln -s /app/dist/bundle/main.js /usr/local/bin/lvs-operator
    chmodSync(join(image, 'dist', 'bundle', 'main.js'), 0o755);
    mkdirSync(join(work, 'bin'));
    symlinkSync(join(image, 'dist', 'bundle', 'main.js'), join(work, 'bin', 'lvs-operator'));
    expect(existsSync(join(image, 'node_modules', 'vitest')), 'no dev dependency installed').toBe(false);
    await checkCli(join(work, 'bin', 'lvs-operator'), work);
    await checkAddon(join(image, addon), image);
  }, 600_000);
});
