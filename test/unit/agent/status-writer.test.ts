import pThrottle from 'p-throttle';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { StatusWriter, type StatusTarget } from '../../../src/agent/status-writer.js';
import type { ApplyBody } from '../../../src/kube/index.js';

/** Records the bodies applied; fails keys listed in `missing` with a 404 like the API server. */
function target(missing = new Set<string>()): StatusTarget & { bodies: ApplyBody[] } {
  const bodies: ApplyBody[] = [];
  return {
    bodies,
    async applyStatus(body) {
      if (missing.has(body.metadata.name)) throw Object.assign(new Error('not found'), { status: 404 });
      bodies.push(body);
    },
  };
}
const log = pino({ level: 'silent' });
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('StatusWriter', () => {
  it('writes the newest status once, and nothing when it did not change', async () => {
    const t = target();
    const w = new StatusWriter(t, { fieldManager: 'lvs-agent/d1', log, minIntervalMs: 0 });
    w.set('shop/web', { healthy: 1 });
    w.set('shop/web', { healthy: 2 });
    expect(await w.flush(2000)).toBe(true);
    expect(t.bodies).toEqual([{ metadata: { namespace: 'shop', name: 'web' }, status: { healthy: 2 } }]);
    w.set('shop/web', { healthy: 2 });
    expect(await w.flush(2000)).toBe(true);
    expect(t.bodies).toHaveLength(1);
    expect(w.stats).toMatchObject({ writes: 1, skipped: 1 });
    w.close();
  });

  it('forgets an object the API server no longer has', async () => {
    const t = target(new Set(['gone']));
    const w = new StatusWriter(t, { fieldManager: 'lvs-agent/d1', log, minIntervalMs: 0 });
    w.set('shop/gone', { healthy: 1 });
    expect(await w.flush(2000)).toBe(true);
    expect(w.keys()).toEqual([]);
    w.close();
  });

  it('shares a rate budget between writers, and a queued write sends the status wanted when its turn comes', async () => {
    const t = target();
    const throttle = pThrottle({ limit: 2, interval: 400 });
    const vs = new StatusWriter(t, { fieldManager: 'lvs-agent/d1', log, minIntervalMs: 0, throttle });
    const rs = new StatusWriter(t, { fieldManager: 'lvs-agent/d1', log, minIntervalMs: 0, throttle });
    for (const k of ['a', 'b', 'c']) vs.set(`ns/${k}`, { v: 1 });
    for (const k of ['x', 'y', 'z']) rs.set(`ns/${k}`, { v: 1 });
    await sleep(100);
    expect(t.bodies).toHaveLength(2); // the rest wait for the next windows
    rs.set('ns/z', { v: 2 });
    expect(await vs.flush(5000)).toBe(true);
    expect(await rs.flush(5000)).toBe(true);
    expect(t.bodies).toHaveLength(6);
    expect(t.bodies.find((b) => b.metadata.name === 'z')!.status).toEqual({ v: 2 });
    vs.close();
    rs.close();
  });
});
