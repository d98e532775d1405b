// e2e/kind cannot run on the build machines (no Docker engine); check what can be checked:
// the cluster shape, that the script parses and names files that exist.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const root = resolve(fileURLToPath(new URL('../../..', import.meta.url)));
const dir = join(root, 'e2e', 'kind');

describe('e2e/kind', () => {
  it('is one control plane and three workers, two of them directors of "edge"', () => {
    const cfg = parse(readFileSync(join(dir, 'kind-config.yaml'), 'utf8')) as { kind: string; nodes: { role: string; labels?: Record<string, string> }[] };
    expect(cfg.kind).toBe('Cluster');
    expect(cfg.nodes.map((n) => n.role)).toEqual(['control-plane', 'worker', 'worker', 'worker']);
    expect(cfg.nodes.filter((n) => n.labels?.['lvs.dev/director'] === 'edge')).toHaveLength(2);
  });

  it('run.sh is valid bash and uses files that exist', () => {
    const script = join(dir, 'run.sh');
    const r = spawnSync('bash', ['-n', script], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const text = readFileSync(script, 'utf8');
    for (const ref of text.matchAll(/"\$(here|root)\/([^"]+)"/g)) {
      const base = ref[1] === 'here' ? dir : root;
      expect(existsSync(join(base, ref[2]!)), `${ref[0]} exists`).toBe(true);
    }
    expect(text).toContain('npm run test:e2e');
  });
});
