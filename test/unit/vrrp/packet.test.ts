import { describe, expect, it } from 'vitest';
import {
  checkAdvert,
  decodeAdvert,
  DROP_REASONS,
  encodeAdvert,
  passwordAuthData,
  peekVrid,
  pseudoHeader,
  type AdvertExpectation,
  type RxInfo,
  type VrrpAdvert,
  type VrrpV2Advert,
  type VrrpV3Advert,
} from '../../../src/vrrp/packet.js';
import { encodeIpv4Packet, parseIpv4Packet } from '../../../src/vrrp/ipv4-header.js';
import { canonicalIp } from '../../../src/address/index.js';
import { keepalivedAdverts } from './fixtures/keepalived-2.2.7.js';
import { prng } from './prng.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const v4rx: RxInfo = { family: 'IPv4', src: '192.0.2.1', dst: '224.0.0.18', ttl: 255 };
const v6rx: RxInfo = { family: 'IPv6', src: 'fe80::1', dst: 'ff02::12', ttl: 255 };

const v3ipv4: VrrpV3Advert = {
  version: 3,
  family: 'IPv4',
  vrid: 7,
  priority: 100,
  maxAdvertIntervalCs: 100,
  addresses: ['192.0.2.100'],
};
// Built by hand. Pseudo-header c000 0201 e000 0012 0070 000c + message 3107 6401 0064 c000 0264:
// sum 0x2fa5f -> fold 0xfa61 -> complement 0x059e.
const v3ipv4Bytes = hex('31 07 64 01  00 64 05 9e  c0 00 02 64');

const v2pass: VrrpV2Advert = {
  version: 2,
  family: 'IPv4',
  vrid: 7,
  priority: 100,
  advertIntervalSec: 1,
  authType: 1,
  authData: passwordAuthData('secret'),
  addresses: ['192.0.2.100'],
};
// Message only: 2107 6401 0101 c000 0264 7365 6372 6574 0000 sums to 0x284b8 -> 0x84ba -> 0x7b45.
const v2passBytes = hex('21 07 64 01  01 01 7b 45  c0 00 02 64  73 65 63 72 65 74 00 00');

const v3ipv6: VrrpV3Advert = {
  version: 3,
  family: 'IPv6',
  vrid: 7,
  priority: 100,
  maxAdvertIntervalCs: 100,
  addresses: ['fe80::7', '2001:db8::7'],
};
// Pseudo-header fe80::1, ff02::12, length 0x00000028, 0x000070, then the message:
// fe80+0001+ff02+0012+0028+0070+3107+6402+0064+fe80+0007+2001+0db8+0007 = 0x3bfe1 -> 0xbfe4 -> 0x401b.
const v3ipv6Bytes = hex(
  '31 07 64 02  00 64 40 1b' + 'fe80 0000 0000 0000 0000 0000 0000 0007' + '2001 0db8 0000 0000 0000 0000 0000 0007',
);

