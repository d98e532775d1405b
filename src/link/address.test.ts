import { describe, expect, it } from 'vitest';
import { addressToBytes, bytesToAddress, canonicalAddress, familyOf } from './address.js';

describe('address codec', () => {
  it.each([
    ['192.0.2.1', 'c0000201'],
    ['::1', '00000000000000000000000000000001'],
    ['2001:db8::10', '20010db8000000000000000000000010'],
    ['::ffff:192.0.2.1', '00000000000000000000ffffc0000201'],
    ['fe80::1:2:3:4', 'fe800000000000000001000200030004'],
  ])('%s encodes to %s and back', (text, hex) => {
    const b = addressToBytes(text);
    expect(b.toString('hex')).toBe(hex);
    expect(addressToBytes(bytesToAddress(b, familyOf(text))).toString('hex')).toBe(hex);
  });

  it('canonicalises IPv6 like RFC 5952', () => {
    expect(canonicalAddress('2001:0DB8:0:0:0:0:0:10')).toBe('2001:db8::10');
    expect(canonicalAddress('2001:db8:0:1:0:0:0:1')).toBe('2001:db8:0:1::1');
    expect(canonicalAddress('1:0:0:2:0:0:0:3')).toBe('1:0:0:2::3');
  });

  it('refuses text that is no address', () => {
    expect(() => addressToBytes('10.0.0.256')).toThrow(/not an IP address/);
    expect(() => familyOf('vip')).toThrow(/not an IP address/);
  });
});
