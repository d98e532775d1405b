/**
 * Deep equality of plain data (objects, arrays, primitives) in the sense of vitest's toEqual:
 * a property set to undefined equals an absent one. Used to hand back the previous model object
 * when a recomputed one says the same, so callers can skip work by identity.
 */
export function sameContent(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!sameContent(a[i], b[i])) return false;
    return true;
  }
  // Anything but plain objects (Map, Set, Date) is equal only to itself: models hold none.
  if (!isPlain(a) || !isPlain(b)) return false;
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  let defined = 0;
  for (const k in x) {
    if (!Object.hasOwn(x, k) || x[k] === undefined) continue;
    defined++;
    if (!sameContent(x[k], y[k])) return false;
  }
  for (const k in y) if (Object.hasOwn(y, k) && y[k] !== undefined) defined--;
  return defined === 0;
}

function isPlain(o: object): boolean {
  const proto: unknown = Object.getPrototypeOf(o);
  return proto === Object.prototype || proto === null;
}

/** Keeps `before` when `after` says the same, so unchanged models stay the same object. */
export function keep<T>(before: T | undefined, after: T): T {
  return before !== undefined && sameContent(before, after) ? before : after;
}
