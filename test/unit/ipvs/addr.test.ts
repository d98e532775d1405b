import { isIPv4 } from 'node:net';
import { describe, expect, it } from 'vitest';
import { formatV6, parseV4 } from '../../../src/address/index.js';
import { canonicalAddr, encodeAddr, familyOf, prefixToV4Mask, v4MaskToPrefix } from '../../../src/ipvs/codec/addr.js';

describe('IPv4 text', () => {
  it.each(['0.0.0.0', '10.0.0.1', '255.255.255.255', '192.168.100.20'])('parses %s like node:net', (s) => {
    expect(parseV4(s)).toBe(s.split('.').reduce((v, o) => v * 256 + Number(o), 0));
    expect(isIPv4(s)).toBe(true);
  });

  it.each(['', '1.2.3', '1.2.3.4.5', '256.0.0.1', '01.2.3.4', '1..2.3', '1.2.3.', 'a.b.c.d', ' 1.2.3.4', '1.2.3.4 ', '::1', '1.2.3.0004'])(
    'refuses %j, as node:net does', (s) => {
      expect(parseV4(s)).toBe(-1);
      expect(isIPv4(s)).toBe(false);
    });
});

describe('IPv6 text', () => {
  it('encodes the compressed, full, and IPv4-tailed forms', () => {
    expect(encodeAddr('::').toString('hex')).toBe('0'.repeat(32));
    expect(encodeAddr('::1').toString('hex')).toBe(`${'0'.repeat(31)}1`);
    expect(encodeAddr('2001:db8::10').toString('hex')).toBe('20010db8000000000000000000000010');
    expect(encodeAddr('2001:DB8:0:0:0:0:0:10').toString('hex')).toBe('20010db8000000000000000000000010');
    expect(encodeAddr('::ffff:10.1.2.3').toString('hex')).toBe('00000000000000000000ffff0a010203');
    expect(encodeAddr('fe80::1%eth0').toString('hex')).toBe('fe800000000000000000000000000001');
  });

  it('formats like the WHATWG URL serializer (RFC 5952 compression)', () => {
    let seed = 7;
    const rnd = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let i = 0; i < 500; i++) {
      const b = Buffer.alloc(16);
      // Many zero groups, so that runs of every length and position occur.
      for (let g = 0; g < 8; g++) if (rnd() < 0.4) b.writeUInt16BE(Math.floor(rnd() * 65536) >> (rnd() < 0.5 ? 12 : 0), g * 2);
      const text = formatV6(b);
      expect(text).toBe(new URL(`http://[${text}]/`).hostname.slice(1, -1));
      expect(encodeAddr(text)).toEqual(b);
    }
  });

  it('canonicalises and classifies addresses', () => {
    expect(canonicalAddr('2001:0DB8:0000::0001')).toBe('2001:db8::1');
    expect(canonicalAddr('10.0.0.1')).toBe('10.0.0.1');
    expect(familyOf('10.0.0.1')).toBe('IPv4');
    expect(familyOf('fd00::1')).toBe('IPv6');
    expect(familyOf('example.com')).toBeUndefined();
    expect(() => encodeAddr('10.0.0.256')).toThrow(/not an IP address/);
  });
});

describe('IPv4 netmask and prefix length', () => {
  it.each([[0, 0], [8, 0xff000000], [24, 0xffffff00], [31, 0xfffffffe], [32, 0xffffffff]])('/%i <-> %i', (p, m) => {
    expect(prefixToV4Mask(p)).toBe(m);
    expect(v4MaskToPrefix(m)).toBe(p);
  });
  it('reads a non-contiguous mask as its leading one bits', () => {
    expect(v4MaskToPrefix(0xff00ff00)).toBe(8);
  });
});
