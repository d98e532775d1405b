// Pure diffs for the agent's non-IPVS kernel state: addresses (VIPs) and sysctls.
// Only what the agent added or changed is ever removed or restored.
import type { InterfaceAddress } from '../link/types.js';

export interface AddressSpec {
  ifname: string;
  address: string;
  prefixLen: number;
}

export const addressKey = (a: AddressSpec): string => `${a.ifname}/${a.address}/${a.prefixLen}`;

export interface AddressDiff {
  add: AddressSpec[];
  remove: AddressSpec[];
  /** Addresses the agent owns once the plan is applied. */
  owned: AddressSpec[];
}

export function diffAddresses(desired: AddressSpec[], observed: InterfaceAddress[], owned: AddressSpec[]): AddressDiff {
  const have = new Set(observed.map(addressKey));
  const ownedKeys = new Set(owned.map(addressKey));
  const wantKeys = new Set(desired.map(addressKey));
  const add: AddressSpec[] = [];
  const nextOwned: AddressSpec[] = [];
  for (const a of desired) {
    const k = addressKey(a);
    if (!have.has(k)) {
      add.push(a);
      nextOwned.push(a);
    } else if (ownedKeys.has(k)) {
      nextOwned.push(a);
    } // present but put there by someone else: use it, never claim it.
  }
  const remove = owned.filter((a) => !wantKeys.has(addressKey(a)) && have.has(addressKey(a)));
  return { add, remove, owned: nextOwned };
}

/** What the agent changed about one sysctl: the value it found and the value it wrote. */
export interface OwnedSysctl {
  original: string;
  applied: string;
}

export interface SysctlDiff {
  set: { key: string; value: string }[];
  /** Keys to put back to what the agent found, because it no longer wants them. */
  restore: { key: string; value: string }[];
  owned: Record<string, OwnedSysctl>;
}

/**
 * `current` holds the present value of every key in `desired` and in `owned` (undefined when the
 * kernel has no such key). A key someone else changed after us is released, not restored.
 */
export function diffSysctls(desired: Record<string, string>, current: Record<string, string | undefined>,
  owned: Record<string, OwnedSysctl>): SysctlDiff {
  const set: SysctlDiff['set'] = [];
  const restore: SysctlDiff['restore'] = [];
  const next: Record<string, OwnedSysctl> = {};
  for (const [key, value] of Object.entries(desired)) {
    const now = current[key];
    if (now === undefined) continue; // no such key in this kernel (e.g. interface gone)
    const prior = owned[key];
    if (now !== value) set.push({ key, value });
    if (prior) next[key] = { original: prior.original, applied: value };
    else if (now !== value) next[key] = { original: now, applied: value };
  }
  for (const [key, o] of Object.entries(owned)) {
    if (key in desired) continue;
    if (current[key] === o.applied && o.original !== o.applied) restore.push({ key, value: o.original });
  }
  return { set, restore, owned: next };
}