describe('VRRP encode: hand-built vectors', () => {
  it('VRRPv3 over IPv4, checksum over the IPv4 pseudo-header', () => {
    expect(encodeAdvert(v3ipv4, v4rx).toString('hex')).toBe(v3ipv4Bytes.toString('hex'));
  });

  it('VRRPv2 with PASS auth, checksum over the message only (source/destination do not matter)', () => {
    expect(encodeAdvert(v2pass, v4rx).toString('hex')).toBe(v2passBytes.toString('hex'));
    expect(encodeAdvert(v2pass, { src: '10.1.1.1', dst: '10.2.2.2' }).toString('hex')).toBe(v2passBytes.toString('hex'));
  });

  it('VRRPv3 over IPv6, checksum over the IPv6 pseudo-header', () => {
    expect(encodeAdvert(v3ipv6, v6rx).toString('hex')).toBe(v3ipv6Bytes.toString('hex'));
  });

  it('pseudo-headers have the RFC layouts', () => {
    expect(pseudoHeader('IPv4', '192.0.2.1', '224.0.0.18', 12).toString('hex')).toBe('c0000201e00000120070000c');
    expect(pseudoHeader('IPv6', 'fe80::1', 'ff02::12', 40).toString('hex')).toBe(
      'fe800000000000000000000000000001' + 'ff020000000000000000000000000012' + '00000028' + '00000070',
    );
  });

  it('v3 destination is part of the checksum (unicast peers get their own)', () => {
    const uni = encodeAdvert(v3ipv4, { src: '192.0.2.1', dst: '192.0.2.2' });
    expect(uni.readUInt16BE(6)).not.toBe(0x059e);
    expect(decodeAdvert(uni, { ...v4rx, dst: '192.0.2.2' }).ok).toBe(true);
    expect(decodeAdvert(uni, v4rx)).toMatchObject({ ok: false, reason: 'bad-checksum' });
  });

  it('refuses to build what cannot go on the wire', () => {
    expect(() => encodeAdvert({ ...v3ipv4, vrid: 0 }, v4rx)).toThrow(RangeError);
    expect(() => encodeAdvert({ ...v3ipv4, priority: 256 }, v4rx)).toThrow(RangeError);
    expect(() => encodeAdvert({ ...v3ipv4, maxAdvertIntervalCs: 4096 }, v4rx)).toThrow(RangeError);
    expect(() => encodeAdvert({ ...v3ipv4, addresses: [] }, v4rx)).toThrow(RangeError);
    expect(() => encodeAdvert({ ...v3ipv4, addresses: ['2001:db8::1'] }, v4rx)).toThrow(TypeError);
    expect(() => encodeAdvert({ ...v2pass, advertIntervalSec: 0 }, v4rx)).toThrow(RangeError);
    expect(() => encodeAdvert({ ...v2pass, authData: Buffer.alloc(4) }, v4rx)).toThrow(RangeError);
    expect(() => passwordAuthData('123456789')).toThrow(RangeError);
    expect(passwordAuthData('12345678').toString('hex')).toBe('3132333435363738');
  });
});

