/** One object added (no `before`), removed (no `after`) or replaced (both, same key). */
export interface Change<T> {
  before: T | undefined;
  after: T | undefined;
}

const none: readonly Change<never>[] = Object.freeze([]);

/**
 * What changed between two listings of one kind, by object identity: informer caches replace
 * an object when it changes and buildSnapshot keeps the parsed object of an unchanged one.
 * Listings keep a stable order (an update keeps its place, an add appends, a delete removes),
 * so a parallel walk finds the changes without allocating; only listings it cannot align
 * (reordered) fall back to a diff through Sets. Removals and replacements come before
 * additions, and applying the changes in order turns `prev` into `next`.
 */
export function diffByIdentity<T>(prev: readonly T[], next: readonly T[], keyOf: (o: T) => string): readonly Change<T>[] {
  let out: Change<T>[] | undefined;
  let i = 0;
  let j = 0;
  while (i < prev.length && j < next.length) {
    const a = prev[i] as T;
    const b = next[j] as T;
    if (a === b) {
      i++;
      j++;
      continue;
    }
    const key = keyOf(b);
    if (keyOf(a) === key) {
      (out ??= []).push({ before: a, after: b });
      i++;
      j++;
    } else if (i + 1 < prev.length && (prev[i + 1] === b || keyOf(prev[i + 1] as T) === key)) {
      (out ??= []).push({ before: a, after: undefined });
      i++;
    } else {
      return diffBySets(prev, next, keyOf);
    }
  }
  for (; i < prev.length; i++) (out ??= []).push({ before: prev[i], after: undefined });
  for (; j < next.length; j++) (out ??= []).push({ before: undefined, after: next[j] });
  return out ?? none;
}

function diffBySets<T>(prev: readonly T[], next: readonly T[], keyOf: (o: T) => string): Change<T>[] {
  const had = new Set(prev);
  const has = new Set(next);
  const removed = new Map<string, T>();
  for (const o of prev) if (!has.has(o)) removed.set(keyOf(o), o);
  const replaced: Change<T>[] = [];
  const added: Change<T>[] = [];
  for (const o of next) {
    if (had.has(o)) continue;
    const key = keyOf(o);
    const before = removed.get(key);
    if (before === undefined) {
      added.push({ before: undefined, after: o });
    } else {
      removed.delete(key);
      replaced.push({ before, after: o });
    }
  }
  return [...[...removed.values()].map((o) => ({ before: o, after: undefined })), ...replaced, ...added];
}

/** Same objects in the same order. */
export function sameItems<T>(a: readonly T[], b: readonly T[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
