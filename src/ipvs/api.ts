// The IPVS client interface: one real implementation over generic netlink (client.ts) and an
// in-memory fake with the kernel's error semantics for other components' unit tests (fake.ts).
import type { IpvsError } from './errors.js';
import type { DestKey, IpvsDest, IpvsInfo, IpvsOp, IpvsService, IpvsServiceWithDests, SyncDaemon, SyncState, Timeouts, VirtualServiceKey } from './types.js';

export interface ListOptions {
  /** Read counters, rates and connection counts (default true). Off is cheaper for comparing configuration. */
  stats?: boolean;
}

export type IpvsOpResult = { ok: true } | { ok: false; error: IpvsError };

export interface IpvsClient {
  /** IPVS version and connection table size. */
  info(): Promise<IpvsInfo>;
  /** Every virtual service. */
  listServices(opts?: ListOptions): Promise<IpvsService[]>;
  /** Every virtual service with its destinations: the whole table. */
  listServicesWithDests(opts?: ListOptions): Promise<IpvsServiceWithDests[]>;
  /** One service, or undefined when it does not exist. */
  getService(key: VirtualServiceKey): Promise<IpvsService | undefined>;
  /** Destinations of one service; throws ESRCH when the service does not exist. */
  listDests(key: VirtualServiceKey, opts?: ListOptions): Promise<IpvsDest[]>;

  addService(service: IpvsService): Promise<void>;
  /** Replaces scheduler, flags, timeout, netmask and persistence engine of an existing service. */
  editService(service: IpvsService): Promise<void>;
  delService(key: VirtualServiceKey): Promise<void>;
  addDest(key: VirtualServiceKey, dest: IpvsDest): Promise<void>;
  /** Replaces forwarding, weight, thresholds and tunnel settings of an existing destination. */
  editDest(key: VirtualServiceKey, dest: IpvsDest): Promise<void>;
  delDest(key: VirtualServiceKey, dest: DestKey): Promise<void>;

  getTimeouts(): Promise<Timeouts>;
  /** Omitted (or 0) timeouts keep their current value. */
  setTimeouts(timeouts: Partial<Timeouts>): Promise<void>;

  /** Running sync daemons (none, master, backup or both). */
  listDaemons(): Promise<SyncDaemon[]>;
  startDaemon(daemon: SyncDaemon): Promise<void>;
  stopDaemon(state: SyncState): Promise<void>;

  /** Deletes every virtual service (ipvsadm -C). */
  flush(): Promise<void>;
  /** Zeroes the counters of one service, or of all when no key is given. */
  zero(key?: VirtualServiceKey): Promise<void>;

  /**
   * Applies many operations in order, batched, and reports each one's outcome (index-aligned with
   * `ops`). A failed operation does not stop the others: an operation that depends on it fails on
   * its own (e.g. a destination of a service that could not be added gets ESRCH).
   */
  apply(ops: readonly IpvsOp[]): Promise<IpvsOpResult[]>;

  close(): void;
}

/** Throws the error of a one-operation apply. */
export function expectOk(results: readonly IpvsOpResult[]): void {
  for (const r of results) if (!r.ok) throw r.error;
}
