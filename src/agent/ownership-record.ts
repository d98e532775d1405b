// The one ownership record of a running agent, shared by its writers: the reconciler (services,
// addresses, sysctls, sync daemons) and VRRP (which instances are master). Each writer changes its
// own fields; writes go to the store one at a time, each of the whole record as it is then.
import type { OwnedState, OwnershipStore } from './ownership.js';

type Change = Partial<Omit<OwnedState, 'version'>>;

const sameValue = (a: unknown, b: unknown): boolean =>
  Array.isArray(a) && Array.isArray(b) && a.every((x) => typeof x === 'string')
    ? a.length === b.length && a.every((x, i) => x === b[i])
    : JSON.stringify(a) === JSON.stringify(b);

export class OwnershipRecord {
  private state: OwnedState | undefined;
  private loading: Promise<OwnedState> | undefined;
  private writes: Promise<void> = Promise.resolve();

  constructor(private readonly store: OwnershipStore) {}

  /** The record as last changed (read from the store on first use). */
  async get(): Promise<OwnedState> {
    if (this.state) return this.state;
    this.loading ??= this.store.load().then((s) => (this.state ??= s)).finally(() => { this.loading = undefined; });
    return this.loading;
  }

  /** Sets some fields; resolves once a write that holds them is done (a change nobody made writes nothing). */
  async set(change: Change): Promise<void> {
    return this.update(() => change);
  }

  /**
   * Changes the record from its current value, with no await in between: two writers changing
   * the same field (two VRRP instances) never lose each other's change.
   */
  async update(change: (current: OwnedState) => Change): Promise<void> {
    await this.get();
    const current = this.state!;
    const next = change(current);
    const keys = Object.keys(next) as (keyof Change)[];
    if (keys.every((k) => sameValue(current[k], next[k]))) return;
    this.state = { ...current, ...next };
    return this.write();
  }

  private write(): Promise<void> {
    // The shared temporary file allows one write at a time; one that failed does not stop the next.
    const write = this.writes.catch(() => undefined).then(() => this.store.save(this.state!));
    this.writes = write;
    return write;
  }
}
