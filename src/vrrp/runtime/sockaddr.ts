// Linux socket addresses as bytes for the native addon's bind/sendto, and back. The layouts are
// the kernel ABI (include/uapi/linux/in.h, in6.h, if_packet.h): family, ifindex and scope id in
// host byte order, ports and protocols in network order.
import { endianness } from 'node:os';
import { formatIp, mustParseIp, type IpFamily } from '../../address/index.js';

const little = endianness() === 'LE';

function u16host(b: Buffer, v: number, at: number): void {
  if (little) b.writeUInt16LE(v, at);
  else b.writeUInt16BE(v, at);
}

function u32host(b: Buffer, v: number, at: number): void {
  if (little) b.writeUInt32LE(v, at);
  else b.writeUInt32BE(v, at);
}

/** struct sockaddr_in (16 bytes), port 0 as raw sockets want. */
export function sockaddrIn(afInet: number, address: string): Buffer {
  const b = Buffer.alloc(16);
  u16host(b, afInet, 0);
  mustParseIp('IPv4', address).copy(b, 4);
  return b;
}

/** struct sockaddr_in6 (28 bytes); `scopeId` is the interface index for link-local and multicast destinations. */
export function sockaddrIn6(afInet6: number, address: string, scopeId = 0): Buffer {
  const b = Buffer.alloc(28);
  u16host(b, afInet6, 0);
  mustParseIp('IPv6', address).copy(b, 8);
  u32host(b, scopeId, 24);
  return b;
}

/** struct sockaddr_ll (20 bytes) to send a whole Ethernet frame out of `ifindex`. */
export function sockaddrLl(afPacket: number, ifindex: number, ethertype: number, dstMac: Uint8Array): Buffer {
  const b = Buffer.alloc(20);
  u16host(b, afPacket, 0);
  b.writeUInt16BE(ethertype, 2);
  if (little) b.writeInt32LE(ifindex, 4);
  else b.writeInt32BE(ifindex, 4);
  b[11] = dstMac.length; // sll_halen
  Buffer.from(dstMac).copy(b, 12, 0, 8);
  return b;
}

/** The address of a received sockaddr_in / sockaddr_in6, or undefined when it is neither. */
export function sockaddrAddress(family: IpFamily, b: Uint8Array): string | undefined {
  if (family === 'IPv4') return b.length >= 8 ? formatIp('IPv4', b.subarray(4, 8)) : undefined;
  return b.length >= 24 ? formatIp('IPv6', b.subarray(8, 24)) : undefined;
}

/** struct ip_mreqn: group, local address 0 (any), interface index. */
export function ipMreqn(group: string, ifindex: number): Buffer {
  const b = Buffer.alloc(12);
  mustParseIp('IPv4', group).copy(b, 0);
  if (little) b.writeInt32LE(ifindex, 8);
  else b.writeInt32BE(ifindex, 8);
  return b;
}

/** struct ipv6_mreq: group, interface index. */
export function ipv6Mreq(group: string, ifindex: number): Buffer {
  const b = Buffer.alloc(20);
  mustParseIp('IPv6', group).copy(b, 0);
  if (little) b.writeInt32LE(ifindex, 16);
  else b.writeInt32BE(ifindex, 16);
  return b;
}

/** Is this IPv6 address link-scoped (fe80::/10 or ff02::/16), so that sending needs a scope id? */
export function isLinkScopedIpv6(address: string): boolean {
  const b = mustParseIp('IPv6', address);
  return (b[0] === 0xfe && (b[1]! & 0xc0) === 0x80) || (b[0] === 0xff && (b[1]! & 0x0f) === 0x02);
}
