// DNS_CHECK's wire format (RFC 1035 4.1), pure: the one query keepalived sends and its rule for
// judging a reply (keepalived/check/check_dns.c, 2.2.7).
import type { DnsQueryType } from '../types.js';

/** RFC 1035 / 3596 type codes of the types DNS_CHECK accepts. */
export const dnsTypeCodes: Readonly<Record<DnsQueryType, number>> = { A: 1, NS: 2, CNAME: 5, SOA: 6, MX: 15, TXT: 16, AAAA: 28 };

const HEADER_BYTES = 12;
const FLAG_QR = 0x8000;
const FLAG_RD = 0x0100;
const CLASS_IN = 1;
const MAX_LABEL = 63;
const MAX_NAME = 255;

const rcodeNames: Readonly<Record<number, string>> = { 1: 'FORMERR', 2: 'SERVFAIL', 3: 'NXDOMAIN', 4: 'NOTIMP', 5: 'REFUSED' };

/**
 * The query keepalived builds: the given id, RD set (it asks for recursion), one question of
 * class IN, no other sections, no EDNS. `name` may end with a dot; "" and "." are the root.
 * Throws on a name the wire cannot carry (an empty label, a label over 63 bytes, over 255 in all).
 */
export function encodeDnsQuery(id: number, name: string, type: DnsQueryType): Buffer {
  const header = Buffer.alloc(HEADER_BYTES);
  header.writeUInt16BE(id & 0xffff, 0);
  header.writeUInt16BE(FLAG_RD, 2);
  header.writeUInt16BE(1, 4); // QDCOUNT
  const tail = Buffer.alloc(4);
  tail.writeUInt16BE(dnsTypeCodes[type], 0);
  tail.writeUInt16BE(CLASS_IN, 2);
  return Buffer.concat([header, encodeName(name), tail]);
}

function encodeName(name: string): Buffer {
  const trimmed = name.endsWith('.') ? name.slice(0, -1) : name;
  const parts: Buffer[] = [];
  if (trimmed !== '') {
    for (const label of trimmed.split('.')) {
      const bytes = Buffer.from(label, 'utf8');
      if (bytes.length === 0) throw new Error(`DNS name ${JSON.stringify(name)} has an empty label`);
      if (bytes.length > MAX_LABEL) throw new Error(`DNS name ${JSON.stringify(name)} has a label over ${MAX_LABEL} bytes`);
      parts.push(Buffer.from([bytes.length]), bytes);
    }
  }
  parts.push(Buffer.from([0]));
  const wire = Buffer.concat(parts);
  if (wire.length > MAX_NAME) throw new Error(`DNS name ${JSON.stringify(name)} is over ${MAX_NAME} bytes`);
  return wire;
}

/**
 * What a received datagram means for the query with `id`, by keepalived's rule: shorter than a
 * header, another id, or not a response (QR clear) -> ignore it and keep waiting; a response
 * with RCODE other than NOERROR -> fail; any other response -> pass. Like keepalived, neither the
 * answer count nor the echoed question is looked at: NOERROR with no answer (NODATA) passes.
 */
export type DnsReplyVerdict = { kind: 'ignore'; why: string } | { kind: 'fail'; reason: string } | { kind: 'pass' };

export function judgeDnsReply(reply: Uint8Array, id: number): DnsReplyVerdict {
  if (reply.length < HEADER_BYTES) return { kind: 'ignore', why: `short message (${reply.length} bytes)` };
  const view = Buffer.from(reply.buffer, reply.byteOffset, reply.byteLength);
  const got = view.readUInt16BE(0);
  if (got !== (id & 0xffff)) return { kind: 'ignore', why: `id ${got} is not ${id & 0xffff}` };
  const flags = view.readUInt16BE(2);
  if ((flags & FLAG_QR) === 0) return { kind: 'ignore', why: 'a query, not a response' };
  const rcode = flags & 0x000f;
  if (rcode !== 0) return { kind: 'fail', reason: `rcode ${rcode}${rcodeNames[rcode] ? ` (${rcodeNames[rcode]})` : ''}` };
  return { kind: 'pass' };
}
