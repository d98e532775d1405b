// Netlink message and attribute (TLV) encoding, written straight into one growable buffer so that
// thousands of messages can be batched into a single sendmsg without intermediate copies.
// Layout (linux/netlink.h): nlmsghdr {u32 len, u16 type, u16 flags, u32 seq, u32 pid}; each
// attribute is {u16 len, u16 type} + payload, padded to 4 bytes. Integers are in host byte order
// unless an attribute is defined big-endian (ports, IPv4 netmask, multicast group).
import { endianness } from 'node:os';

export const NLA_ALIGNTO = 4;
export const NLA_HDRLEN = 4;
export const NLMSG_HDRLEN = 16;
export const GENL_HDRLEN = 4;
export const NLA_F_NESTED = 0x8000;
export const NLA_F_NET_BYTEORDER = 0x4000;
export const NLA_TYPE_MASK = ~(NLA_F_NESTED | NLA_F_NET_BYTEORDER) & 0xffff;

export const nlaAlign = (n: number): number => (n + NLA_ALIGNTO - 1) & ~(NLA_ALIGNTO - 1);

/** Host byte order; every Linux target Node runs on today is little-endian, but say so rather than assume. */
export const HOST_LE = endianness() === 'LE';

export class NlWriter {
  private buf: Buffer;
  private off = 0;

  constructor(initialSize = 4096) {
    this.buf = Buffer.alloc(initialSize);
  }

  get length(): number {
    return this.off;
  }

  /** The bytes written so far (a view, valid until the next write). */
  view(): Buffer {
    return this.buf.subarray(0, this.off);
  }

  /** A copy of the bytes written so far, then start over (the backing buffer is reused). */
  take(): Buffer {
    const out = Buffer.from(this.view());
    this.off = 0;
    return out;
  }

  reset(): void {
    this.off = 0;
  }

  private ensure(n: number): void {
    const need = this.off + n;
    if (need <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < need) size *= 2;
    const next = Buffer.alloc(size);
    this.buf.copy(next, 0, 0, this.off);
    this.buf = next;
  }

  // Plain byte stores: measurably cheaper than Buffer.write* (no argument checks) on the hot path.
  private u16At(pos: number, v: number): void {
    const b = this.buf;
    if (HOST_LE) {
      b[pos] = v & 0xff;
      b[pos + 1] = (v >>> 8) & 0xff;
    } else {
      b[pos] = (v >>> 8) & 0xff;
      b[pos + 1] = v & 0xff;
    }
  }

  private be16At(pos: number, v: number): void {
    this.buf[pos] = (v >>> 8) & 0xff;
    this.buf[pos + 1] = v & 0xff;
  }

  private be32At(pos: number, v: number): void {
    const b = this.buf;
    b[pos] = (v >>> 24) & 0xff;
    b[pos + 1] = (v >>> 16) & 0xff;
    b[pos + 2] = (v >>> 8) & 0xff;
    b[pos + 3] = v & 0xff;
  }

  private u32At(pos: number, v: number): void {
    const b = this.buf;
    if (HOST_LE) {
      b[pos] = v & 0xff;
      b[pos + 1] = (v >>> 8) & 0xff;
      b[pos + 2] = (v >>> 16) & 0xff;
      b[pos + 3] = (v >>> 24) & 0xff;
    } else {
      this.be32At(pos, v);
    }
  }

  /** Starts a netlink message; returns its offset for {@link endMessage}. */
  beginMessage(type: number, flags: number, seq: number, pid = 0): number {
    this.ensure(NLMSG_HDRLEN);
    const start = this.off;
    this.u32At(start, 0);
    this.u16At(start + 4, type);
    this.u16At(start + 6, flags);
    this.u32At(start + 8, seq);
    this.u32At(start + 12, pid);
    this.off += NLMSG_HDRLEN;
    return start;
  }

  endMessage(start: number): void {
    this.u32At(start, this.off - start);
  }