describe('VRRP decode', () => {
  it('reads back the hand-built vectors', () => {
    expect(decodeAdvert(v3ipv4Bytes, v4rx)).toEqual({ ok: true, checksum: 0x059e, advert: v3ipv4 });
    expect(decodeAdvert(v2passBytes, v4rx)).toEqual({ ok: true, checksum: 0x7b45, advert: v2pass });
    expect(decodeAdvert(v3ipv6Bytes, v6rx)).toEqual({ ok: true, checksum: 0x401b, advert: v3ipv6 });
  });

  it('round-trips random valid adverts', () => {
    const rnd = prng(7);
    for (let n = 0; n < 500; n++) {
      const family = rnd() < 0.5 ? 'IPv4' : 'IPv6';
      const count = 1 + Math.floor(rnd() * 20);
      const addresses = Array.from({ length: count }, (_, i) =>
        family === 'IPv4'
          ? `10.${i}.${Math.floor(rnd() * 256)}.${Math.floor(rnd() * 256)}`
          : canonicalIp(`2001:db8::${i.toString(16)}:${Math.floor(rnd() * 65536).toString(16)}`),
      );
      const common = { vrid: 1 + Math.floor(rnd() * 255), priority: Math.floor(rnd() * 256), addresses };
      const a: VrrpAdvert =
        family === 'IPv4' && rnd() < 0.5
          ? { version: 2, family, ...common, advertIntervalSec: 1 + Math.floor(rnd() * 255), authType: Math.floor(rnd() * 2), authData: Buffer.from(Array.from({ length: 8 }, () => Math.floor(rnd() * 256))) }
          : { version: 3, family, ...common, maxAdvertIntervalCs: 1 + Math.floor(rnd() * 4095) };
      const rx: RxInfo = family === 'IPv4' ? v4rx : v6rx;
      const d = decodeAdvert(encodeAdvert(a, rx), rx);
      expect(d.ok && d.advert).toEqual(a);
    }
  });

  it('ignores the reserved bits of the v3 interval field, as RFC 5798 says', () => {
    const b = Buffer.from(v3ipv4Bytes);
    b[4] = 0xf0; // reserved bits set; fix the checksum so only the reserved bits differ
    b.writeUInt16BE(0, 6);
    b.writeUInt16BE(checksumOver(pseudoHeader('IPv4', v4rx.src, v4rx.dst, b.length), b), 6);
    const d = decodeAdvert(b, v4rx);
    expect(d.ok && d.advert).toEqual(v3ipv4);
  });

  it.each<[string, Buffer, RxInfo, string]>([
    ['TTL below 255 (routed from elsewhere)', v3ipv4Bytes, { ...v4rx, ttl: 254 }, 'bad-ttl'],
    ['hop limit 1', v3ipv6Bytes, { ...v6rx, ttl: 1 }, 'bad-ttl'],
    ['shorter than the header', v3ipv4Bytes.subarray(0, 7), v4rx, 'bad-length'],
    ['address missing', v3ipv4Bytes.subarray(0, 10), v4rx, 'bad-length'],
    ['trailing bytes', Buffer.concat([v3ipv4Bytes, Buffer.alloc(4)]), v4rx, 'bad-length'],
    ['v2 without its auth data', v2passBytes.subarray(0, 12), v4rx, 'bad-length'],
    ['v3 read as IPv6 (count says 16-byte addresses)', v3ipv4Bytes, v6rx, 'bad-length'],
    ['version 1', patch(v3ipv4Bytes, 0, 0x11), v4rx, 'bad-version'],
    ['version 4', patch(v3ipv4Bytes, 0, 0x41), v4rx, 'bad-version'],
    ['VRRPv2 over IPv6', patch(v3ipv6Bytes, 0, 0x21), v6rx, 'bad-version'],
    ['type 2', patch(v3ipv4Bytes, 0, 0x32), v4rx, 'bad-type'],
    ['a flipped priority bit', patch(v3ipv4Bytes, 2, 0x65), v4rx, 'bad-checksum'],
    ['another source address in the pseudo-header', v3ipv4Bytes, { ...v4rx, src: '192.0.2.9' }, 'bad-checksum'],
    ['IPv6 checksum with a different destination', v3ipv6Bytes, { ...v6rx, dst: 'ff02::1' }, 'bad-checksum'],
    ['v2 bad checksum', patch(v2passBytes, 19, 0x01), v4rx, 'bad-checksum'],
  ])('drops %s', (_what, bytes, rx, reason) => {
    expect(decodeAdvert(bytes, rx)).toMatchObject({ ok: false, reason });
  });

  it('drops a zero interval even with a good checksum', () => {
    const v3 = encodeAdvert(v3ipv4, v4rx);
    v3.writeUInt16BE(0, 4);
    v3.writeUInt16BE(0, 6);
    v3.writeUInt16BE(checksumOver(pseudoHeader('IPv4', v4rx.src, v4rx.dst, v3.length), v3), 6);
    expect(decodeAdvert(v3, v4rx)).toMatchObject({ ok: false, reason: 'bad-interval' });
    const v2 = Buffer.from(v2passBytes);
    v2[5] = 0;
    v2.writeUInt16BE(0, 6);
    v2.writeUInt16BE(checksumOver(v2), 6);
    expect(decodeAdvert(v2, v4rx)).toMatchObject({ ok: false, reason: 'bad-interval' });
  });

  it('TTL is only checked when the socket reports one', () => {
    expect(decodeAdvert(v3ipv4Bytes, { family: 'IPv4', src: v4rx.src, dst: v4rx.dst }).ok).toBe(true);
  });

  it('peekVrid reads the VRID of anything header-sized', () => {
    expect(peekVrid(v3ipv4Bytes)).toBe(7);
    expect(peekVrid(v3ipv4Bytes.subarray(0, 7))).toBeUndefined();
  });
});

