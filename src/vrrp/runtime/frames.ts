// Frames the takeover sends through an AF_PACKET socket, and the IPv6 header our raw IPv6 send
// socket writes itself (IPPROTO_RAW implies header-included, as IP_HDRINCL does for IPv4).
//   - gratuitous ARP: an ARP request whose sender and target IP are both the VIP (RFC 5227 §3,
//     "ARP Announcement"), broadcast, so every neighbour that caches the VIP updates its MAC;
//     the target MAC is zero as RFC 5227 asks (Linux ignores it for requests).
//   - unsolicited neighbour advertisement (RFC 4861 §7.2.6): ICMPv6 type 136 to ff02::1 with the
//     Override flag and a Target Link-Layer Address option, hop limit 255.
import { mustParseIp } from '../../address/index.js';
import { internetChecksum } from '../checksum.js';
import { pseudoHeader, VRRP_PROTOCOL, VRRP_TTL } from '../packet.js';

export const ETH_P_ARP = 0x0806;
export const ETH_P_IPV4 = 0x0800;
export const ETH_P_IPV6 = 0x86dd;
export const BROADCAST_MAC = Buffer.from('ffffffffffff', 'hex');
/** ff02::1, all nodes, maps to 33:33:00:00:00:01 (RFC 2464 §7). */
export const ALL_NODES_IPV6 = 'ff02::1';
const ICMPV6 = 58;
const ND_NEIGHBOR_ADVERT = 136;
const ND_NA_FLAG_OVERRIDE = 0x20;
const ND_OPT_TARGET_LL_ADDR = 2;

/** "aa:bb:cc:dd:ee:ff" -> 6 bytes; throws on anything else. */
export function parseMac(text: string): Buffer {
  if (!/^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/.test(text)) throw new TypeError(`not a MAC address: ${JSON.stringify(text)}`);
  return Buffer.from(text.replace(/:/g, ''), 'hex');
}

/** The Ethernet multicast address of an IPv6 multicast group: 33:33 + its last 32 bits. */
export function ipv6MulticastMac(group: string): Buffer {
  const b = mustParseIp('IPv6', group);
  return Buffer.concat([Buffer.from([0x33, 0x33]), b.subarray(12, 16)]);
}

function ethernet(dst: Uint8Array, src: Uint8Array, ethertype: number, payload: Uint8Array): Buffer {
  const f = Buffer.alloc(14 + payload.length);
  Buffer.from(dst).copy(f, 0);
  Buffer.from(src).copy(f, 6);
  f.writeUInt16BE(ethertype, 12);
  f.set(payload, 14);
  return f;
}

/** A whole Ethernet frame announcing that `ip` is at `mac`. */
export function gratuitousArpFrame(mac: Uint8Array, ip: string): Buffer {
  const arp = Buffer.alloc(28);
  arp.writeUInt16BE(1, 0); // hardware type Ethernet
  arp.writeUInt16BE(ETH_P_IPV4, 2);
  arp[4] = 6;
  arp[5] = 4;
  arp.writeUInt16BE(1, 6); // request
  Buffer.from(mac).copy(arp, 8);
  mustParseIp('IPv4', ip).copy(arp, 14);
  // target hardware address (18..23) stays zero
  mustParseIp('IPv4', ip).copy(arp, 24);
  return ethernet(BROADCAST_MAC, mac, ETH_P_ARP, arp);
}

export interface Ipv6HeaderInput {
  src: string;
  dst: string;
  nextHeader: number;
  hopLimit: number;
  trafficClass?: number;
}

/** A 40-byte IPv6 header + payload. */
export function encodeIpv6Packet(h: Ipv6HeaderInput, payload: Uint8Array): Buffer {
  const out = Buffer.alloc(40 + payload.length);
  out.writeUInt32BE((6 << 28) | ((h.trafficClass ?? 0) << 20), 0);
  out.writeUInt16BE(payload.length, 4);
  out[6] = h.nextHeader;
  out[7] = h.hopLimit;
  mustParseIp('IPv6', h.src).copy(out, 8);
  mustParseIp('IPv6', h.dst).copy(out, 24);
  out.set(payload, 40);
  return out;
}

/** A VRRP message wrapped for the IPv6 raw send socket: hop limit 255, traffic class 0xc0 like IPv4's TOS. */
export function encodeVrrpIpv6Packet(src: string, dst: string, vrrp: Uint8Array): Buffer {
  return encodeIpv6Packet({ src, dst, nextHeader: VRRP_PROTOCOL, hopLimit: VRRP_TTL, trafficClass: 0xc0 }, vrrp);
}

/** A whole Ethernet frame: unsolicited NA for `target` (sent from `target` itself) at `mac`. */
export function unsolicitedNaFrame(mac: Uint8Array, target: string): Buffer {
  const icmp = Buffer.alloc(32);
  icmp[0] = ND_NEIGHBOR_ADVERT;
  icmp[4] = ND_NA_FLAG_OVERRIDE; // not Router, not Solicited
  mustParseIp('IPv6', target).copy(icmp, 8);
  icmp[24] = ND_OPT_TARGET_LL_ADDR;
  icmp[25] = 1; // option length in units of 8 bytes
  Buffer.from(mac).copy(icmp, 26);
  const ph = pseudoHeader('IPv6', target, ALL_NODES_IPV6, icmp.length);
  ph[39] = ICMPV6; // pseudoHeader writes VRRP's next header; NA needs ICMPv6's
  icmp.writeUInt16BE(internetChecksum(ph, icmp), 2);
  const ip = encodeIpv6Packet({ src: target, dst: ALL_NODES_IPV6, nextHeader: ICMPV6, hopLimit: 255 }, icmp);
  return ethernet(ipv6MulticastMac(ALL_NODES_IPV6), mac, ETH_P_IPV6, ip);
}
