// Address text <-> bytes for rtnetlink, over the one address module (src/address).
import { formatIp, ipBytes, ipFamily } from '../address/index.js';
import type { Family } from './types.js';

export function familyOf(address: string): Family {
  const f = ipFamily(address);
  if (f === undefined) throw new Error(`not an IP address: '${address}'`);
  return f;
}

export function addressToBytes(address: string): Buffer {
  const b = ipBytes(address);
  if (!b) throw new Error(`not an IP address: '${address}'`);
  return b;
}

export function bytesToAddress(buf: Uint8Array, family: Family): string {
  return formatIp(family, buf);
}

/** Canonical form of an address string (IPv6 compressed, lower case). */
export { canonicalIp as canonicalAddress } from '../address/index.js';
