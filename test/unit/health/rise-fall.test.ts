import { describe, expect, it } from 'vitest';
import { applyResult, initialState, type RiseFallState } from '../../../src/health/rise-fall.js';
import { Semaphore } from '../../../src/health/semaphore.js';

/** Feeds a string of results ('+' ok, '-' fail) and returns the health after each one. */
function trace(initial: 'up' | 'down', results: string, rise: number, fall: number): string {
  let state: RiseFallState = initialState(initial);
  let out = '';
  for (const c of results) {
    state = applyResult(state, c === '+', { rise, fall }).state;
    out += state.healthy ? 'U' : 'D';
  }
  return out;
}

describe('rise/fall hysteresis', () => {
  it('a down target needs `rise` consecutive successes', () => {
    expect(trace('down', '+++', 3, 2)).toBe('DDU');
    expect(trace('down', '++-+++', 3, 2)).toBe('DDDDDU');
  });

  it('an up target needs `fall` consecutive failures', () => {
    expect(trace('up', '--', 3, 2)).toBe('UD');
    expect(trace('up', '-+-+-', 3, 2)).toBe('UUUUU');
  });

  it('rise=1/fall=1 follows every result', () => {
    expect(trace('down', '+-+-', 1, 1)).toBe('UDUD');
  });

  it('reports a change only on transitions, with the counters that caused it', () => {
    const r1 = applyResult(initialState('down'), true, { rise: 2, fall: 2 });
    expect(r1.changed).toBe(false);
    const r2 = applyResult(r1.state, true, { rise: 2, fall: 2 });
    expect(r2).toEqual({ changed: true, state: { healthy: true, consecutiveOk: 2, consecutiveFail: 0 } });
    expect(applyResult(r2.state, true, { rise: 2, fall: 2 }).changed).toBe(false);
  });
});

describe('Semaphore', () => {
  it('runs at most `limit` at once, FIFO, and cancelled waiters never run', () => {
    const s = new Semaphore(2);
    const ran: string[] = [];
    s.acquire(() => ran.push('a'));
    s.acquire(() => ran.push('b'));
    s.acquire(() => ran.push('c'));
    const cancelD = s.acquire(() => ran.push('d'));
    s.acquire(() => ran.push('e'));
    expect(ran).toEqual(['a', 'b']);
    expect([s.inUse, s.queued]).toEqual([2, 3]);
    cancelD();
    s.release();
    s.release();
    expect(ran).toEqual(['a', 'b', 'c', 'e']);
    s.release();
    s.release();
    expect([s.inUse, s.queued]).toEqual([0, 0]);
  });

  it('rejects a non-positive limit', () => {
    expect(() => new Semaphore(0)).toThrow(RangeError);
  });
});
