import { canonicalIp } from '../address/index.js';

const memo = new Map<string, string>();
/** Enough for every address of a large cluster; past it the memo starts over. */
const memoLimit = 1 << 16;

/**
 * canonicalIp, remembered: a full resolve canonicalizes every backend address (tens of
 * thousands) on every call, while the addresses themselves rarely change. Invalid input
 * throws, as canonicalIp does, and is not remembered.
 */
export function canonical(address: string): string {
  let c = memo.get(address);
  if (c === undefined) {
    c = canonicalIp(address);
    if (memo.size >= memoLimit) memo.clear();
    memo.set(address, c);
  }
  return c;
}
