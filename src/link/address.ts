// Address text <-> bytes, shared by the link and IPVS layers' callers.
import { isIPv4, isIPv6 } from 'node:net';
import type { Family } from './types.js';

export function familyOf(address: string): Family {
  if (isIPv4(address)) return 4;
  if (isIPv6(address)) return 6;
  throw new Error(`not an IP address: '${address}'`);
}

const ipv4Bytes = (address: string): number[] => address.split('.').map(Number);

function ipv6Words(part: string): number[] {
  if (part === '') return [];
  return part.split(':').flatMap((w) => {
    if (!w.includes('.')) return [parseInt(w, 16)];
    const [a = 0, b = 0, c = 0, d = 0] = ipv4Bytes(w); // embedded IPv4, e.g. ::ffff:192.0.2.1
    return [(a << 8) | b, (c << 8) | d];
  });
}

export function addressToBytes(address: string): Buffer {
  if (isIPv4(address)) return Buffer.from(ipv4Bytes(address));
  if (!isIPv6(address)) throw new Error(`not an IP address: '${address}'`);
  const [head = '', tail] = address.split('::');
  const h = ipv6Words(head);
  const t = tail === undefined ? [] : ipv6Words(tail);
  const all = tail === undefined ? h : [...h, ...new Array<number>(8 - h.length - t.length).fill(0), ...t];
  const buf = Buffer.alloc(16);
  all.forEach((w, i) => buf.writeUInt16BE(w, i * 2));
  return buf;
}

export function bytesToAddress(buf: Uint8Array, family: Family): string {
  if (family === 4) return Array.from(buf.subarray(0, 4)).join('.');
  const words: number[] = [];
  for (let i = 0; i < 16; i += 2) words.push(((buf[i] ?? 0) << 8) | (buf[i + 1] ?? 0));
  // RFC 5952: compress the longest run (>= 2) of zero words.
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (words[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen) { best = i; bestLen = j - i; }
    i = j;
  }
  const hex = words.map((w) => w.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

/** Canonical form of an address string (IPv6 compressed, lower case). */
export function canonicalAddress(address: string): string {
  return bytesToAddress(addressToBytes(address), familyOf(address));
}
