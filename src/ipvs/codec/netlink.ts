// Netlink message headers, error/done messages and the generic netlink controller request that
// resolves a family name to its id (linux/netlink.h, linux/genetlink.h).
import { NLMSG_HDRLEN, GENL_HDRLEN, NlWriter, NlDecodeError, Attrs, readU16, readU32, readI32, nlaAlign } from './nla.js';

export const NETLINK_GENERIC = 16;

export const NLM_F_REQUEST = 0x01;
export const NLM_F_MULTI = 0x02;
export const NLM_F_ACK = 0x04;
export const NLM_F_ROOT = 0x100;
export const NLM_F_MATCH = 0x200;
export const NLM_F_DUMP = NLM_F_ROOT | NLM_F_MATCH;

export const NLMSG_NOOP = 1;
export const NLMSG_ERROR = 2;
export const NLMSG_DONE = 3;
export const NLMSG_OVERRUN = 4;

export const GENL_ID_CTRL = 0x10;
export const CTRL_CMD_GETFAMILY = 3;
export const CTRL_ATTR_FAMILY_ID = 1;
export const CTRL_ATTR_FAMILY_NAME = 2;
export const CTRL_VERSION = 1;

export interface NlMessage {
  type: number;
  flags: number;
  seq: number;
  pid: number;
  /** Payload after the 16-byte header. */
  payload: Buffer;
}

/** Splits one received datagram into its netlink messages. */
export function splitMessages(buf: Buffer): NlMessage[] {
  const out: NlMessage[] = [];
  let off = 0;
  while (off + NLMSG_HDRLEN <= buf.length) {
    const len = readU32(buf, off);
    if (len < NLMSG_HDRLEN || off + len > buf.length) {
      throw new NlDecodeError(`netlink message at offset ${off} has bad length ${len}`);
    }
    out.push({
      type: readU16(buf, off + 4),
      flags: readU16(buf, off + 6),
      seq: readU32(buf, off + 8),
      pid: readU32(buf, off + 12),
      payload: buf.subarray(off + NLMSG_HDRLEN, off + len),
    });
    off += nlaAlign(len);
  }
  return out;
}

/** NLMSG_ERROR payload: {int error; struct nlmsghdr msg; ...}. error is 0 for an ACK, else -errno. */
export function parseErrorPayload(payload: Buffer): { errno: number; origSeq: number } {
  if (payload.length < 4 + NLMSG_HDRLEN) throw new NlDecodeError('short NLMSG_ERROR message');
  return { errno: 0 - readI32(payload, 0) || 0, origSeq: readU32(payload, 4 + 8) };
}

/** NLMSG_DONE payload is an int: 0, or -errno when the dump failed. */
export function parseDonePayload(payload: Buffer): number {
  return payload.length >= 4 ? 0 - readI32(payload, 0) || 0 : 0;
}

export interface GenlMessage {
  cmd: number;
  version: number;
  attrs: Attrs;
}

export function parseGenl(payload: Buffer): GenlMessage {
  if (payload.length < GENL_HDRLEN) throw new NlDecodeError('short generic netlink message');
  return { cmd: payload[0]!, version: payload[1]!, attrs: new Attrs(payload, GENL_HDRLEN) };
}

/** CTRL_CMD_GETFAMILY request for one family name. */
export function encodeGetFamily(w: NlWriter, name: string, seq: number): void {
  const m = w.beginMessage(GENL_ID_CTRL, NLM_F_REQUEST | NLM_F_ACK, seq);
  w.genlHeader(CTRL_CMD_GETFAMILY, CTRL_VERSION);
  w.string(CTRL_ATTR_FAMILY_NAME, name);
  w.endMessage(m);
}

export function decodeFamilyReply(payload: Buffer): { id: number; name: string } {
  const { attrs } = parseGenl(payload);
  return { id: attrs.u16(CTRL_ATTR_FAMILY_ID, 'CTRL_ATTR_FAMILY_ID'), name: attrs.string(CTRL_ATTR_FAMILY_NAME, 'CTRL_ATTR_FAMILY_NAME') };
}