  /** Adds flags to the header of the message written at `start` (e.g. NLM_F_ACK on a batch's last). */
  addMessageFlags(start: number, flags: number): void {
    const b = this.buf;
    const cur = HOST_LE ? b[start + 6]! | (b[start + 7]! << 8) : (b[start + 6]! << 8) | b[start + 7]!;
    this.u16At(start + 6, cur | flags);
  }

  /** Drops everything written after `length` (an encoding that failed half-way). */
  truncate(length: number): void {
    this.off = Math.min(this.off, length);
  }

  /** genlmsghdr {u8 cmd, u8 version, u16 reserved}. */
  genlHeader(cmd: number, version: number): void {
    this.ensure(GENL_HDRLEN);
    this.buf[this.off] = cmd;
    this.buf[this.off + 1] = version;
    this.buf[this.off + 2] = 0;
    this.buf[this.off + 3] = 0;
    this.off += GENL_HDRLEN;
  }

  private attrHeader(type: number, payloadLen: number): void {
    this.ensure(NLA_HDRLEN + nlaAlign(payloadLen));
    this.u16At(this.off, NLA_HDRLEN + payloadLen);
    this.u16At(this.off + 2, type);
    this.off += NLA_HDRLEN;
  }

  private pad(payloadLen: number): void {
    const padded = nlaAlign(payloadLen);
    for (let i = payloadLen; i < padded; i++) this.buf[this.off++] = 0;
  }

  u8(type: number, v: number): void {
    this.attrHeader(type, 1);
    this.buf[this.off++] = v & 0xff;
    this.pad(1);
  }

  u16(type: number, v: number): void {
    this.attrHeader(type, 2);
    this.u16At(this.off, v);
    this.off += 2;
    this.pad(2);
  }

  be16(type: number, v: number): void {
    this.attrHeader(type, 2);
    this.be16At(this.off, v);
    this.off += 2;
    this.pad(2);
  }

  u32(type: number, v: number): void {
    this.attrHeader(type, 4);
    this.u32At(this.off, v);
    this.off += 4;
  }

  be32(type: number, v: number): void {
    this.attrHeader(type, 4);
    this.be32At(this.off, v);
    this.off += 4;
  }

  /** A 16-byte address attribute (union nf_inet_addr) holding an IPv4 address given as a 32-bit value. */
  addrV4(type: number, v4: number): void {
    this.attrHeader(type, 16);
    this.be32At(this.off, v4);
    this.buf.fill(0, this.off + 4, this.off + 16);
    this.off += 16;
  }

  u64(type: number, v: number | bigint): void {
    this.attrHeader(type, 8);
    const big = BigInt(v);
    if (HOST_LE) this.buf.writeBigUInt64LE(big, this.off);
    else this.buf.writeBigUInt64BE(big, this.off);
    this.off += 8;
  }

  /** Appends bytes that are already a complete, aligned attribute (e.g. a cached nest). */
  raw(data: Uint8Array): void {
    this.ensure(data.length);
    this.buf.set(data, this.off);
    this.off += data.length;
  }

  bytes(type: number, data: Uint8Array): void {
    this.attrHeader(type, data.length);
    this.buf.set(data, this.off);
    this.off += data.length;
    this.pad(data.length);
  }

  /** NUL-terminated string (NLA_NUL_STRING). */
  string(type: number, s: string): void {
    const ascii = isAscii(s);
    const len = ascii ? s.length : Buffer.byteLength(s);
    this.attrHeader(type, len + 1);
    if (ascii) for (let i = 0; i < len; i++) this.buf[this.off + i] = s.charCodeAt(i);
    else this.buf.write(s, this.off, 'utf8');
    this.off += len;
    this.buf[this.off++] = 0;
    this.pad(len + 1);
  }

  /** Two u32 in host order as one 8-byte attribute (struct ip_vs_flags). */
  u32Pair(type: number, a: number, b: number): void {
    this.attrHeader(type, 8);
    this.u32At(this.off, a);
    this.u32At(this.off + 4, b);
    this.off += 8;
  }

  /** Starts a nested attribute (NLA_F_NESTED set); returns its offset for {@link endNest}. */
  beginNest(type: number): number {
    this.ensure(NLA_HDRLEN);
    const start = this.off;
    this.u16At(start + 2, type | NLA_F_NESTED);
    this.off += NLA_HDRLEN;
    return start;
  }

