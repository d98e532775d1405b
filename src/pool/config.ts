// The AddressPools turned into one validated configuration before anything allocates from them
// (as MetalLB's config package does): ranges parsed, overlaps settled. Of two overlapping pools
// the older (creation time, then name) keeps its addresses and the younger is not used at all,
// so adding a pool never takes an address from under a Service. Pure.
import type { AddressPool, LabelSelector } from '../api/index.js';
import { matchesSelector } from '../model/selector.js';
import { type AddressRange, overlaps, parseEntry, size } from './ranges.js';

export interface PoolConfig {
  name: string;
  ranges: AddressRange[];
  directorGroup: string;
  autoAssign: boolean;
  namespaces: ReadonlySet<string> | undefined;
  namespaceSelector: LabelSelector | undefined;
  /** Addresses in the pool (per family ranges never overlap within one pool after parsing). */
  size: bigint;
}

export interface PoolConflict {
  pool: string;
  addresses: string;
}

/** Why a pool is not used. */
export interface RefusedPool {
  name: string;
  reason: 'Conflict' | 'InvalidAddresses';
  message: string;
  conflicts: PoolConflict[];
}

export interface PoolsConfig {
  /** Usable pools, oldest first: the order automatic allocation tries them in. */
  pools: PoolConfig[];
  refused: Map<string, RefusedPool>;
}

function age(p: AddressPool): [string, string] {
  return [p.metadata.creationTimestamp ?? '', p.metadata.name ?? ''];
}

function older(a: AddressPool, b: AddressPool): number {
  const [ta, na] = age(a);
  const [tb, nb] = age(b);
  return ta < tb ? -1 : ta > tb ? 1 : na < nb ? -1 : na > nb ? 1 : 0;
}

export function buildPoolsConfig(list: readonly AddressPool[]): PoolsConfig {
  const pools: PoolConfig[] = [];
  const refused = new Map<string, RefusedPool>();
  for (const p of [...list].sort(older)) {
    const name = p.metadata.name ?? '';
    const ranges: AddressRange[] = [];
    const errors: string[] = [];
    for (const entry of p.spec.addresses) {
      const r = parseEntry(entry);
      if (typeof r === 'string') errors.push(r);
      else ranges.push(r);
    }
    if (errors.length) {
      refused.set(name, { name, reason: 'InvalidAddresses', message: errors.join('; '), conflicts: [] });
      continue;
    }
    const inner = ranges.flatMap((r, i) => ranges.slice(i + 1).filter((o) => overlaps(r, o)).map((o) => `${r.entry} and ${o.entry}`));
    if (inner.length) {
      refused.set(name, { name, reason: 'InvalidAddresses', message: `entries overlap: ${inner.join('; ')}`, conflicts: [] });
      continue;
    }
    const conflicts: PoolConflict[] = [];
    for (const r of ranges) {
      for (const other of pools) if (other.ranges.some((o) => overlaps(r, o))) conflicts.push({ pool: other.name, addresses: r.entry });
    }
    if (conflicts.length) {
      const message = conflicts.map((c) => `${c.addresses} overlaps AddressPool ${c.pool}`).join('; ');
      refused.set(name, { name, reason: 'Conflict', message: `${message}: the older pool keeps the addresses, this one hands out none`, conflicts });
      continue;
    }
    pools.push({
      name,
      ranges,
      directorGroup: p.spec.directorGroup,
      autoAssign: p.spec.autoAssign,
      namespaces: p.spec.namespaces ? new Set(p.spec.namespaces) : undefined,
      namespaceSelector: p.spec.namespaceSelector,
      size: ranges.reduce((n, r) => n + size(r), 0n),
    });
  }
  return { pools, refused };
}

/**
 * Whether Services of a namespace may take addresses from the pool: listed in namespaces, or
 * matching namespaceSelector; a pool with neither is open to every namespace.
 */
export function namespaceMayUse(pool: PoolConfig, namespace: string, labels: Readonly<Record<string, string>> | undefined): boolean {
  if (!pool.namespaces && !pool.namespaceSelector) return true;
  if (pool.namespaces?.has(namespace)) return true;
  return !!pool.namespaceSelector && matchesSelector(pool.namespaceSelector, labels);
}
