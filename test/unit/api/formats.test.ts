import { isIP } from 'node:net';
import { describe, expect, it } from 'vitest';
import { familyOf, isIPv4, isIPv4Netmask, isIPv6 } from '../../../src/api/index.js';

// The address regexes are what the API server runs too (CEL `matches`), so they are
// checked against Node's own parser rather than against a list we wrote ourselves.
describe('address formats agree with node:net', () => {
  it('on hand-picked forms', () => {
    const cases = [
      '0.0.0.0', '192.0.2.1', '255.255.255.255', '01.2.3.4', '256.0.0.1', '1.2.3', '1.2.3.4.5', ' 1.2.3.4',
      '::', '::1', '2001:db8::10', '2001:DB8:0:0:8:800:200C:417A', '1:2:3:4:5:6:7::', '::2:3:4:5:6:7:8',
      '1::2:3:4:5:6:7', '::ffff:192.0.2.1', '64:ff9b::198.51.100.7', '1::2:1.2.3.4', '1:2:3:4:5:6:1.2.3.4',
      '1:2:3:4:5:6:7:8:9', '1::2::3', ':::', '12345::', 'g::1', '1:2:3:4:5:6:7:1.2.3.4', '::1.2.3',
    ];
    for (const s of cases) {
      expect([s, isIPv4(s)]).toEqual([s, isIP(s) === 4]);
      expect([s, isIPv6(s)]).toEqual([s, isIP(s) === 6]);
    }
  });

  it('on 20,000 generated strings', () => {
    let seed = 42;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const group = () => rnd(65536).toString(16);
    const v4 = () => [rnd(256), rnd(256), rnd(256), rnd(256)].join('.');
    for (let i = 0; i < 20000; i++) {
      const groups = Array.from({ length: 8 }, group);
      let s: string;
      switch (rnd(4)) {
        case 0:
          s = groups.slice(0, 1 + rnd(9)).join(':');
          break;
        case 1: {
          const a = rnd(8);
          s = `${groups.slice(0, a).join(':')}::${groups.slice(a + rnd(9 - a)).join(':')}`;
          break;
        }
        case 2: {
          const a = rnd(7);
          s = `${groups.slice(0, a).join(':')}::${groups.slice(a + rnd(7 - a), 6).join(':')}:${v4()}`.replace(':::', '::');
          break;
        }
        default: {
          const alphabet = '0123456789abcdef:.';
          s = Array.from({ length: 1 + rnd(18) }, () => alphabet[rnd(alphabet.length)]).join('');
        }
      }
      expect([s, isIPv6(s), isIPv4(s)]).toEqual([s, isIP(s) === 6, isIP(s) === 4]);
    }
  });

  it('refuses zone ids, which kernel IPVS addresses cannot carry', () => {
    expect(isIPv6('fe80::1%eth0')).toBe(false);
  });

  it('tells the family', () => {
    expect(familyOf('192.0.2.1')).toBe('IPv4');
    expect(familyOf('2001:db8::1')).toBe('IPv6');
  });
});

describe('IPv4 netmasks', () => {
  it('accepts exactly the 32 contiguous masks /1../32', () => {
    let accepted = 0;
    for (let a = 0; a < 256; a++) for (const b of [0, 128, 255]) if (isIPv4Netmask(`${a}.${b}.0.0`)) accepted++;
    expect(isIPv4Netmask('255.255.255.0')).toBe(true);
    expect(isIPv4Netmask('255.255.255.255')).toBe(true);
    expect(isIPv4Netmask('128.0.0.0')).toBe(true);
    expect(isIPv4Netmask('0.0.0.0')).toBe(false);
    expect(isIPv4Netmask('255.0.255.0')).toBe(false);
    expect(isIPv4Netmask('255.255.255.1')).toBe(false);
    // a.b.0.0 forms: /1../8 with b=0 (8) plus 255.128.0.0 (/9) and 255.255.0.0 (/16)
    expect(accepted).toBe(10);
  });
});