  endNest(start: number): void {
    this.u16At(start, this.off - start);
  }
}

export class NlDecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NlDecodeError';
  }
}

/**
 * The attributes of one level, indexed by type (flags stripped; a later duplicate wins, as in the
 * kernel). Keeps offsets into the received buffer instead of slicing it: a full table read-back
 * decodes hundreds of thousands of attributes.
 */
export class Attrs {
  private readonly pos: number[] = [];
  private readonly len: number[] = [];

  constructor(readonly buf: Buffer, start = 0, end = buf.length) {
    let off = start;
    while (off + NLA_HDRLEN <= end) {
      const len = readU16(buf, off);
      const type = readU16(buf, off + 2) & NLA_TYPE_MASK;
      if (len < NLA_HDRLEN || off + len > end) {
        throw new NlDecodeError(`netlink attribute ${type} at offset ${off} has bad length ${len}`);
      }
      this.pos[type] = off + NLA_HDRLEN;
      this.len[type] = len - NLA_HDRLEN;
      off += nlaAlign(len);
    }
  }

  has(type: number): boolean {
    return this.pos[type] !== undefined;
  }

  /** Payload length, or -1 when absent. */
  size(type: number): number {
    return this.len[type] ?? -1;
  }

  private at(type: number, size: number, what: string): number {
    const p = this.pos[type];
    if (p === undefined) throw new NlDecodeError(`missing attribute ${what}`);
    if (this.len[type]! < size) throw new NlDecodeError(`attribute ${what} is ${this.len[type]} bytes, expected ${size}`);
    return p;
  }

  u8(type: number, what: string): number { return this.buf[this.at(type, 1, what)]!; }
  u16(type: number, what: string): number { return readU16(this.buf, this.at(type, 2, what)); }
  be16(type: number, what: string): number { return this.buf.readUInt16BE(this.at(type, 2, what)); }
  u32(type: number, what: string): number { return readU32(this.buf, this.at(type, 4, what)); }
  be32(type: number, what: string): number { return this.buf.readUInt32BE(this.at(type, 4, what)); }
  u64(type: number, what: string): number { return readU64(this.buf, this.at(type, 8, what)); }

  /** Raw payload (a view into the received buffer). */
  bytes(type: number, what: string, minSize = 0): Buffer {
    const p = this.at(type, minSize, what);
    return this.buf.subarray(p, p + this.len[type]!);
  }

  /** NUL-terminated (or not) string. */
  string(type: number, what: string): string {
    const p = this.at(type, 0, what);
    const end = p + this.len[type]!;
    const nul = this.buf.indexOf(0, p);
    return this.buf.toString('utf8', p, nul === -1 || nul > end ? end : nul);
  }

  nested(type: number, what: string): Attrs {
    const p = this.at(type, 0, what);
    return new Attrs(this.buf, p, p + this.len[type]!);
  }
}

/** Scheduler and interface names are ASCII: skip the UTF-8 machinery for them. */
export function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return false;
  return true;
}

/** UTF-8 length, cheaply for ASCII. */
export const utf8Length = (s: string): number => (isAscii(s) ? s.length : Buffer.byteLength(s));

export function readU16(buf: Buffer, off = 0): number {
  return HOST_LE ? buf.readUInt16LE(off) : buf.readUInt16BE(off);
}

export function readU32(buf: Buffer, off = 0): number {
  return HOST_LE ? buf.readUInt32LE(off) : buf.readUInt32BE(off);
}

export function readI32(buf: Buffer, off = 0): number {
  return HOST_LE ? buf.readInt32LE(off) : buf.readInt32BE(off);
}

/** u64 counters as numbers: exact up to 2^53, far beyond any real packet or byte count. */
export function readU64(buf: Buffer, off = 0): number {
  const lo = readU32(buf, HOST_LE ? off : off + 4);
  const hi = readU32(buf, HOST_LE ? off + 4 : off);
  return hi * 0x100000000 + lo;
}