describe('checkAdvert: what depends on local configuration', () => {
  const v2exp: AdvertExpectation = {
    version: 2,
    family: 'IPv4',
    vrid: 7,
    addresses: ['192.0.2.100'],
    advertIntervalMs: 1000,
    authType: 1,
    authData: passwordAuthData('secret'),
  };
  const v3exp: AdvertExpectation = { ...v2exp, version: 3, authType: 0, authData: Buffer.alloc(8), advertIntervalMs: 2000 };

  it('accepts matching adverts; v3 accepts another interval (the backup adopts it)', () => {
    expect(checkAdvert(v2pass, v2exp)).toBeUndefined();
    expect(checkAdvert(v3ipv4, v3exp)).toBeUndefined();
  });

  it.each<[string, VrrpAdvert, AdvertExpectation, string]>([
    ['another VRID', { ...v3ipv4, vrid: 8 }, v3exp, 'wrong-vrid'],
    ['v2 advert to a v3 router', v2pass, v3exp, 'bad-version'],
    ['v3 advert to a v2 router', v3ipv4, v2exp, 'bad-version'],
    ['v2 without auth where PASS is configured', { ...v2pass, authType: 0 }, v2exp, 'auth-mismatch'],
    ['v2 with PASS where none is configured', v2pass, { ...v2exp, authType: 0, authData: Buffer.alloc(8) }, 'auth-mismatch'],
    ['v2 with the wrong password', { ...v2pass, authData: passwordAuthData('secreT') }, v2exp, 'auth-mismatch'],
    ['v2 with another interval (RFC 3768 MUST drop)', { ...v2pass, advertIntervalSec: 2 }, v2exp, 'interval-mismatch'],
    ['more addresses than configured', { ...v3ipv4, addresses: ['192.0.2.100', '192.0.2.101'] }, v3exp, 'address-count-mismatch'],
    ['another address', { ...v3ipv4, addresses: ['192.0.2.101'] }, v3exp, 'address-list-mismatch'],
  ])('drops %s', (_what, advert, exp, reason) => {
    expect(checkAdvert(advert, exp)?.reason).toBe(reason);
  });

  it('accepts a wrong address list from the address owner (priority 255), per RFC 5798 §7.1', () => {
    expect(checkAdvert({ ...v3ipv4, priority: 255, addresses: ['192.0.2.101'] }, v3exp)).toBeUndefined();
  });

  it('does not look at the auth data when auth type is none', () => {
    const none = { ...v2exp, authType: 0, authData: Buffer.alloc(8) };
    expect(checkAdvert({ ...v2pass, authType: 0, authData: Buffer.from('garbage!') }, none)).toBeUndefined();
  });
});

describe('keepalived 2.2.7 adverts (captured from the real daemon)', () => {
  for (const cap of keepalivedAdverts) {
    it(`${cap.scenario}: decodes, checks out and re-encodes byte for byte`, () => {
      const bytes = hex(cap.hex);
      let rx: RxInfo;
      let vrrp: Buffer;
      if (cap.family === 'IPv4') {
        const ip = parseIpv4Packet(bytes);
        if (!ip.ok) throw new Error(ip.detail);
        expect(ip.header).toMatchObject({ src: '10.9.0.1', ttl: 255, tos: 0xc0, protocol: 112 });
        expect(encodeIpv4Packet({ src: ip.header.src, dst: ip.header.dst, id: ip.header.id }, ip.payload)).toEqual(bytes);
        rx = { family: 'IPv4', src: ip.header.src, dst: ip.header.dst, ttl: ip.header.ttl };
        vrrp = ip.payload;
      } else {
        rx = { family: 'IPv6', src: cap.src!, dst: cap.dst!, ttl: cap.hopLimit! };
        vrrp = bytes;
      }
      const d = decodeAdvert(vrrp, rx);
      if (!d.ok) throw new Error(`${d.reason}: ${d.detail}`);
      expect(encodeAdvert(d.advert, rx)).toEqual(vrrp);
      expect(expectedFields[cap.scenario]).toBeDefined();
      const { priority, ...rest } = d.advert;
      expect([0, expectedFields[cap.scenario]!.priority]).toContain(priority);
      expect(rest).toMatchObject(expectedFields[cap.scenario]!.fields);
    });
  }

  it('the unicast advert was checksummed with the peer, not the multicast group, as destination', () => {
    const ip = parseIpv4Packet(hex(keepalivedAdverts.find((c) => c.scenario === 'v3-ipv4-unicast')!.hex));
    if (!ip.ok) throw new Error(ip.detail);
    expect(ip.header.dst).toBe('10.9.0.2');
    expect(decodeAdvert(ip.payload, { family: 'IPv4', src: ip.header.src, dst: '224.0.0.18' })).toMatchObject({ reason: 'bad-checksum' });
  });
});

