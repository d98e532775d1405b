import { describe, expect, it } from 'vitest';
import { canonicalIp, compareIp, formatIpv6, parseIpv4, parseIpv6 } from '../../../src/vrrp/addr.js';
import { internetChecksum } from '../../../src/vrrp/checksum.js';

describe('IP address text', () => {
  it.each([
    ['10.0.0.1', '0a000001'],
    ['255.255.255.255', 'ffffffff'],
    ['0.0.0.0', '00000000'],
  ])('parses IPv4 %s', (text, hex) => {
    expect(parseIpv4(text)?.toString('hex')).toBe(hex);
  });

  it.each(['10.0.0', '10.0.0.1.2', '256.0.0.1', '010.0.0.1', '1.2.3.-1', ' 1.2.3.4', '1.2.3.4 ', '', 'a.b.c.d'])(
    'refuses IPv4 %j',
    (text) => {
      expect(parseIpv4(text)).toBeUndefined();
    },
  );

  it.each([
    ['::', '00000000000000000000000000000000'],
    ['::1', '00000000000000000000000000000001'],
    ['fe80::1', 'fe800000000000000000000000000001'],
    ['FF02::12', 'ff020000000000000000000000000012'],
    ['2001:db8:0:0:1:0:0:1', '20010db8000000000001000000000001'],
    ['1::', '00010000000000000000000000000000'],
    ['::ffff:192.0.2.1', '00000000000000000000ffffc0000201'],
    ['1:2:3:4:5:6:7:8', '00010002000300040005000600070008'],
    ['1:2:3:4:5:6:1.2.3.4', '00010002000300040005000601020304'],
  ])('parses IPv6 %s', (text, hex) => {
    expect(parseIpv6(text)?.toString('hex')).toBe(hex);
  });

  it.each(['', ':', ':::', '1:::2', '1::2::3', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7', '12345::', 'g::', '::1.2.3', '1:2:3:4:5:6:7:1.2.3.4', ':1::', 'fe80::1%eth0', '10.0.0.1'])(
    'refuses IPv6 %j',
    (text) => {
      expect(parseIpv6(text)).toBeUndefined();
    },
  );

  it.each([
    ['2001:0db8:0000:0000:0001:0000:0000:0001', '2001:db8::1:0:0:1'], // first of two equal runs
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'], // a single zero word is not shortened
    ['0:0:0:0:0:0:0:0', '::'],
    ['FE80:0:0:0:0:0:0:53', 'fe80::53'],
    ['1:0:0:2:0:0:0:3', '1:0:0:2::3'], // the longest run wins
  ])('formats %s as RFC 5952 %s', (text, canon) => {
    expect(canonicalIp('ipv6', text)).toBe(canon);
    expect(formatIpv6(parseIpv6(canon)!)).toBe(canon);
  });

  it('orders addresses numerically, not as text', () => {
    expect(compareIp('ipv4', '10.0.0.9', '10.0.0.10')).toBeLessThan(0);
    expect(compareIp('ipv4', '192.168.1.1', '10.0.0.1')).toBeGreaterThan(0);
    expect(compareIp('ipv6', 'fe80::a', 'fe80::9')).toBeGreaterThan(0);
    expect(compareIp('ipv6', 'fe80::1', 'FE80:0::1')).toBe(0);
  });
});

describe('internet checksum', () => {
  it('matches the RFC 1071 §3 example', () => {
    // Words 0001 f203 f4f5 f6f7 sum to 0x2ddf0 -> 0xddf2; the checksum is its complement.
    expect(internetChecksum(Buffer.from('0001f203f4f5f6f7', 'hex'))).toBe(0x220d);
  });

  it('is the same however the input is split into chunks, odd ones included', () => {
    const all = Buffer.from('45c0002400010000ff700000c0a80001e0000012ab', 'hex');
    const whole = internetChecksum(all);
    for (let i = 0; i <= all.length; i++) {
      for (let j = i; j <= all.length; j++) {
        expect(internetChecksum(all.subarray(0, i), all.subarray(i, j), all.subarray(j))).toBe(whole);
      }
    }
  });

  it('a message carrying its own checksum sums to zero', () => {
    const m = Buffer.from('4500001c000040004011000001020304050607080000', 'hex');
    m.writeUInt16BE(internetChecksum(m), 10);
    expect(internetChecksum(m)).toBe(0);
  });
});
