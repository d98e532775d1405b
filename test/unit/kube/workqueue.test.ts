import { describe, expect, it } from 'vitest';
import { TerminalError, WorkQueue } from '../../../src/kube/workqueue.js';
import { FakeClock } from '../health/fakes.js';

/** A queue whose handler fails for the keys in `failing` and logs every run with its time. */
function setup(opts: { concurrency?: number; priority?: (key: string) => number } = {}) {
  const clock = new FakeClock();
  const runs: { key: string; at: number }[] = [];
  const failing = new Map<string, 'transient' | 'terminal'>();
  const gates = new Map<string, () => void>();
  const held = new Set<string>();
  const q = new WorkQueue(async (key) => {
    runs.push({ key, at: clock.now() });
    if (held.has(key)) await new Promise<void>((r) => gates.set(key, r));
    const f = failing.get(key);
    if (f === 'terminal') throw new TerminalError(`${key} cannot work`);
    if (f) throw new Error(`${key} failed`);
  }, { clock, baseDelayMs: 100, maxDelayMs: 1000, ...opts });
  const runsOf = (key: string) => runs.filter((r) => r.key === key).map((r) => r.at);
  return { clock, q, runs, runsOf, failing, held, gates };
}

describe('WorkQueue', () => {
  it('one failing key never delays another key', async () => {
    const { clock, q, runsOf, failing } = setup({ concurrency: 1 });
    failing.set('bad', 'transient');
    q.add('bad');
    await clock.advance(0);
    for (let i = 0; i < 5; i++) {
      q.add(`good${i}`, [i]);
      await clock.advance(10);
      expect(runsOf(`good${i}`)).toEqual([clock.now() - 10]);
    }
    expect(runsOf('bad')).toEqual([0]); // still backing off on its own timer (100 ms)
    await clock.advance(100);
    expect(runsOf('bad')).toEqual([0, 100]);
  });

  it('backoff grows per key, is capped, and resets on success', async () => {
    const { clock, q, runsOf, failing } = setup();
    failing.set('a', 'transient');
    q.add('a');
    await clock.advance(5000);
    // 0, +100, +200, +400, +800, +1000 (cap), +1000 ...
    expect(runsOf('a').slice(0, 7)).toEqual([0, 100, 300, 700, 1500, 2500, 3500]);
    expect(q.failuresOf('a')).toBeGreaterThan(5);
    failing.delete('a');
    await clock.advance(1000);
    expect(q.failuresOf('a')).toBe(0);
    const n = runsOf('a').length;
    await clock.advance(10_000);
    expect(runsOf('a')).toHaveLength(n); // success: no more retries
    failing.set('a', 'transient');
    q.add('a');
    await clock.advance(0);
    const t0 = clock.now();
    await clock.advance(150);
    expect(runsOf('a').slice(-2)).toEqual([t0, t0 + 100]); // starts again from the base delay
  });

  it('a key queued many times while processing runs exactly once more', async () => {
    const { clock, q, runsOf, held, gates } = setup();
    held.add('k');
    q.add('k');
    await clock.advance(0);
    held.delete('k');
    for (let i = 0; i < 10; i++) q.add('k');
    gates.get('k')!();
    await clock.advance(0);
    await q.idle();
    expect(runsOf('k')).toHaveLength(2);
  });

  it('with priorities, every ready key of a lower class runs before any of a higher one; first in, first out within a class', async () => {
    const { clock, q, runs, held, gates } = setup({ concurrency: 1, priority: (k) => (k.startsWith('RealServer') ? 1 : 0) });
    held.add('RealServer a');
    q.add('RealServer a');
    await clock.advance(0);
    // While `RealServer a` runs, many RealServers queue, then VirtualServices after them.
    for (const k of ['RealServer b', 'RealServer c', 'VirtualService x', 'RealServer d', 'VirtualService y']) q.add(k);
    q.add('RealServer b'); // already ready: keeps its place
    gates.get('RealServer a')!();
    await clock.advance(0);
    await q.idle();
    expect(runs.map((r) => r.key)).toEqual(['RealServer a', 'VirtualService x', 'VirtualService y', 'RealServer b', 'RealServer c', 'RealServer d']);
  });

  it('a key queued many times before it runs runs once', async () => {
    const { clock, q, runsOf } = setup();
    for (let i = 0; i < 10; i++) q.add('k');
    await clock.advance(0);
    expect(runsOf('k')).toHaveLength(1);
  });

  it('a terminal error is not retried until the key is added with a new version', async () => {
    const { clock, q, runsOf, failing } = setup();
    failing.set('t', 'terminal');
    q.add('t', ['v1']);
    await clock.advance(60_000);
    expect(runsOf('t')).toEqual([0]);
    expect(q.isTerminal('t')).toBe(true);
    q.add('t', ['v1']); // an unrelated pass re-offers the same version: still parked
    await clock.advance(60_000);
    expect(runsOf('t')).toHaveLength(1);
    failing.delete('t');
    q.add('t', ['v2']); // the object changed
    await clock.advance(0);
    expect(runsOf('t')).toHaveLength(2);
    expect(q.isTerminal('t')).toBe(false);
  });

  it('a backing-off key re-offered with the same version keeps its backoff; a new version runs now', async () => {
    const { clock, q, runsOf, failing } = setup();
    failing.set('a', 'transient');
    q.add('a', ['v1']);
    await clock.advance(0);
    await clock.advance(150); // runs at 0, 100; next at 300
    q.add('a', ['v1']);
    await clock.advance(0);
    expect(runsOf('a')).toEqual([0, 100]);
    q.add('a', ['v2']);
    await clock.advance(0);
    expect(runsOf('a')).toEqual([0, 100, 150]);
  });

  it('forget drops a key and its retry timer; close cancels everything', async () => {
    const { clock, q, runsOf, failing } = setup();
    failing.set('a', 'transient');
    failing.set('b', 'transient');
    q.add('a');
    q.add('b');
    await clock.advance(0);
    q.forget('a');
    q.close();
    q.add('c');
    await clock.advance(10_000);
    expect(runsOf('a')).toEqual([0]);
    expect(runsOf('b')).toEqual([0]);
    expect(runsOf('c')).toEqual([]);
    expect(clock.pendingTimers).toBe(0);
  });
});