const expectedFields: Record<string, { priority: number; fields: Record<string, unknown> }> = {
  'v3-ipv4': { priority: 100, fields: { version: 3, vrid: 51, maxAdvertIntervalCs: 100, addresses: ['10.9.0.100', '10.9.0.101'] } },
  'v2-ipv4-pass': {
    priority: 150,
    fields: { version: 2, vrid: 52, advertIntervalSec: 1, authType: 1, authData: passwordAuthData('s3cret'), addresses: ['10.9.0.102'] },
  },
  'v3-ipv4-unicast': { priority: 120, fields: { version: 3, vrid: 54, maxAdvertIntervalCs: 200, addresses: ['10.9.0.104'] } },
  'v3-ipv6': { priority: 200, fields: { version: 3, family: 'IPv6', vrid: 53, maxAdvertIntervalCs: 50, addresses: ['fe80::53', 'fd00::53'] } },
};

describe('fuzz: bytes from the network never make the decoder throw', () => {
  it('random buffers only ever yield adverts or known drop reasons', () => {
    const rnd = prng(42);
    const seen = new Set<string>();
    const known = new Set<string>(DROP_REASONS);
    const unknown: string[] = [];
    for (let n = 0; n < 20000; n++) {
      const len = Math.floor(rnd() * 72);
      const b = Buffer.from(Array.from({ length: len }, () => Math.floor(rnd() * 256)));
      // Bias half the inputs towards plausible headers so the deeper checks get exercised too.
      if (len > 0 && rnd() < 0.5) b[0] = rnd() < 0.5 ? 0x31 : 0x21;
      if (len > 3 && rnd() < 0.5) b[3] = Math.floor((len - 8) / 4);
      for (const rx of [v4rx, v6rx]) {
        const d = decodeAdvert(b, rx);
        seen.add(d.ok ? 'ok' : d.reason);
        if (!d.ok && !known.has(d.reason)) unknown.push(d.reason);
      }
      const ip = parseIpv4Packet(b);
      if (!ip.ok && !known.has(ip.reason)) unknown.push(ip.reason);
    }
    expect(unknown).toEqual([]);
    expect([...seen]).toEqual(expect.arrayContaining(['bad-length', 'bad-version', 'bad-type', 'bad-checksum']));
  });

  it('every single-bit flip of a valid advert is caught', () => {
    for (const [bytes, rx] of [
      [v3ipv4Bytes, v4rx],
      [v2passBytes, v4rx],
      [v3ipv6Bytes, v6rx],
    ] as const) {
      for (let bit = 0; bit < bytes.length * 8; bit++) {
        const b = Buffer.from(bytes);
        b[bit >> 3]! ^= 1 << (bit & 7);
        expect(decodeAdvert(b, rx).ok, `bit ${bit}`).toBe(false);
      }
    }
  });
});

function patch(b: Buffer, at: number, value: number): Buffer {
  const c = Buffer.from(b);
  c[at] = value;
  return c;
}

// An independent plain RFC 1071 sum, so the tests do not only trust the code under test.
function checksumOver(...parts: Buffer[]): number {
  const all = Buffer.concat(parts);
  let sum = 0;
  for (let i = 0; i < all.length; i += 2) sum += (all[i]! << 8) | (all[i + 1] ?? 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}
