// Address allocation for LoadBalancer Services, recomputed from scratch on every pass (level
// based): the only state is what the Services' status.loadBalancer.ingress says they hold, so a
// restarted controller rebuilds it by listing Services, as MetalLB does. Services keep what
// they validly hold (oldest first), then the rest are served oldest first. Pure.
import type { IpFamily } from '../address/index.js';
import { type PoolConfig, type PoolsConfig, namespaceMayUse } from './config.js';
import { contains, fromNumber, toNumber } from './ranges.js';

export interface PortKey {
  port: number;
  protocol: string;
}

/** One Service as the allocator sees it. */
export interface AllocationRequest {
  /** namespace/name */
  key: string;
  namespace: string;
  namespaceLabels: Readonly<Record<string, string>> | undefined;
  /** Older first when two want the same address. */
  creationTimestamp: string;
  /** An address per family (spec.ipFamilies; IPv4 when empty). */
  families: readonly IpFamily[];
  /** Canonical addresses asked for (lvs.dev/load-balancer-ips or spec.loadBalancerIP), at most one per family. */
  requested: readonly string[];
  /** The pool asked for (lvs.dev/address-pool). */
  pool: string | undefined;
  /** lvs.dev/allow-shared-ip: Services with the same key and no common port share an address. */
  sharingKey: string | undefined;
  ports: readonly PortKey[];
  /** Canonical addresses in the Service's status now (what it holds). */
  held: readonly string[];
}

export type AllocationFailure =
  | 'NoPool'
  | 'PoolExhausted'
  | 'RequestedAddressNotInPool'
  | 'RequestedAddressInUse'
  | 'NotAllowed'
  | 'UnknownPool';

export interface Allocated {
  ok: true;
  addresses: { address: string; family: IpFamily; pool: PoolConfig }[];
}
export interface NotAllocated {
  ok: false;
  reason: AllocationFailure;
  message: string;
}
export type Allocation = Allocated | NotAllocated;

export interface PoolUsage {
  allocated: number;
  free: bigint;
}

export interface AllocationResult {
  byService: Map<string, Allocation>;
  usage: Map<string, PoolUsage>;
}

interface Holder {
  sharingKey: string | undefined;
  ports: Set<string>;
  services: Set<string>;
}

const portId = (p: PortKey) => `${p.protocol}/${p.port}`;

function older(a: AllocationRequest, b: AllocationRequest): number {
  return a.creationTimestamp < b.creationTimestamp ? -1 : a.creationTimestamp > b.creationTimestamp ? 1 : a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}

/**
 * @param releasing addresses still in the status of Services that are no longer ours: nobody
 *   gets them until that status is cleared (an address is reused only after its release).
 */
