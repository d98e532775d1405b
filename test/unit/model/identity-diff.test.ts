import { describe, expect, it } from 'vitest';
import { type Change, diffByIdentity } from '../../../src/model/identity-diff.js';
import { sameContent } from '../../../src/model/same-content.js';
import { Rand } from './random-cluster.js';

interface Obj {
  metadata: { name: string; v: number };
}
const o = (name: string, v = 1): Obj => ({ metadata: { name, v } });
const keyOf = (x: Obj): string => x.metadata.name;
const show = (cs: readonly Change<Obj>[]): string[] =>
  cs.map((c) => (c.before && c.after ? `~${keyOf(c.after)}` : c.after ? `+${keyOf(c.after)}` : `-${keyOf(c.before as Obj)}`));

describe('diffByIdentity', () => {
  const [a, b, c, d] = [o('a'), o('b'), o('c'), o('d')];

  it('finds nothing in the same objects, without allocating a result', () => {
    const first = diffByIdentity([a, b, c], [a, b, c], keyOf);
    expect(first).toEqual([]);
    expect(diffByIdentity([a], [a], keyOf)).toBe(first);
  });

  it('walks informer-style changes: replace in place, append, delete anywhere', () => {
    expect(show(diffByIdentity([a, b, c], [a, o('b', 2), c], keyOf))).toEqual(['~b']);
    expect(show(diffByIdentity([a, b, c], [a, b, c, d], keyOf))).toEqual(['+d']);
    expect(show(diffByIdentity([a, b, c], [a, c], keyOf))).toEqual(['-b']);
    expect(show(diffByIdentity([a, b, c], [o('b', 2), c, d], keyOf))).toEqual(['-a', '~b', '+d']);
    expect(show(diffByIdentity([a, b, c], [], keyOf))).toEqual(['-a', '-b', '-c']);
  });

  it('falls back to sets for listings it cannot align', () => {
    expect(show(diffByIdentity([a, b, c, d], [d, c, o('b', 2), a], keyOf))).toEqual(['~b']);
    expect(show(diffByIdentity([a, b, c], [d, o('c', 2), a], keyOf))).toEqual(['-b', '~c', '+d']);
  });

  it('turns the old listing into the new one when applied in order, for random edits', () => {
    const r = new Rand(11);
    for (let round = 0; round < 500; round++) {
      const prev = Array.from({ length: r.int(8) }, (_, i) => o(`k${i}`));
      let next = [...prev];
      for (let e = r.int(4); e > 0; e--) {
        const i = r.int(next.length + 1);
        const roll = r.int(4);
        if (roll === 0 && next[i]) next[i] = o(keyOf(next[i] as Obj), round);
        else if (roll === 1) next.splice(i, 1);
        else if (roll === 2 && !next.some((x) => keyOf(x) === `n${e}`)) next.push(o(`n${e}`));
        else next = [...next].sort(() => r.next() - 0.5);
      }
      const state = new Map(prev.map((x) => [keyOf(x), x]));
      for (const ch of diffByIdentity(prev, next, keyOf)) {
        if (ch.before) {
          expect(state.get(keyOf(ch.before))).toBe(ch.before);
          state.delete(keyOf(ch.before));
        }
        if (ch.after) {
          expect(state.has(keyOf(ch.after))).toBe(false);
          state.set(keyOf(ch.after), ch.after);
        }
      }
      expect(new Set(state.values())).toEqual(new Set(next));
    }
  });
});

describe('sameContent', () => {
  it('compares plain data deeply, an undefined property like an absent one (as toEqual does)', () => {
    expect(sameContent({ a: [1, { b: 'x' }], c: undefined }, { a: [1, { b: 'x' }] })).toBe(true);
    expect(sameContent({ a: [1, { b: 'x' }] }, { a: [1, { b: 'y' }] })).toBe(false);
    expect(sameContent({ a: 1 }, { a: 1, b: 2 })).toBe(false);
    expect(sameContent({ a: 1, b: 2 }, { a: 1 })).toBe(false);
    expect(sameContent([1, 2], [1, 2, 3])).toBe(false);
    expect(sameContent([], {})).toBe(false);
    expect(sameContent(undefined, {})).toBe(false);
    expect(sameContent(new Map([['a', 1]]), new Map())).toBe(false);
  });
});
