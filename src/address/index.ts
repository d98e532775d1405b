// IP address text <-> bytes, the canonical text (RFC 5952) that everything compares, and the
// address family: the one place addresses are parsed and formatted. The IPVS codec, rtnetlink,
// the VRRP wire format and the model all use it, so an address reads back from the kernel exactly
// as the model spells it. Pure: no sockets, no node:net (which validates but gives no bytes).

/**
 * The one family vocabulary of the whole program, the one the API and Kubernetes (EndpointSlice
 * addressType) speak: the IPVS model, the VRRP codec and rtnetlink use it too. Only the wire
 * codecs turn it into the kernel's AF numbers (src/ipvs/codec/service.ts, src/link/rtnetlink.ts,
 * the VRRP sockets).
 */
export type IpFamily = 'IPv4' | 'IPv6';

/**
 * Dotted-quad IPv4 to its 32-bit value, or -1 when `s` is not one. No leading zeros ("010" is
 * octal to some tools and decimal to others). Hand-rolled: encoding tens of thousands of
 * addresses per netlink batch is the IPVS client's hot path.
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

/** The 4 bytes of a dotted quad, or undefined. */
export function v4Bytes(s: string): Buffer | undefined {
  const v = parseV4(s);
  if (v < 0) return undefined;
  const out = Buffer.alloc(4);
  out.writeUInt32BE(v, 0);
  return out;
}

/**
 * The 16 bytes of an IPv6 address (with `::` and a trailing dotted quad), or undefined. No zone
 * (`%eth0`): callers that accept one strip it first.
 */
export function v6Bytes(text: string): Buffer | undefined {
  if (text.length === 0 || text.length > 45) return undefined;
  const lastColon = text.lastIndexOf(':');
  if (lastColon < 0) return undefined;
  // A trailing dotted quad ("::ffff:10.0.0.1") is the last two 16-bit words.
  if (text.includes('.', lastColon)) {
    const v4 = parseV4(text.slice(lastColon + 1));
    if (v4 < 0) return undefined;
    text = `${text.slice(0, lastColon + 1)}${(v4 >>> 16).toString(16)}:${(v4 & 0xffff).toString(16)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const left = words(halves[0] ?? '');
  const right = halves.length === 2 ? words(halves[1] ?? '') : [];
  if (!left || !right) return undefined;
  const given = left.length + right.length;
  // "::" stands for at least one zero word; without it all eight must be written.
  if (halves.length === 2 ? given > 7 : given !== 8) return undefined;
  const all = [...left, ...new Array<number>(8 - given).fill(0), ...right];
  const out = Buffer.alloc(16);
  all.forEach((w, i) => out.writeUInt16BE(w, i * 2));
  return out;
}

function words(s: string): number[] | undefined {
  if (s === '') return [];
  const out: number[] = [];
  for (const g of s.split(':')) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
    out.push(parseInt(g, 16));
  }
  return out;
}

/** 4 bytes for IPv4, 16 for IPv6, or undefined when `text` is neither. */
export function ipBytes(text: string): Buffer | undefined {
  return v4Bytes(text) ?? v6Bytes(text);
}

/** 4 or 6 by the address's family, or undefined when `text` is not an address. */
export function ipVersion(text: string): 4 | 6 | undefined {
  if (parseV4(text) >= 0) return 4;
  return v6Bytes(text) ? 6 : undefined;
}

/** The family of an address, or undefined when `text` is not one. */
export function ipFamily(text: string): IpFamily | undefined {
  const v = ipVersion(text);
  return v === undefined ? undefined : v === 4 ? 'IPv4' : 'IPv6';
}

/** 4 for IPv4, 16 for IPv6: the bytes of one address on the wire. */
export function addressLength(family: IpFamily): 4 | 16 {
  return family === 'IPv4' ? 4 : 16;
}

/** The bytes of `text` when it is an address of `family`, or undefined. */
export function parseIp(family: IpFamily, text: string): Buffer | undefined {
  return family === 'IPv4' ? v4Bytes(text) : v6Bytes(text);
}

/** Like parseIp, for addresses the program itself supplies (already validated): a bad one is a bug, so throw. */
export function mustParseIp(family: IpFamily, text: string): Buffer {
  const b = parseIp(family, text);
  if (!b) throw new TypeError(`not an ${family} address: ${JSON.stringify(text)}`);
  return b;
}

/** The canonical text of the address of `family` at `b[at]`. */
export function formatIp(family: IpFamily, b: Uint8Array, at = 0): string {
  return family === 'IPv4' ? formatV4(b, at) : formatV6(b, at);
}

/** Numeric order of two addresses of one family (negative, zero, positive), as VRRP's tie-break needs. */
export function compareIp(family: IpFamily, a: string, b: string): number {
  return Buffer.compare(mustParseIp(family, a), mustParseIp(family, b));
}

export function formatV4(b: Uint8Array, at = 0): string {
  return `${b[at]}.${b[at + 1]}.${b[at + 2]}.${b[at + 3]}`;
}

/** RFC 5952: lower case, no leading zeros, the longest run (>= 2) of zero words as `::`, first on a tie. */
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

/** The canonical text of an address ("2001:DB8:0::1" -> "2001:db8::1"); throws on anything else. */
export function canonicalIp(text: string): string {
  if (parseV4(text) >= 0) return text;
  const b = v6Bytes(text);
  if (!b) throw new TypeError(`not an IP address: ${JSON.stringify(text)}`);
  return formatV6(b);
}

/**
 * The canonical text of an address as Kubernetes reads it (ParseIPSloppy), or undefined: IPv4
 * octets with leading zeros are decimal ("010" is 10), as kube-proxy programs them. Only for
 * addresses the API server validated loosely (EndpointSlices); our own CRDs refuse such text.
 */
export function canonicalIpSloppy(text: string): string | undefined {
  const colon = text.lastIndexOf(':');
  const tail = text.slice(colon + 1);
  // Only a dotted quad (alone or as an IPv6 tail) can carry decimal leading zeros.
  const t = tail.includes('.') ? text.slice(0, colon + 1) + tail.split('.').map((o) => o.replace(/^0+(?=\d)/, '')).join('.') : text;
  if (parseV4(t) >= 0) return t;
  const b = v6Bytes(t);
  return b ? formatV6(b) : undefined;
}

/** `addr:port`, or `[addr]:port` for IPv6 (RFC 3986), as ipvsadm and URLs write them. */
export function formatHostPort(addr: string, port: number): string {
  return addr.includes(':') ? `[${addr}]:${port}` : `${addr}:${port}`;
}
