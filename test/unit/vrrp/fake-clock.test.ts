import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../../src/vrrp/fake-clock.js';

describe('FakeClock', () => {
  it('fires timers in due order, each at its own due time, including timers set while firing', () => {
    const c = new FakeClock(100);
    const log: string[] = [];
    c.setTimer(30, () => log.push(`b@${c.now()}`));
    c.setTimer(10, () => {
      log.push(`a@${c.now()}`);
      c.setTimer(5, () => log.push(`c@${c.now()}`));
    });
    c.setTimer(30, () => log.push(`d@${c.now()}`)); // same due time as b: set later, fires later
    c.advance(50);
    expect(log).toEqual(['a@110', 'c@115', 'b@130', 'd@130']);
    expect(c.now()).toBe(150);
  });

  it('does not fire cancelled or not-yet-due timers, and lists pending ones with their delays', () => {
    const c = new FakeClock();
    let fired = 0;
    const h = c.setTimer(10, () => fired++);
    c.setTimer(3609.375, () => fired++);
    c.cancel(h);
    c.advance(3609);
    expect(fired).toBe(0);
    expect(c.pending()).toEqual([{ id: 2, setAt: 0, delayMs: 3609.375, dueAt: 3609.375 }]);
    expect(c.step()).toBe(true);
    expect(fired).toBe(1);
    expect(c.now()).toBe(3609.375);
    expect(c.step()).toBe(false);
  });

  it('refuses to go backwards or to take negative delays', () => {
    const c = new FakeClock(5);
    expect(() => c.advanceTo(4)).toThrow(RangeError);
    expect(() => c.setTimer(-1, () => {})).toThrow(RangeError);
  });
});
