import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hook, liveResources, releaseAll, tempDir, track } from '../../lab/reaper.js';

describe('reaper', () => {
  const root = mkdtempSync(join(tmpdir(), 'lvs-reaper-test-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('removes a temporary directory but keeps its logs, replacing the last run\'s', async () => {
    const run = join(root, 'run');
    const logs = join(root, 'logs');
    mkdirSync(join(run, 'nodes', 'd1'), { recursive: true });
    writeFileSync(join(run, 'console.log'), 'boot\n');
    writeFileSync(join(run, 'nodes', 'd1', 'agent.log'), 'agent\n');
    writeFileSync(join(run, 'kubeconfig'), 'secret');
    mkdirSync(logs, { recursive: true });
    writeFileSync(join(logs, 'stale.log'), 'old run');
    const release = track(tempDir(run, logs));
    expect(liveResources()).toContain(`directory ${run}`);
    await release();
    expect(existsSync(run)).toBe(false);
    expect(readFileSync(join(logs, 'console.log'), 'utf8')).toBe('boot\n');
    expect(readFileSync(join(logs, 'nodes', 'd1', 'agent.log'), 'utf8')).toBe('agent\n');
    expect(existsSync(join(logs, 'kubeconfig'))).toBe(false);
    expect(existsSync(join(logs, 'stale.log'))).toBe(false);
    expect(liveResources()).not.toContain(`directory ${run}`);
  });

  it('releases what is left newest first, once', async () => {
    const order: string[] = [];
    track(hook('first', async () => { order.push('first'); }));
    const second = track(hook('second', async () => { order.push('second'); }));
    await releaseAll();
    await second();
    expect(order).toEqual(['second', 'first']);
    expect(liveResources()).toEqual([]);
  });
});
