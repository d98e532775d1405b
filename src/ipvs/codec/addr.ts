// IP address text <-> the 16-byte `union nf_inet_addr` the IPVS attributes carry (IPv4 in the first
// 4 bytes, rest zero), over the one address module (src/address): IPv6 reads back canonically
// (RFC 5952), so addresses compare as strings.
import { canonicalIp, formatIp, ipFamily, parseV4, v6Bytes, type IpFamily } from '../../address/index.js';
import type { NlWriter } from './nla.js';

/** IPv6 without its zone (`fe80::1%eth0`): IPVS has no use for one. */
function withoutZone(addr: string): string {
  const zone = addr.indexOf('%');
  return zone === -1 ? addr : addr.slice(0, zone);
}

/** The family of an address (any IPv6 zone ignored), or undefined. */
export function familyOf(addr: string): IpFamily | undefined {
  return ipFamily(withoutZone(addr));
}

/** 16 bytes for the ADDR attributes. Throws on text that is not an IP address. */
export function encodeAddr(addr: string): Buffer {
  const v4 = parseV4(addr);
  if (v4 >= 0) {
    const out = Buffer.alloc(16);
    out.writeUInt32BE(v4, 0);
    return out;
  }
  const b = v6Bytes(withoutZone(addr));
  if (!b) throw new TypeError(`not an IP address: ${JSON.stringify(addr)}`);
  return b;
}

/** Writes a 16-byte address attribute; IPv4 without intermediate allocation. */
export function writeAddr(w: NlWriter, type: number, addr: string): void {
  const v4 = parseV4(addr);
  if (v4 >= 0) w.addrV4(type, v4);
  else w.bytes(type, encodeAddr(addr));
}

export function decodeAddr(b: Uint8Array, af: IpFamily): string {
  return formatIp(af, b);
}

/** Canonical text of an address (e.g. "2001:DB8:0::1" -> "2001:db8::1"), any zone dropped. */
export function canonicalAddr(addr: string): string {
  return canonicalIp(withoutZone(addr));
}

/** IPv4 netmask <-> prefix length. A non-contiguous mask reads as its leading one bits. */
export function prefixToV4Mask(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

export function v4MaskToPrefix(mask: number): number {
  let n = 0;
  for (let bit = 31; bit >= 0 && (mask >>> bit) & 1; bit--) n++;
  return n;
}
