// IP address text <-> bytes for the VRRP codec. Kept here (not node:net) because node can
// validate addresses but not convert them to the 4/16 bytes that go on the wire.

export type IpFamily = 'ipv4' | 'ipv6';

export function addressLength(family: IpFamily): 4 | 16 {
  return family === 'ipv4' ? 4 : 16;
}

/** The dotted-quad bytes, or undefined when `text` is not a plain IPv4 address. */
export function parseIpv4(text: string): Buffer | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  const out = Buffer.alloc(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i] ?? '';
    // No leading zeros: "010" is octal to some tools and decimal to others.
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p)) return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    out[i] = n;
  }
  return out;
}

/** The 16 bytes of an IPv6 address (with `::` and a trailing dotted quad), or undefined. */
export function parseIpv6(text: string): Buffer | undefined {
  if (text.length === 0 || text.length > 45) return undefined;
  const lastColon = text.lastIndexOf(':');
  if (lastColon < 0) return undefined;
  // A trailing dotted quad ("::ffff:10.0.0.1") is the last two 16-bit words.
  if (text.includes('.', lastColon)) {
    const v4 = parseIpv4(text.slice(lastColon + 1));
    if (!v4) return undefined;
    text = `${text.slice(0, lastColon + 1)}${v4.readUInt16BE(0).toString(16)}:${v4.readUInt16BE(2).toString(16)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const words = (s: string): number[] | undefined => {
    if (s === '') return [];
    const out: number[] = [];
    for (const g of s.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
      out.push(parseInt(g, 16));
    }
    return out;
  };
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

export function parseIp(family: IpFamily, text: string): Buffer | undefined {
  return family === 'ipv4' ? parseIpv4(text) : parseIpv6(text);
}

/** Like parseIp but for addresses the program itself supplies: a bad one is a bug, so throw. */
export function ipBytes(family: IpFamily, text: string): Buffer {
  const b = parseIp(family, text);
  if (!b) throw new TypeError(`not an ${family} address: ${JSON.stringify(text)}`);
  return b;
}

export function formatIpv4(b: Uint8Array): string {
  return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
}

/** RFC 5952 text: lower case, no leading zeros, the longest run (>= 2) of zero words as `::`. */
export function formatIpv6(b: Uint8Array): string {
  const words: number[] = [];
  for (let i = 0; i < 16; i += 2) words.push((b[i]! << 8) | b[i + 1]!);
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (ws: number[]) => ws.map((w) => w.toString(16)).join(':');
  if (bestLen < 2) return hex(words);
  return `${hex(words.slice(0, bestStart))}::${hex(words.slice(bestStart + bestLen))}`;
}

export function formatIp(family: IpFamily, b: Uint8Array): string {
  return family === 'ipv4' ? formatIpv4(b) : formatIpv6(b);
}

/** The canonical text of an address, so that "FE80:0::1" and "fe80::1" compare equal. */
export function canonicalIp(family: IpFamily, text: string): string {
  return formatIp(family, ipBytes(family, text));
}

/** Numeric order of two addresses of one family (negative, zero, positive), as VRRP's tie-break needs. */
export function compareIp(family: IpFamily, a: string, b: string): number {
  return Buffer.compare(ipBytes(family, a), ipBytes(family, b));
}
