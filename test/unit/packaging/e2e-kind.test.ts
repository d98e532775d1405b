// e2e/kind cannot run on the build machines (no Docker engine); check what can be checked:
// the cluster shape, that the script parses, names files that exist and writes a whole cluster file.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const root = resolve(fileURLToPath(new URL('../../..', import.meta.url)));
const dir = join(root, 'e2e', 'kind');

describe('e2e/kind', () => {
  it('is one control plane and five workers: the suite labels two directors and three real servers itself', () => {
    const cfg = parse(readFileSync(join(dir, 'kind-config.yaml'), 'utf8')) as { kind: string; nodes: { role: string }[] };
    expect(cfg.kind).toBe('Cluster');
    expect(cfg.nodes.map((n) => n.role)).toEqual(['control-plane', 'worker', 'worker', 'worker', 'worker', 'worker']);
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
    // It hands the Helm suite a cluster file with every field the suite reads.
    expect(text).toContain('E2E_CLUSTER=$workdir/cluster.json npx vitest run --project e2e e2e/cluster.test.ts');
    const json = /cat >"\$workdir\/cluster.json" <<JSON\n([\s\S]*?)\nJSON/.exec(text)?.[1] ?? '';
    const keys = [...json.matchAll(/^  "(\w+)":/gm)].map((m) => m[1]).sort();
    expect(keys).toEqual(['directors', 'faults', 'image', 'interface', 'kubeconfig', 'realServers', 'values', 'vips']);
  });
});
