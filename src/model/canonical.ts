// The model's side of the address boundary: every address that leaves the model (for compile,
// status, VRRP) is canonical text from the one address module.
import { canonicalIp, canonicalIpSloppy } from '../address/index.js';

const memo = new Map<string, string>();
const sloppyMemo = new Map<string, string | undefined>();
/** Enough for every address of a large cluster; past it the memo starts over. */
const memoLimit = 1 << 16;

function remember<V>(m: Map<string, V>, k: string, v: V): V {
  if (m.size >= memoLimit) m.clear();
  m.set(k, v);
  return v;
}

/**
 * canonicalIp, remembered: a full resolve canonicalizes every backend address (tens of
 * thousands) on every call, while the addresses themselves rarely change. Invalid input
 * throws, as canonicalIp does, and is not remembered. For fields our schema validated.
 */
export function canonical(address: string): string {
  return memo.get(address) ?? remember(memo, address, canonicalIp(address));
}

/**
 * For addresses Kubernetes validated more loosely (EndpointSlices): IPv4 leading zeros read as
 * decimal; undefined for text that is no address, so the caller leaves it out with an issue
 * instead of failing the whole resolve.
 */
export function canonicalKube(address: string): string | undefined {
  return sloppyMemo.has(address) ? sloppyMemo.get(address) : remember(sloppyMemo, address, canonicalIpSloppy(address));
}
