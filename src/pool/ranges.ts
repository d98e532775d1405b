// Address ranges of pools as numbers: an IPv6 pool may be a /64, so addresses are bigints and a
// range is never expanded into a list. Pure.
import { type IpFamily, canonicalIp, formatIp, ipBytes, ipFamily } from '../address/index.js';

export interface AddressRange {
  family: IpFamily;
  /** Inclusive. */
  first: bigint;
  last: bigint;
  /** The spec entry it came from, for messages. */
  entry: string;
}

export function toNumber(address: string): { family: IpFamily; value: bigint } | undefined {
  const b = ipBytes(address);
  const family = ipFamily(address);
  if (!b || !family) return undefined;
  return { family, value: BigInt(`0x${b.toString('hex')}`) };
}

export function fromNumber(family: IpFamily, value: bigint): string {
  const len = family === 'IPv4' ? 4 : 16;
  const b = Buffer.from(value.toString(16).padStart(len * 2, '0'), 'hex');
  return formatIp(family, b);
}

/**
 * One spec entry (`192.0.2.0/28`, `192.0.2.10-192.0.2.20`) as a range, or an error message.
 * The schema refuses malformed entries at admission; this repeats the checks it cannot make in
 * CEL (the order of an IPv6 range) and guards against objects written before a rule existed.
 */
export function parseEntry(entry: string): AddressRange | string {
  const dash = entry.indexOf('-');
  if (dash >= 0) {
    const a = toNumber(entry.slice(0, dash));
    const b = toNumber(entry.slice(dash + 1));
    if (!a || !b) return `${entry}: not a range of two addresses`;
    if (a.family !== b.family) return `${entry}: a range must start and end in the same address family`;
    if (a.value > b.value) return `${entry}: a range must not end before it starts`;
    return { family: a.family, first: a.value, last: b.value, entry };
  }
  const slash = entry.indexOf('/');
  const base = slash >= 0 ? toNumber(entry.slice(0, slash)) : undefined;
  const prefix = Number(entry.slice(slash + 1));
  if (!base || !Number.isInteger(prefix)) return `${entry}: not a CIDR`;
  const bits = base.family === 'IPv4' ? 32 : 128;
  if (prefix < 0 || prefix > bits) return `${entry}: prefix length out of range`;
  const hostMask = (1n << BigInt(bits - prefix)) - 1n;
  if ((base.value & hostMask) !== 0n) return `${entry}: bits set after the prefix length`;
  return { family: base.family, first: base.value, last: base.value | hostMask, entry };
}

export function overlaps(a: AddressRange, b: AddressRange): boolean {
  return a.family === b.family && a.first <= b.last && b.first <= a.last;
}

export function contains(r: AddressRange, family: IpFamily, value: bigint): boolean {
  return r.family === family && r.first <= value && value <= r.last;
}

export function size(r: AddressRange): bigint {
  return r.last - r.first + 1n;
}

/** The canonical text of an address, or undefined when it is not one (annotation input). */
export function canonical(text: string): string | undefined {
  try {
    return canonicalIp(text.trim());
  } catch {
    return undefined;
  }
}