export function allocate(config: PoolsConfig, requests: readonly AllocationRequest[], releasing: ReadonlySet<string> = new Set()): AllocationResult {
  const holders = new Map<string, Holder>();
  const sorted = [...requests].sort(older);
  const poolOf = (address: string): PoolConfig | undefined => {
    const n = toNumber(address);
    return n ? config.pools.find((p) => p.ranges.some((r) => contains(r, n.family, n.value))) : undefined;
  };
  const mayUse = (r: AllocationRequest, pool: PoolConfig) =>
    namespaceMayUse(pool, r.namespace, r.namespaceLabels) && (r.pool === undefined || r.pool === pool.name);
  const canJoin = (r: AllocationRequest, address: string): boolean => {
    const h = holders.get(address);
    if (!h) return !releasing.has(address) && !reservedFor(address, r.key);
    if (h.sharingKey === undefined || h.sharingKey !== r.sharingKey) return false;
    return r.ports.every((p) => !h.ports.has(portId(p)));
  };
  const take = (r: AllocationRequest, address: string) => {
    const h = holders.get(address) ?? { sharingKey: r.sharingKey, ports: new Set<string>(), services: new Set<string>() };
    for (const p of r.ports) h.ports.add(portId(p));
    h.services.add(r.key);
    holders.set(address, h);
  };
  // Addresses held now stay reserved for their holder during this pass, kept or not: one that
  // a Service gives up is free only once its status no longer shows it.
  const heldBy = new Map<string, Set<string>>();
  for (const r of sorted) for (const a of r.held) heldBy.set(a, (heldBy.get(a) ?? new Set()).add(r.key));
  const reservedFor = (address: string, key: string) => {
    const by = heldBy.get(address);
    return !!by && !by.has(key);
  };

  // Phase 1: keep what is validly held, oldest Service first.
  const kept = new Map<string, Map<IpFamily, string>>();
  for (const r of sorted) {
    const mine = new Map<IpFamily, string>();
    for (const a of r.held) {
      const n = toNumber(a);
      const pool = poolOf(a);
      if (!n || !pool || !r.families.includes(n.family) || mine.has(n.family)) continue;
      if (!mayUse(r, pool)) continue;
      if (r.requested.some((q) => toNumber(q)?.family === n.family) && !r.requested.includes(a)) continue;
      if (!canJoinHeld(r, a)) continue;
      take(r, a);
      mine.set(n.family, a);
    }
    kept.set(r.key, mine);
  }
  function canJoinHeld(r: AllocationRequest, address: string): boolean {
    const h = holders.get(address);
    if (!h) return true;
    if (h.sharingKey === undefined || h.sharingKey !== r.sharingKey) return false;
    return r.ports.every((p) => !h.ports.has(portId(p)));
  }

  // Phase 2: give each Service what it still lacks.
  const byService = new Map<string, Allocation>();
  for (const r of sorted) {
    const mine = kept.get(r.key)!;
    let failure: NotAllocated | undefined;
    const taken: string[] = [];
    if (r.pool !== undefined && !config.pools.some((p) => p.name === r.pool)) {
      failure = { ok: false, reason: 'UnknownPool', message: `AddressPool ${r.pool} does not exist or is not usable` };
    }
    for (const family of r.families) {
      if (failure || mine.has(family)) continue;
      const want = r.requested.find((q) => toNumber(q)?.family === family);
      const got = want !== undefined ? requestedAddress(r, want) : automatic(r, family);
      if (typeof got === 'string') {
        take(r, got);
        taken.push(got);
        mine.set(family, got);
      } else failure = got;
    }
    if (failure) {
      // All families or none: release what this pass gave (a kept address stays with its holder).
      for (const a of taken) release(r, a);
      for (const a of mine.values()) if (!taken.includes(a)) release(r, a);
      byService.set(r.key, failure);
      continue;
    }
    byService.set(r.key, {
      ok: true,
      addresses: r.families.map((family) => {
        const address = mine.get(family)!;
        return { address, family, pool: poolOf(address)! };
      }),
    });
  }

  function release(r: AllocationRequest, address: string): void {
    const h = holders.get(address);
    if (!h) return;
    h.services.delete(r.key);
    for (const p of r.ports) h.ports.delete(portId(p));
    if (h.services.size === 0) holders.delete(address);
  }

  function requestedAddress(r: AllocationRequest, address: string): string | NotAllocated {
    const pool = poolOf(address);
    if (!pool) return { ok: false, reason: 'RequestedAddressNotInPool', message: `requested address ${address} is in no usable AddressPool` };
    if (!mayUse(r, pool)) {
      return { ok: false, reason: 'NotAllowed', message: `requested address ${address} is in AddressPool ${pool.name}, which namespace ${r.namespace} may not use${r.pool !== undefined && r.pool !== pool.name ? ` (the Service asks for pool ${r.pool})` : ''}` };
    }
    if (!canJoin(r, address)) {
      const users = [...(holders.get(address)?.services ?? heldBy.get(address) ?? [])].filter((k) => k !== r.key);
      return { ok: false, reason: 'RequestedAddressInUse', message: `requested address ${address} is in use${users.length ? ` by Service ${users.join(', ')}` : ' (being released)'} and cannot be shared (lvs.dev/allow-shared-ip differs or a port and protocol is taken)` };
    }
    return address;
  }

  function automatic(r: AllocationRequest, family: IpFamily): string | NotAllocated {
    const candidates = config.pools.filter((p) => mayUse(r, p) && (p.autoAssign || r.pool === p.name) && p.ranges.some((x) => x.family === family));
    if (candidates.length === 0) {
      return { ok: false, reason: 'NoPool', message: `no AddressPool with ${family} addresses that namespace ${r.namespace} may use${r.pool !== undefined ? ` (asked for ${r.pool})` : ' and that assigns automatically'}` };
    }
    // A Service with a sharing key joins an address of its key first, as MetalLB does.
    if (r.sharingKey !== undefined) {
      for (const [address, h] of holders) {
        const pool = poolOf(address);
        if (h.sharingKey === r.sharingKey && pool && candidates.includes(pool) && toNumber(address)?.family === family && canJoin(r, address)) return address;
      }
    }
    for (const pool of candidates) {
      for (const range of pool.ranges) {
        if (range.family !== family) continue;
        for (let v = range.first; v <= range.last; v++) {
          const address = fromNumber(family, v);
          if (!holders.has(address) && canJoin(r, address)) return address;
        }
      }
    }
    return { ok: false, reason: 'PoolExhausted', message: `no free ${family} address in AddressPool ${candidates.map((p) => p.name).join(', ')}` };
  }

  // Usage per pool: distinct addresses held (shared ones once); reserved ones are not free either.
  const usage = new Map<string, PoolUsage>();
  for (const p of config.pools) usage.set(p.name, { allocated: 0, free: p.size });
  const busy = new Set<string>([...holders.keys(), ...releasing, ...heldBy.keys()]);
  for (const a of busy) {
    const pool = poolOf(a);
    const u = pool && usage.get(pool.name);
    if (!u) continue;
    if (holders.has(a)) u.allocated++;
    u.free--;
  }
  return { byService, usage };
}
