import { describe, expect, it } from 'vitest';
import { Attrs, NLA_F_NESTED, NlDecodeError, NlWriter } from '../../../src/ipvs/codec/nla.js';
import { NLMSG_DONE, NLMSG_ERROR, parseDonePayload, parseErrorPayload, splitMessages } from '../../../src/ipvs/codec/netlink.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

describe('netlink attribute writer', () => {
  it('pads every attribute to 4 bytes with zeros and records the unpadded length', () => {
    const w = new NlWriter(4); // tiny on purpose: growth must keep earlier bytes
    w.u8(1, 0xab);
    w.u16(2, 0x1234);
    w.be16(3, 0x1234);
    w.u32(4, 0xdeadbeef);
    w.be32(5, 0xdeadbeef);
    w.string(6, 'wrr');
    w.string(7, 'abcd');
    expect(w.view()).toEqual(hex(`
      0500 0100 ab000000
      0600 0200 3412 0000
      0600 0300 1234 0000
      0800 0400 efbeadde
      0800 0500 deadbeef
      0800 0600 77727200
      0900 0700 61626364 00000000`));
  });

  it('writes u64 in host order', () => {
    const w = new NlWriter();
    w.u64(1, 2 ** 40 + 5);
    expect(w.view()).toEqual(hex('0c00 0100 0500000000010000'));
  });

  it('sets NLA_F_NESTED on nests and patches their length', () => {
    const w = new NlWriter();
    const n = w.beginNest(1);
    w.u32(2, 7);
    w.endNest(n);
    expect(w.view()).toEqual(hex('0c00 0180 0800 0200 07000000'));
    expect(w.view().readUInt16LE(2)).toBe(1 | NLA_F_NESTED);
  });

  it('writes a netlink header whose length covers the whole message', () => {
    const w = new NlWriter();
    const m = w.beginMessage(0x1c, 0x05, 0x01020304, 0);
    w.genlHeader(4, 1);
    w.u16(1, 2);
    w.endMessage(m);
    expect(w.view()).toEqual(hex('1c000000 1c00 0500 04030201 00000000  04010000  0600 0100 0200 0000'));
  });

  it('take() copies and restarts, so the next message starts at offset 0', () => {
    const w = new NlWriter();
    w.u32(1, 1);
    const a = w.take();
    w.u32(1, 2);
    expect(a).toEqual(hex('0800 0100 01000000'));
    expect(w.view()).toEqual(hex('0800 0100 02000000'));
  });
});

describe('netlink attribute reader', () => {
  it('indexes attributes by type, strips the nested flag, last duplicate wins', () => {
    const buf = hex('0600 0200 3412 0000  0c00 0180 0800 0200 07000000  0800 0500 01000000  0800 0500 02000000');
    const a = new Attrs(buf);
    expect(a.u16(2, 'x')).toBe(0x1234);
    expect(a.nested(1, 'n').u32(2, 'inner')).toBe(7);
    expect(a.u32(5, 'dup')).toBe(2);
    expect(a.has(3)).toBe(false);
    expect(() => a.u32(3, 'missing thing')).toThrow(/missing attribute missing thing/);
  });

  it('reads strings up to the NUL and u64 values exactly', () => {
    const a = new Attrs(hex('0800 0600 77727200  0c00 0100 0500000000010000'));
    expect(a.string(6, 's')).toBe('wrr');
    expect(a.u64(1, 'n')).toBe(2 ** 40 + 5);
  });

  it('refuses attributes that overrun their container or are too short for their type', () => {
    expect(() => new Attrs(hex('0900 0100 00000000'))).toThrow(NlDecodeError);
    expect(() => new Attrs(hex('0200 0100'))).toThrow(/bad length/);
    expect(() => new Attrs(hex('0500 0100 ab000000')).u32(1, 'short')).toThrow(/1 bytes, expected 4/);
  });
});

describe('netlink replies', () => {
  it('splits a datagram into messages and reads NLMSG_ERROR and NLMSG_DONE', () => {
    // An error (-ESRCH = -3) for seq 7 quoting the request header, then DONE for seq 8.
    const dgram = hex(`
      24000000 0200 0001 07000000 00000000  fdffffff  14000000 1c00 0100 07000000 00000000
      14000000 0300 0200 08000000 00000000  00000000`);
    const msgs = splitMessages(dgram);
    expect(msgs.map((m) => [m.type, m.seq])).toEqual([[NLMSG_ERROR, 7], [NLMSG_DONE, 8]]);
    expect(parseErrorPayload(msgs[0]!.payload)).toEqual({ errno: 3, origSeq: 7 });
    expect(parseDonePayload(msgs[1]!.payload)).toBe(0);
  });

  it('refuses a message whose length overruns the datagram', () => {
    expect(() => splitMessages(hex('40000000 0200 0000 01000000 00000000'))).toThrow(/bad length/);
  });
});
