// IP address text <-> bytes for the VRRP codec, by family, over the one address module (src/address).
import { formatV4 as formatIpv4, formatV6 as formatIpv6, v4Bytes as parseIpv4, v6Bytes as parseIpv6 } from '../address/index.js';

export { formatIpv4, formatIpv6, parseIpv4, parseIpv6 };

export type IpFamily = 'ipv4' | 'ipv6';

export function addressLength(family: IpFamily): 4 | 16 {
  return family === 'ipv4' ? 4 : 16;
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
