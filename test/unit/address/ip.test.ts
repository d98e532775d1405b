import { isIPv4, isIPv6 } from 'node:net';
import { describe, expect, it } from 'vitest';
import {
  addressLength, canonicalIp, canonicalIpSloppy, compareIp, formatHostPort, formatIp, formatV4, formatV6, ipBytes, ipFamily, ipVersion, mustParseIp, parseIp, parseV4, v6Bytes,
} from '../../../src/address/index.js';

// Deterministic pseudo-random bytes (no flaky seeds).
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

describe('the one address module', () => {
  it('canonicalizes every spelling of an address to one text', () => {
    const spellings: [string, string][] = [
      ['2001:DB8::1', '2001:db8::1'],
      ['2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
      ['2001:db8:0:0::0001', '2001:db8::1'],
      ['2001:db8:0:1:0:0:0:1', '2001:db8:0:1::1'],
      ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], // the first of two equal runs
      ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'], // a single zero word stays
      ['::FFFF:192.0.2.1', '::ffff:c000:201'],
      ['::', '::'],
      ['192.0.2.10', '192.0.2.10'],
    ];
    for (const [text, want] of spellings) expect(canonicalIp(text), text).toBe(want);
  });

  it('refuses what is not an address, as node:net does (no zones, no leading zeros in IPv4)', () => {
    for (const bad of ['', '1.2.3', '1.2.3.4.5', '010.0.0.1', '256.0.0.1', '1::2::3', '1:2:3:4:5:6:7:8:9', 'fe80::1%eth0', 'g::1', '1:2:3:4:5:6:7::8']) {
      expect(ipVersion(bad), bad).toBe(isIPv4(bad) ? 4 : isIPv6(bad) && !bad.includes('%') ? 6 : undefined);
      expect(() => canonicalIp(bad), bad).toThrow(/not an IP address/);
    }
  });

  it('agrees with node:net on 20,000 mutated addresses, and round-trips every valid one through bytes', () => {
    const r = rng(7);
    const alphabet = '0123456789abcdefABCDEF:.';
    let valid = 0;
    for (let i = 0; i < 20_000; i++) {
      const bytes = Buffer.from(Array.from({ length: 16 }, () => (r() < 0.4 ? 0 : Math.floor(r() * 256))));
      let text = r() < 0.2 ? formatV4(bytes) : formatV6(bytes);
      // Mutate: replace, insert or drop a character, or upper-case everything.
      const at = Math.floor(r() * text.length);
      const c = alphabet[Math.floor(r() * alphabet.length)]!;
      const op = Math.floor(r() * 5);
      if (op === 0) text = text.slice(0, at) + c + text.slice(at + 1);
      else if (op === 1) text = text.slice(0, at) + c + text.slice(at);
      else if (op === 2) text = text.slice(0, at) + text.slice(at + 1);
      else if (op === 3) text = text.toUpperCase();
      const node = isIPv4(text) ? 4 : isIPv6(text) ? 6 : undefined;
      expect(ipVersion(text), text).toBe(node);
      if (node === undefined) continue;
      valid++;
      const b = ipBytes(text)!;
      expect(b.length).toBe(node === 4 ? 4 : 16);
      expect(ipBytes(canonicalIp(text))!.equals(b), text).toBe(true);
      expect(canonicalIp(canonicalIp(text))).toBe(canonicalIp(text));
    }
    expect(valid).toBeGreaterThan(5_000);
  });

  it('parses dotted quads to their value', () => {
    expect(parseV4('192.0.2.1')).toBe(0xc0000201);
    expect(parseV4('255.255.255.255')).toBe(0xffffffff);
    expect(v6Bytes('::ffff:1.2.3.4')!.subarray(12).equals(Buffer.from([1, 2, 3, 4]))).toBe(true);
  });
});

describe('addresses as Kubernetes reads them (EndpointSlices)', () => {
  it('reads IPv4 octets with leading zeros as decimal, like ParseIPSloppy and kube-proxy', () => {
    expect(canonicalIpSloppy('10.001.002.010')).toBe('10.1.2.10');
    expect(canonicalIpSloppy('000.0.00.0')).toBe('0.0.0.0');
    expect(canonicalIpSloppy('::ffff:010.0.0.1')).toBe('::ffff:a00:1');
    expect(canonicalIpSloppy('FD00::0001')).toBe('fd00::1');
  });

  it('still refuses what is no address at all', () => {
    for (const bad of ['', '10.1.2.300', '1.2.3', 'fd00::1::2', 'example.com', '0x0a.0.0.1']) expect(canonicalIpSloppy(bad), bad).toBeUndefined();
  });
});

describe('family and host:port', () => {
  it('names the family in the one vocabulary', () => {
    expect(ipFamily('192.0.2.1')).toBe('IPv4');
    expect(ipFamily('::ffff:192.0.2.1')).toBe('IPv6');
    expect(ipFamily('nope')).toBeUndefined();
  });

  it('brackets IPv6 in host:port', () => {
    expect(formatHostPort('192.0.2.1', 80)).toBe('192.0.2.1:80');
    expect(formatHostPort('2001:db8::1', 80)).toBe('[2001:db8::1]:80');
  });
});

describe('addresses of a given family (the wire codecs: VRRP, IPVS, rtnetlink)', () => {
  it.each([
    ['IPv4', '10.0.0.1', '0a000001'],
    ['IPv4', '255.255.255.255', 'ffffffff'],
    ['IPv6', 'fe80::1', 'fe800000000000000000000000000001'],
    ['IPv6', 'FF02::12', 'ff020000000000000000000000000012'],
    ['IPv6', '1:2:3:4:5:6:1.2.3.4', '00010002000300040005000601020304'],
  ] as const)('%s %s is %s on the wire, and reads back canonically', (family, text, hex) => {
    const b = parseIp(family, text)!;
    expect(b.toString('hex')).toBe(hex);
    expect(b.length).toBe(addressLength(family));
    expect(formatIp(family, b)).toBe(canonicalIp(text));
    expect(formatIp(family, Buffer.concat([Buffer.alloc(3), b]), 3)).toBe(canonicalIp(text));
  });

  it('refuses an address of the other family', () => {
    expect(parseIp('IPv4', '::1')).toBeUndefined();
    expect(parseIp('IPv6', '10.0.0.1')).toBeUndefined();
    expect(() => mustParseIp('IPv6', '10.0.0.1')).toThrow(/not an IPv6 address/);
  });

  it('orders addresses numerically, not as text, whatever their spelling', () => {
    expect(compareIp('IPv4', '10.0.0.9', '10.0.0.10')).toBeLessThan(0);
    expect(compareIp('IPv4', '192.168.1.1', '10.0.0.1')).toBeGreaterThan(0);
    expect(compareIp('IPv6', 'fe80::a', 'fe80::9')).toBeGreaterThan(0);
    expect(compareIp('IPv6', 'fe80::1', 'FE80:0::1')).toBe(0);
  });
});
