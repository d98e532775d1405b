// Static checks of the Dockerfile (the image itself is built and run by
// `bash scripts/image/build.sh check`, which needs root and takes minutes the first time):
// every file it copies from the build context exists and passes the allow-list .dockerignore,
// and the image runs the package's own bin on a supported Node LTS.
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = resolve(fileURLToPath(new URL('../../..', import.meta.url)));
const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { bin: Record<string, string>; engines: { node: string }; scripts: Record<string, string> };

/** Instructions with line continuations joined and comments dropped. */
function instructions(text: string): string[] {
  return text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
}

/** Sources of `COPY` from the build context (not `--from=<stage>`). */
function contextCopies(): string[] {
  return instructions(dockerfile)
    .filter((l) => /^COPY\s/i.test(l) && !/--from=/.test(l))
    .flatMap((l) => l.split(/\s+/).slice(1).filter((w) => !w.startsWith('--')).slice(0, -1));
}

/** The .dockerignore allow-list: `*` first, then `!path` entries (a trailing / allows a tree). */
function allowed(path: string): boolean {
  const lines = readFileSync(join(root, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  expect(lines[0], '.dockerignore starts by ignoring everything').toBe('*');
  return lines.some((l) => l.startsWith('!') && (l.slice(1) === path || (l.endsWith('/') && path.startsWith(l.slice(1)))));
}

describe('Dockerfile', () => {
  it('copies only files that exist and that .dockerignore lets through', () => {
    const sources = contextCopies();
    expect(sources).toEqual(expect.arrayContaining(['package.json', 'package-lock.json', 'native/packet_socket.c', 'src/']));
    for (const s of sources) {
      expect(existsSync(join(root, s)), `${s} exists`).toBe(true);
      expect(allowed(s), `${s} is allowed by .dockerignore`).toBe(true);
    }
  });

  it('copies every file the native build needs (binding.gyp sources and the install script)', () => {
    const gyp = JSON.parse(readFileSync(join(root, 'native', 'binding.gyp'), 'utf8')) as { targets: { sources: string[] }[] };
    const needed = ['native/binding.gyp', 'native/build.mjs', ...gyp.targets.flatMap((t) => t.sources.map((s) => `native/${s}`))];
    const sources = contextCopies();
    for (const n of needed) expect(sources, n).toContain(n);
  });

  it('runs the bundle of the package bin as entrypoint, on Node 24 bases (within package.json engines), with source maps', () => {
    const [bin] = Object.keys(pkg.bin);
    expect(instructions(dockerfile)).toContain(`ENTRYPOINT ["${bin}"]`);
    // scripts/bundle.mjs bundles the package bin (dist/cli/main.js) into dist/bundle/main.js.
    expect(pkg.bin[bin!]).toBe('dist/cli/main.js');
    expect(pkg.scripts.build).toContain('node scripts/bundle.mjs');
    expect(dockerfile).toContain(`ln -s /app/dist/bundle/main.js /usr/local/bin/${bin}`);
    expect(dockerfile).toContain('ARG BUILD_BASE=node:24-bookworm\n');
    expect(dockerfile).toContain('ARG RUNTIME_BASE=node:24-bookworm-slim\n');
    const minMajor = Number(/(\d+)/.exec(pkg.engines.node)?.[1]);
    expect(24).toBeGreaterThanOrEqual(minMajor);
    const froms = instructions(dockerfile).filter((l) => /^FROM\s/i.test(l));
    expect(froms.at(-1)).toBe('FROM ${RUNTIME_BASE}');
    expect(froms.slice(0, -1).every((l) => l.startsWith('FROM ${BUILD_BASE} AS '))).toBe(true);
    expect(dockerfile).toContain('npm ci --omit=dev');
    expect(dockerfile).toContain('NODE_OPTIONS=--enable-source-maps');
    expect(instructions(dockerfile)).toContain('USER 65532:65532');
  });
});
