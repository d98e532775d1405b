// Mutations for the decoder fuzzer. Each draws only from the PRNG it is given, so one case seed
// reproduces one input.
import { NLA_F_NESTED, nlaAlign } from '../../../src/ipvs/codec/nla.js';

export type Rand = () => number;

export const int = (r: Rand, n: number): number => Math.floor(r() * n);

export function randomBytes(r: Rand, n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = int(r, 256);
  return b;
}

/** Lengths a liar would pick: around the edges of a header, the buffer and the field's range. */
function lie(r: Rand, truth: number, max: number): number {
  const picks = [0, 1, 3, 4, 5, 7, 8, 15, 16, 17, 19, 20, truth - 1, truth + 1, truth + 4, truth * 2, max, int(r, max + 1)];
  return picks[int(r, picks.length)]! & max;
}

/** Offsets of every length field of a netlink datagram (u32 message lengths, u16 attribute lengths). */
export function nlLengthFields(b: Buffer): { at: number; size: 2 | 4 }[] {
  const out: { at: number; size: 2 | 4 }[] = [];
  const attrs = (start: number, end: number): void => {
    for (let off = start; off + 4 <= end;) {
      const len = b.readUInt16LE(off);
      if (len < 4 || off + len > end) return;
      out.push({ at: off, size: 2 });
      if (b.readUInt16LE(off + 2) & NLA_F_NESTED) attrs(off + 4, off + len);
      off += nlaAlign(len);
    }
  };
  for (let off = 0; off + 16 <= b.length;) {
    const len = b.readUInt32LE(off);
    if (len < 16 || off + len > b.length) break;
    out.push({ at: off, size: 4 });
    if (b.readUInt16LE(off + 4) > 3) attrs(off + 20, off + len); // data message: after the genl header
    off += nlaAlign(len);
  }
  return out;
}

export type Field = { at: number; size: 1 | 2 | 4; be?: boolean };

/** One random mutation of `b` (a new buffer); `fields` are its length fields, for lies. */
export function mutate(r: Rand, b: Buffer, fields: readonly Field[]): Buffer {
  const out = Buffer.from(b);
  switch (int(r, 6)) {
    case 0: { // bit flips
      for (let n = 1 + int(r, 8); n > 0 && out.length > 0; n--) out[int(r, out.length)]! ^= 1 << int(r, 8);
      return out;
    }
    case 1: // truncation
      return out.subarray(0, int(r, out.length + 1));
    case 2: // extension
      return Buffer.concat([out, randomBytes(r, 1 + int(r, 64))]);
    case 3: { // a length field that lies
      if (fields.length === 0) return out;
      const f = fields[int(r, fields.length)]!;
      if (f.at + f.size > out.length) return out;
      const truth = f.size === 1 ? out[f.at]! : f.size === 2 ? (f.be ? out.readUInt16BE(f.at) : out.readUInt16LE(f.at)) : out.readUInt32LE(f.at);
      const max = f.size === 1 ? 0xff : f.size === 2 ? 0xffff : 0xffffffff;
      const v = lie(r, truth, max) >>> 0;
      if (f.size === 1) out[f.at] = v;
      else if (f.size === 2) f.be ? out.writeUInt16BE(v, f.at) : out.writeUInt16LE(v, f.at);
      else out.writeUInt32LE(v, f.at);
      return out;
    }
    case 4: { // random bytes over a random stretch
      if (out.length === 0) return out;
      const at = int(r, out.length);
      randomBytes(r, Math.min(1 + int(r, 8), out.length - at)).copy(out, at);
      return out;
    }
    default: { // a stretch duplicated elsewhere (repeated attributes, shifted headers)
      if (out.length === 0) return out;
      const from = int(r, out.length);
      const len = 1 + int(r, Math.min(32, out.length - from));
      const at = int(r, out.length + 1);
      return Buffer.concat([out.subarray(0, at), out.subarray(from, from + len), out.subarray(at)]);
    }
  }
}
