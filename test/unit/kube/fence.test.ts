import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Deadline, FenceClosed } from '../../../src/kube/fence.js';

describe('Deadline', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());
  const now = () => Date.now();

  it('aborts its signal the moment the deadline passes, and extend moves it', async () => {
    const d = new Deadline(now, Date.now() + 1000);
    await vi.advanceTimersByTimeAsync(600);
    d.extend(Date.now() + 1000);
    await vi.advanceTimersByTimeAsync(999);
    expect(d.signal.aborted).toBe(false);
    expect(d.remainingMs()).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(d.signal.aborted).toBe(true);
    expect(d.signal.reason).toBeInstanceOf(FenceClosed);
    d.extend(Date.now() + 5000); // closed stays closed
    expect(d.open).toBe(false);
  });

  it('check() reads the clock itself: a late timer lets nothing through', () => {
    let t = 0;
    const d = new Deadline(() => t, 100);
    t = 100; // the clock moved, no timer has fired
    expect(() => d.check()).toThrow(FenceClosed);
    expect(d.signal.aborted).toBe(true);
  });

  it('closes with its parent; without an end it never closes and arms no timer', () => {
    const parent = new AbortController();
    const d = new Deadline(now, Infinity, parent.signal);
    expect(vi.getTimerCount()).toBe(0);
    expect(d.open).toBe(true);
    parent.abort();
    expect(() => d.check()).toThrow('stopped');
  });
});
