/**
 * One version of a VersionedMap: a Map that is built (once) when first read and never changed
 * after, whatever later versions do.
 */
export class MapVersion<V> {
  private map: Map<string, V> | undefined;
  /** The version after this one, and what undoes that step (undefined: the key was absent). */
  private next: { version: MapVersion<V>; undo: ReadonlyMap<string, V | undefined> } | undefined;

  constructor(private readonly live: ReadonlyMap<string, V>) {}

  /** This version's content. */
  read(): Map<string, V> {
    if (this.map) return this.map;
    // Walk to the newest version that can give its content (a built one, or the latest, whose
    // content is `live`), copy it, then undo the steps back to this one, newest first.
    const path: MapVersion<V>[] = [];
    let v: MapVersion<V> = this;
    while (!v.map && v.next) {
      path.push(v);
      v = v.next.version;
    }
    const map = new Map(v.map ?? this.live);
    for (let i = path.length - 1; i >= 0; i--) {
      for (const [key, value] of path[i]?.next?.undo ?? []) {
        if (value === undefined) map.delete(key);
        else map.set(key, value);
      }
    }
    this.map = map;
    this.next = undefined; // built: the later steps are no longer needed here
    return map;
  }

  /** Called by VersionedMap before `live` moves on from this version. */
  supersede(version: MapVersion<V>, undo: ReadonlyMap<string, V | undefined>): void {
    if (!this.map) this.next = { version, undo };
  }
}

/**
 * A map that changes by small steps and is handed out as immutable versions. A large map
 * (10,000 RealServers) costs a lot to copy, above all where page faults are dear (tens of
 * milliseconds in the UML lab), and a version nobody reads need not be copied at all: the
 * newest content lives in one Map only this class changes, each older version keeps the few
 * entries that the next step replaced, and a version is built from those when first read.
 */
export class VersionedMap<V> {
  private readonly live = new Map<string, V>();
  private head = new MapVersion<V>(this.live);
  /** Whether `head` was handed out: until then it can change in place, with nothing to undo. */
  private shared = false;

  /** The newest content of `key`. */
  get(key: string): V | undefined {
    return this.live.get(key);
  }

  keys(): IterableIterator<string> {
    return this.live.keys();
  }

  /** The newest version, to hand out: from now on it never changes. */
  share(): MapVersion<V> {
    this.shared = true;
    return this.head;
  }

  /**
   * Sets (undefined: deletes) the given entries. The newest version stays the same object
   * when nothing changed, or when it was not handed out yet (the first, large, step).
   */
  update(changes: ReadonlyMap<string, V | undefined>): MapVersion<V> {
    let undo: Map<string, V | undefined> | undefined;
    for (const [key, value] of changes) {
      const before = this.live.get(key);
      if (value === before && (value !== undefined || !this.live.has(key))) continue;
      if (this.shared) {
        undo ??= new Map();
        if (!undo.has(key)) undo.set(key, before);
      }
      if (value === undefined) this.live.delete(key);
      else this.live.set(key, value);
    }
    if (!undo) return this.head;
    const next = new MapVersion<V>(this.live);
    this.head.supersede(next, undo);
    this.head = next;
    this.shared = false;
    return next;
  }
}
