// Property test: after any sequence of cluster changes, the incremental resolver answers
// exactly what the full resolve does, keeps unchanged models identical and never changes a
// model it returned. Repeat a failure with MODEL_SEED=<seed> (printed in the message).
import { describe, expect, it } from 'vitest';
import { IncrementalResolver } from '../../../src/model/incremental.js';
import { resolve } from '../../../src/model/resolve.js';
import type { ClusterModel } from '../../../src/model/types.js';
import { RandomCluster, Rand } from './random-cluster.js';

const steps = 400;
const seeds = process.env.MODEL_SEED ? [Number(process.env.MODEL_SEED)] : [1, 2, 3, 4, 5, 6];

/** Keys of VirtualServices that others lose a claim to. */
function conflictWinners(m: ClusterModel): string[] {
  const out = new Set<string>();
  for (const s of m.services.values()) {
    for (const i of s.issues) {
      const holder = i.reason === 'Conflict' ? /VirtualService (\S+), which is older/.exec(i.message)?.[1] : undefined;
      if (holder) out.add(holder);
    }
  }
  return [...out].sort();
}

type MapName = 'groups' | 'services' | 'realServers';

/** Contract 2: a model that says the same is the same object, and so is a map without changes. */
function expectStable(prev: ClusterModel, next: ClusterModel, names: readonly MapName[], where: string): void {
  for (const name of names) {
    const a: Map<string, unknown> = prev[name];
    const b: Map<string, unknown> = next[name];
    let changed = a.size !== b.size;
    for (const [key, v] of b) {
      const before = a.get(key);
      if (before === v) continue;
      changed = true;
      if (before !== undefined) expect(v, `${where}: ${name} ${key} is a new object with the same content`).not.toEqual(before);
    }
    if (!changed) expect(b, `${where}: ${name} unchanged but a new Map`).toBe(a);
  }
}

/** A model whose realServers map is read some steps later, after newer models were made. */
interface Pending {
  model: ClusterModel;
  previous: ClusterModel | undefined;
  want: ClusterModel['realServers'];
  due: number;
  where: string;
}

describe('IncrementalResolver against resolve, randomized', () => {
  for (const seed of seeds) {
    it(`agrees over ${steps} random changes (seed ${seed})`, () => {
      const r = new Rand(seed);
      const later = new Rand(seed + 1000);
      const cluster = new RandomCluster(r);
      const inc = new IncrementalResolver();
      let prev: ClusterModel | undefined;
      let prevCopy: Pick<ClusterModel, 'groups' | 'services'> | undefined;
      const pending: Pending[] = [];
      const built: { map: ClusterModel['realServers']; copy: ClusterModel['realServers']; where: string }[] = [];
      let what = 'initial cluster';
      const stats = { conflicts: 0, accepted: 0, invalid: 0 };
      for (let i = 0; i <= steps; i++) {
        const where = `seed ${seed} step ${i} (${what})`;
        const snap = cluster.snapshot();
        const want = resolve(snap);
        const got = inc.resolve(snap);
        if (i % 10 === 0) {
          expect(got, where).toEqual(want);
        } else {
          // The RealServers are read later (below), so older versions get built from newer ones.
          expect(got.groups, where).toEqual(want.groups);
          expect(got.services, where).toEqual(want.services);
          pending.push({ model: got, previous: prev, want: want.realServers, due: i + later.int(8), where });
        }
        // The same snapshot again changes nothing.
        expect(inc.resolve(snap), where).toBe(got);
        if (prev && prevCopy) {
          expect({ groups: prev.groups, services: prev.services }, `${where}: a returned model was changed`).toEqual(prevCopy);
          expectStable(prev, got, ['groups', 'services'], where);
        }
        for (const p of pending.filter((x) => x.due <= i || i === steps)) {
          pending.splice(pending.indexOf(p), 1);
          expect(p.model.realServers, `${p.where}, read at step ${i}`).toEqual(p.want);
          expect(p.model.realServers).toBe(p.model.realServers);
          if (p.previous) expectStable(p.previous, p.model, ['realServers'], p.where);
          built.push({ map: p.model.realServers, copy: structuredClone(p.model.realServers), where: p.where });
        }
        prev = got;
        prevCopy = structuredClone({ groups: got.groups, services: got.services });
        for (const s of got.services.values()) {
          if (s.accepted) stats.accepted++;
          if (s.issues.some((x) => x.reason === 'Conflict')) stats.conflicts++;
        }
        stats.invalid += snap.invalid?.length ?? 0;
        if (i < steps) what = cluster.step(conflictWinners(want));
      }
      for (const b of built) expect(b.map, `${b.where}: a returned RealServer map was changed`).toEqual(b.copy);
      // The walk must have visited the interesting states, or it proves little.
      expect(stats.accepted).toBeGreaterThan(steps);
      expect(stats.conflicts).toBeGreaterThan(steps / 4);
      expect(stats.invalid).toBeGreaterThan(0);
    });
  }
});

describe('IncrementalResolver without RealServer models (the agent)', () => {
  it('gives the same groups and services as resolve over random changes, and no RealServer models', () => {
    const cluster = new RandomCluster(new Rand(7));
    const inc = new IncrementalResolver({ realServers: false });
    let prev: ClusterModel | undefined;
    for (let i = 0; i <= 200; i++) {
      const snap = cluster.snapshot();
      const want = resolve(snap);
      const got = inc.resolve(snap);
      expect(got.groups, `step ${i}`).toEqual(want.groups);
      expect(got.services, `step ${i}`).toEqual(want.services);
      expect(got.realServers.size).toBe(0);
      if (prev) expectStable(prev, got, ['groups', 'services'], `step ${i}`);
      prev = got;
      if (i < 200) cluster.step(conflictWinners(want));
    }
  });
});
