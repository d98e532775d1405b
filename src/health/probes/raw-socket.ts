// What the ping and SCTP probes share: a target as an IP address of a known family (names
// resolved first, like node's net.connect does for the other probes) and its sockaddr bytes for
// the native addon.
import { lookup } from 'node:dns/promises';
import net from 'node:net';
import { formatIp, mustParseIp, type IpFamily } from '../../address/index.js';
import { sockaddrIn, sockaddrIn6 } from '../../vrrp/runtime/sockaddr.js';
import type { NativeConstants } from '../../vrrp/runtime/native.js';

export interface ResolvedAddress {
  family: IpFamily;
  /** Canonical text (RFC 5952 for IPv6), as sockaddrAddress formats what the kernel hands back. */
  address: string;
}

export async function resolveAddress(address: string): Promise<ResolvedAddress> {
  const literal = net.isIP(address);
  const ip = literal ? { address, family: literal } : await lookup(address);
  const family: IpFamily = ip.family === 6 ? 'IPv6' : 'IPv4';
  return { family, address: formatIp(family, mustParseIp(family, ip.address)) };
}

/** sockaddr_in / sockaddr_in6 with `port` (network order at offset 2 in both). */
export function sockaddrOf(c: NativeConstants, family: IpFamily, address: string, port = 0): Buffer {
  const b = family === 'IPv4' ? sockaddrIn(c.AF_INET, address) : sockaddrIn6(c.AF_INET6, address);
  b.writeUInt16BE(port, 2);
  return b;
}

export function familyOf(address: string): IpFamily | undefined {
  const v = net.isIP(address);
  return v === 4 ? 'IPv4' : v === 6 ? 'IPv6' : undefined;
}
