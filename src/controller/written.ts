import { lean } from '../kube/informer.js';
import type { KubeObject } from '../kube/types.js';

/**
 * What we wrote and the informer has not shown us yet. Without it, a reconcile that runs
 * between our status write and the watch event for it would compare against the old
 * status: it would write again and, worse, report the same condition transition twice.
 * An entry lives until the informer delivers our write (or anything later), or for
 * `ttlMs` as a backstop.
 */
export class WrittenCache<T extends KubeObject> {
  private readonly entries = new Map<string, { obj: T; at: number }>();

  constructor(
    private readonly ttlMs = 30_000,
    private readonly now: () => number = () => Date.now(),
  ) {}

  remember(key: string, obj: T): void {
    // As the informers do: managedFields (often most of the object) is read by nothing here.
    this.entries.set(key, { obj: lean(obj), at: this.now() });
  }

  /** Called for every informer event of `key`: once the cache has caught up, forget ours. */
  observe(key: string, seen: KubeObject | undefined): void {
    const e = this.entries.get(key);
    if (!e) return;
    if (!seen || !newer(e.obj.metadata.resourceVersion, seen.metadata.resourceVersion)) this.entries.delete(key);
  }

  /** The freshest version we know: ours while the informer lags behind it. */
  current(key: string, fromInformer: T | undefined): T | undefined {
    const e = this.entries.get(key);
    if (!e) return fromInformer;
    if (this.now() - e.at > this.ttlMs || !fromInformer || fromInformer.metadata.uid !== e.obj.metadata.uid) {
      this.entries.delete(key);
      return fromInformer;
    }
    return newer(e.obj.metadata.resourceVersion, fromInformer.metadata.resourceVersion) ? e.obj : fromInformer;
  }

  forget(key: string): void {
    this.entries.delete(key);
  }
}

/**
 * resourceVersions are opaque by contract, but every API server backed by etcd issues
 * increasing integers; compare them as such and, if they are not integers, treat any
 * difference as "the informer has moved on".
 */
function newer(ours: string | undefined, theirs: string | undefined): boolean {
  if (!ours || !theirs) return false;
  if (/^\d+$/.test(ours) && /^\d+$/.test(theirs)) return BigInt(ours) > BigInt(theirs);
  return false;
}
