import { describe, expect, it } from 'vitest';
import { VersionedMap } from '../../../src/model/versioned-map.js';
import { Rand } from './random-cluster.js';

describe('VersionedMap', () => {
  it('hands out the same version while nothing changes, and builds it once', () => {
    const m = new VersionedMap<string>();
    m.update(new Map([['a', 'A']]));
    const v1 = m.share();
    expect(m.update(new Map([['a', 'A']]))).toBe(v1);
    expect(m.update(new Map([['b', undefined]]))).toBe(v1);
    expect(v1.read()).toBe(v1.read());
    expect([...v1.read()]).toEqual([['a', 'A']]);
  });

  it('builds every version as it was, read in any order, however many steps later', () => {
    const r = new Rand(5);
    const m = new VersionedMap<number>();
    const truth = new Map<string, number>();
    const versions: { v: ReturnType<VersionedMap<number>['update']>; want: Map<string, number> }[] = [];
    for (let step = 0; step < 300; step++) {
      const changes = new Map<string, number | undefined>();
      for (let n = r.int(4); n > 0; n--) changes.set(`k${r.int(12)}`, r.chance(0.3) ? undefined : step);
      for (const [k, v] of changes) {
        if (v === undefined) truth.delete(k);
        else truth.set(k, v);
      }
      // Not handed out yet, a version may still change: take it after the step.
      m.update(changes);
      versions.push({ v: m.share(), want: new Map(truth) });
      // Read a random older version now and then: later reads start from it.
      if (r.chance(0.2)) {
        const x = r.pick(versions);
        expect(x.v.read()).toEqual(x.want);
      }
    }
    for (const x of [...versions].reverse()) expect(x.v.read()).toEqual(x.want);
    for (const x of versions) expect(x.v.read()).toEqual(x.want);
  });
});
