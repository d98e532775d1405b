// ICMP / ICMPv6 echo (RFC 792, RFC 4443), pure: the request the ping probe sends on a raw socket
// and what a received packet means for it. A raw socket sees every ICMP packet the host gets, so
// a reply counts only with our id, sequence and payload, from the address we pinged.
import type { IpFamily } from '../../address/index.js';

const ECHO_REQUEST = { IPv4: 8, IPv6: 128 } as const;
const ECHO_REPLY = { IPv4: 0, IPv6: 129 } as const;
/** The errors that quote our request back: destination unreachable and time exceeded. */
const ERRORS = { IPv4: [3, 11], IPv6: [1, 3] } as const;
const IPV6_HEADER = 40;

export interface EchoId {
  id: number;
  seq: number;
  payload: Buffer;
}

/** RFC 1071 Internet checksum. */
export function internetChecksum(b: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i + 1 < b.length; i += 2) sum += (b[i]! << 8) | b[i + 1]!;
  if (b.length % 2 === 1) sum += b[b.length - 1]! << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/**
 * The echo request. IPv4 carries its checksum; for ICMPv6 the kernel fills it in (it covers a
 * pseudo-header with the source address, which only the kernel knows).
 */
export function encodeEchoRequest(family: IpFamily, echo: EchoId): Buffer {
  const b = Buffer.alloc(8 + echo.payload.length);
  b[0] = ECHO_REQUEST[family];
  b.writeUInt16BE(echo.id, 4);
  b.writeUInt16BE(echo.seq, 6);
  echo.payload.copy(b, 8);
  if (family === 'IPv4') b.writeUInt16BE(internetChecksum(b), 2);
  return b;
}

export type EchoVerdict = { kind: 'reply' } | { kind: 'error'; type: number; code: number } | { kind: 'other' };

/**
 * Judges one packet from a raw ICMP socket: for IPv4 it starts with the IP header, for IPv6 with
 * the ICMPv6 header (the kernel strips it). `fromTarget` says whether it came from the pinged
 * address; an error may come from a router on the way, so only its quoted request must be ours.
 */
export function judgeEchoPacket(family: IpFamily, packet: Uint8Array, echo: EchoId, fromTarget: boolean): EchoVerdict {
  const b = Buffer.from(packet.buffer, packet.byteOffset, packet.byteLength);
  const icmp = family === 'IPv4' ? afterIpv4Header(b) : b;
  if (!icmp || icmp.length < 8) return { kind: 'other' };
  const type = icmp[0]!;
  if (type === ECHO_REPLY[family]) {
    const ours = fromTarget && sameEcho(icmp, echo) && icmp.subarray(8).equals(echo.payload);
    return ours ? { kind: 'reply' } : { kind: 'other' };
  }
  if ((ERRORS[family] as readonly number[]).includes(type)) {
    const quoted = icmp.subarray(8);
    const request = family === 'IPv4' ? afterIpv4Header(quoted) : quoted.length >= IPV6_HEADER ? quoted.subarray(IPV6_HEADER) : undefined;
    if (request && request.length >= 8 && request[0] === ECHO_REQUEST[family] && sameEcho(request, echo)) {
      return { kind: 'error', type, code: icmp[1]! };
    }
  }
  return { kind: 'other' };
}

function afterIpv4Header(b: Buffer): Buffer | undefined {
  if (b.length < 20 || b[0]! >> 4 !== 4) return undefined;
  const ihl = (b[0]! & 0x0f) * 4;
  return ihl >= 20 && b.length >= ihl ? b.subarray(ihl) : undefined;
}

function sameEcho(icmp: Buffer, echo: EchoId): boolean {
  return icmp.readUInt16BE(4) === echo.id && icmp.readUInt16BE(6) === echo.seq;
}

const ERROR_TEXT: Readonly<Record<IpFamily, Readonly<Record<number, string>>>> = {
  IPv4: { 3: 'destination unreachable', 11: 'time exceeded' },
  IPv6: { 1: 'destination unreachable', 3: 'time exceeded' },
};

/** `destination unreachable (ICMP type 3 code 1)` */
export function icmpErrorText(family: IpFamily, type: number, code: number): string {
  return `${ERROR_TEXT[family][type] ?? 'error'} (${family === 'IPv4' ? 'ICMP' : 'ICMPv6'} type ${type} code ${code})`;
}
