// The decoders as the agent drives them, each input ending in a value or a counted rejection.
import { advertIntervalMs, checkAdvert, decodeAdvert, peekVrid, pseudoHeader, type RxInfo } from '../../../src/vrrp/packet.js';
import { parseIpv4Packet } from '../../../src/vrrp/ipv4-header.js';
import { internetChecksum } from '../../../src/vrrp/checksum.js';
import { decodeConfigReply, decodeDaemonReply, decodeDestReply, decodeInfoReply, decodeServiceReply } from '../../../src/ipvs/codec/messages.js';
import { NLMSG_DONE, NLMSG_ERROR, NLMSG_NOOP, NLMSG_OVERRUN, decodeFamilyReply, parseDonePayload, parseErrorPayload, splitMessages } from '../../../src/ipvs/codec/netlink.js';
import { NlDecodeError } from '../../../src/ipvs/codec/nla.js';
import type { NlKind, VrrpSeed } from './seeds.js';

/** 'accepted', or the drop reason: parseIpv4Packet, then decodeAdvert, then checkAdvert. */
export function decodeVrrp(seed: VrrpSeed, bytes: Buffer): { outcome: string; advert?: unknown } {
  let msg = bytes;
  let rx: RxInfo = { family: 'IPv6', src: seed.src, dst: seed.dst, ttl: 255 };
  if (seed.family === 'IPv4') {
    const p = parseIpv4Packet(bytes);
    if (!p.ok) return { outcome: `ipv4.${p.reason}` };
    msg = p.payload;
    rx = { family: 'IPv4', src: p.header.src, dst: p.header.dst, ttl: p.header.ttl };
  }
  peekVrid(msg); // the demux routes on it before decoding
  const d = decodeAdvert(msg, rx);
  if (!d.ok) return { outcome: `decode.${d.reason}` };
  const a = seed.advert;
  const drop = checkAdvert(d.advert, {
    version: a.version, family: a.family, vrid: a.vrid, addresses: a.addresses, advertIntervalMs: advertIntervalMs(a),
    authType: a.version === 2 ? a.authType : 0, authData: a.version === 2 ? a.authData : Buffer.alloc(8),
  });
  return drop ? { outcome: `check.${drop.reason}`, advert: d.advert } : { outcome: 'accepted', advert: d.advert };
}

/** Recomputes a VRRP message's checksum in place so mutations reach past the checksum check. */
export function fixChecksum(seed: VrrpSeed, msg: Buffer): void {
  if (msg.length < 8) return;
  msg.writeUInt16BE(0, 6);
  const sum = msg[0]! >> 4 === 3 ? internetChecksum(pseudoHeader(seed.family, seed.src, seed.dst, msg.length), msg) : internetChecksum(msg);
  msg.writeUInt16BE(sum, 6);
}

function decodeData(kind: NlKind, payload: Buffer): unknown {
  switch (kind) {
    case 'service': return decodeServiceReply(payload);
    case 'dest-IPv4': return decodeDestReply(payload, 'IPv4');
    case 'dest-IPv6': return decodeDestReply(payload, 'IPv6');
    case 'daemon': return decodeDaemonReply(payload);
    case 'info': return decodeInfoReply(payload);
    case 'config': return decodeConfigReply(payload);
    case 'family': return decodeFamilyReply(payload);
    case 'error': throw new NlDecodeError('data message in an ACK exchange');
  }
}

/** 'ok' with the decoded data messages, or the NlDecodeError message with its numbers blanked. */
export function decodeNl(kind: NlKind, bytes: Buffer): { outcome: string; values: unknown[] } {
  const values: unknown[] = [];
  try {
    for (const m of splitMessages(bytes)) {
      if (m.type === NLMSG_ERROR) parseErrorPayload(m.payload);
      else if (m.type === NLMSG_DONE) parseDonePayload(m.payload);
      else if (m.type !== NLMSG_NOOP && m.type !== NLMSG_OVERRUN) values.push(decodeData(kind, m.payload));
    }
  } catch (e) {
    if (!(e instanceof NlDecodeError)) throw e;
    return { outcome: e.message.replace(/\d+/g, 'N'), values };
  }
  return { outcome: 'ok', values };
}
