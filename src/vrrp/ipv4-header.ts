// The IPv4 header around a VRRP message. A raw IPv4 socket hands over the whole packet on
// receive, and keepalived writes the header itself (IP_HDRINCL) on send; these two functions
// keep that byte work out of the native socket layer.
import { formatV4, mustParseIp } from '../address/index.js';
import { internetChecksum } from './checksum.js';
import type { Drop } from './packet.js';
import { VRRP_PROTOCOL, VRRP_TTL } from './packet.js';

export interface Ipv4Header {
  src: string;
  dst: string;
  ttl: number;
  tos: number;
  id: number;
  protocol: number;
}

export type Ipv4ParseResult = { ok: true; header: Ipv4Header; payload: Buffer } | ({ ok: false } & Drop);

/** Split a received IPv4 packet into header fields and payload; refuses fragments and non-VRRP. */
export function parseIpv4Packet(bytes: Uint8Array): Ipv4ParseResult {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (b.length < 20) return { ok: false, reason: 'bad-length', detail: `${b.length} bytes is shorter than an IPv4 header` };
  const version = b[0]! >> 4;
  const ihl = (b[0]! & 0x0f) * 4;
  if (version !== 4 || ihl < 20) return { ok: false, reason: 'bad-ip-header', detail: `version ${version}, header length ${ihl}` };
  const total = b.readUInt16BE(2);
  if (total !== b.length || ihl > total) {
    return { ok: false, reason: 'bad-length', detail: `IPv4 total length ${total}, received ${b.length}` };
  }
  // More-fragments flag or a fragment offset: the kernel reassembles, so a fragment here is bogus.
  if ((b.readUInt16BE(6) & 0x3fff) !== 0) return { ok: false, reason: 'bad-ip-header', detail: 'fragment' };
  const protocol = b[9]!;
  if (protocol !== VRRP_PROTOCOL) return { ok: false, reason: 'bad-ip-header', detail: `protocol ${protocol}` };
  return {
    ok: true,
    header: {
      src: formatV4(b, 12),
      dst: formatV4(b, 16),
      ttl: b[8]!,
      tos: b[1]!,
      id: b.readUInt16BE(4),
      protocol,
    },
    payload: b.subarray(ihl),
  };
}

export interface Ipv4HeaderInput {
  src: string;
  dst: string;
  /** Defaults as keepalived: TTL 255, TOS 0xc0 (internetwork control), id 0 (kernel picks one). */
  ttl?: number;
  tos?: number;
  id?: number;
}

/** A 20-byte IPv4 header (with its checksum; Linux recomputes it under IP_HDRINCL anyway) + payload. */
export function encodeIpv4Packet(h: Ipv4HeaderInput, payload: Uint8Array): Buffer {
  const out = Buffer.alloc(20 + payload.length);
  out[0] = 0x45;
  out[1] = h.tos ?? 0xc0;
  out.writeUInt16BE(out.length, 2);
  out.writeUInt16BE(h.id ?? 0, 4);
  out[8] = h.ttl ?? VRRP_TTL;
  out[9] = VRRP_PROTOCOL;
  mustParseIp('IPv4', h.src).copy(out, 12);
  mustParseIp('IPv4', h.dst).copy(out, 16);
  out.writeUInt16BE(internetChecksum(out.subarray(0, 20)), 10);
  out.set(payload, 20);
  return out;
}
