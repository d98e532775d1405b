// IP address text <-> the 16-byte `union nf_inet_addr` the IPVS attributes carry (IPv4 in the first
// 4 bytes, rest zero). IPv6 is formatted canonically (RFC 5952) so addresses compare as strings.
import { isIPv6 } from 'node:net';
import type { NlWriter } from './nla.js';
import type { AddressFamily } from '../types.js';

/**
 * Dotted-quad IPv4 to its 32-bit value, or -1 when `s` is not one (no leading zeros, as node:net).
 * Hand-rolled: encoding tens of thousands of addresses per batch is the client's hot path.
 */
export function parseV4(s: string): number {
  const n = s.length;
  if (n < 7 || n > 15) return -1;
  let value = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || dots === 3) return -1;
      value = value * 256 + octet;
      octet = 0;
      digits = 0;
      dots++;
    } else if (c >= 48 && c <= 57) {
      if (digits > 0 && octet === 0) return -1;
      octet = octet * 10 + (c - 48);
      if (++digits > 3 || octet > 255) return -1;
    } else {
      return -1;
    }
  }
  if (dots !== 3 || digits === 0) return -1;
  return value * 256 + octet;
}

export function familyOf(addr: string): AddressFamily | undefined {
  if (parseV4(addr) >= 0) return 'inet';
  if (isIPv6(addr)) return 'inet6';
  return undefined;
}

function parseV4Into(s: string, out: Buffer, at: number): void {
  const v = parseV4(s);
  if (v < 0) throw new TypeError(`not an IPv4 address: ${JSON.stringify(s)}`);
  out.writeUInt32BE(v, at);
}

/** 16 bytes for the ADDR attributes. Throws on text that is not an IP address. */
export function encodeAddr(addr: string): Buffer {
  const out = Buffer.alloc(16);
  const v4 = parseV4(addr);
  if (v4 >= 0) {
    out.writeUInt32BE(v4, 0);
    return out;
  }
  if (!isIPv6(addr)) throw new TypeError(`not an IP address: ${JSON.stringify(addr)}`);
  let text = addr;
  const zone = text.indexOf('%');
  if (zone !== -1) text = text.slice(0, zone);
  // An embedded IPv4 tail (::ffff:1.2.3.4) becomes two hex groups.
  const lastColon = text.lastIndexOf(':');
  const tail = text.slice(lastColon + 1);
  if (tail.includes('.')) {
    const v4 = Buffer.alloc(4);
    parseV4Into(tail, v4, 0);
    text = `${text.slice(0, lastColon + 1)}${v4.readUInt16BE(0).toString(16)}:${v4.readUInt16BE(2).toString(16)}`;
  }
  const [head, rest] = text.split('::') as [string, string | undefined];
  const headGroups = head === '' ? [] : head.split(':');
  const tailGroups = rest === undefined || rest === '' ? [] : rest.split(':');
  const groups = rest === undefined
    ? headGroups
    : [...headGroups, ...Array<string>(8 - headGroups.length - tailGroups.length).fill('0'), ...tailGroups];
  for (let i = 0; i < 8; i++) out.writeUInt16BE(parseInt(groups[i]!, 16), i * 2);
  return out;
}

/** Writes a 16-byte address attribute; IPv4 without intermediate allocation. */
export function writeAddr(w: NlWriter, type: number, addr: string): void {
  const v4 = parseV4(addr);
  if (v4 >= 0) w.addrV4(type, v4);
  else w.bytes(type, encodeAddr(addr));
}

export function formatV4(b: Uint8Array, at = 0): string {
  return `${b[at]}.${b[at + 1]}.${b[at + 2]}.${b[at + 3]}`;
}

/** RFC 5952: lowercase, no leading zeros, the longest run (>= 2) of zero groups as "::", first on a tie. */
export function formatV6(b: Uint8Array, at = 0): string {
  const g: number[] = [];
  for (let i = 0; i < 8; i++) g.push((b[at + i * 2]! << 8) | b[at + i * 2 + 1]!);
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8;) {
    if (g[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) { bestStart = i; bestLen = j - i; }
    i = j;
  }
  const hex = (xs: number[]): string => xs.map((x) => x.toString(16)).join(':');
  if (bestLen < 2) return hex(g);
  return `${hex(g.slice(0, bestStart))}::${hex(g.slice(bestStart + bestLen))}`;
}

export function decodeAddr(b: Uint8Array, af: AddressFamily): string {
  return af === 'inet' ? formatV4(b) : formatV6(b);
}

/** Canonical text of an address (e.g. "2001:DB8:0::1" -> "2001:db8::1"). */
export function canonicalAddr(addr: string): string {
  const af = familyOf(addr);
  if (!af) throw new TypeError(`not an IP address: ${JSON.stringify(addr)}`);
  return decodeAddr(encodeAddr(addr), af);
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
