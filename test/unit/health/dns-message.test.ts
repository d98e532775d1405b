import { describe, expect, it } from 'vitest';
import { dnsTypeCodes, encodeDnsQuery, judgeDnsReply } from '../../../src/health/probes/dns-message.js';

/** A reply header (+ optional body) as a server would send it. */
function reply(id: number, flags: number, counts: [number, number, number, number] = [1, 1, 0, 0], body = Buffer.alloc(0)): Buffer {
  const h = Buffer.alloc(12);
  h.writeUInt16BE(id, 0);
  h.writeUInt16BE(flags, 2);
  counts.forEach((c, i) => h.writeUInt16BE(c, 4 + i * 2));
  return Buffer.concat([h, body]);
}
const QR = 0x8000;

describe('DNS_CHECK query encoding (keepalived dns_make_query)', () => {
  it('writes id, RD only, one question of class IN and nothing else', () => {
    const q = encodeDnsQuery(0xbeef, 'www.example.org', 'AAAA');
    expect(q.toString('hex')).toBe(
      'beef' + '0100' + '0001' + '0000' + '0000' + '0000' +
      '03777777' + '076578616d706c65' + '036f7267' + '00' + '001c' + '0001',
    );
  });

  it('takes a trailing dot as the same name, and "" and "." as the root', () => {
    expect(encodeDnsQuery(1, 'example.org.', 'A')).toEqual(encodeDnsQuery(1, 'example.org', 'A'));
    const root = encodeDnsQuery(7, '.', 'SOA');
    expect(root.subarray(12).toString('hex')).toBe('00' + '0006' + '0001');
    expect(encodeDnsQuery(7, '', 'SOA')).toEqual(root);
  });

  it('uses the RFC type codes', () => {
    expect(dnsTypeCodes).toEqual({ A: 1, NS: 2, CNAME: 5, SOA: 6, MX: 15, TXT: 16, AAAA: 28 });
    for (const [t, code] of Object.entries(dnsTypeCodes)) {
      const q = encodeDnsQuery(1, 'a', t as keyof typeof dnsTypeCodes);
      expect(q.readUInt16BE(q.length - 4)).toBe(code);
    }
  });

  it('refuses names the wire cannot carry (as keepalived refuses empty labels)', () => {
    expect(() => encodeDnsQuery(1, 'a..b', 'A')).toThrow(/empty label/);
    expect(() => encodeDnsQuery(1, '.a', 'A')).toThrow(/empty label/);
    expect(() => encodeDnsQuery(1, `${'x'.repeat(64)}.org`, 'A')).toThrow(/over 63/);
    expect(() => encodeDnsQuery(1, Array(50).fill('abcdef').join('.'), 'A')).toThrow(/over 255/);
    expect(encodeDnsQuery(1, `${'x'.repeat(63)}.org`, 'A').length).toBe(12 + 1 + 63 + 1 + 3 + 1 + 4);
  });
});

describe('DNS_CHECK reply rule (keepalived dns_recv_thread)', () => {
  it('passes a NOERROR response with the same id, with or without answers', () => {
    expect(judgeDnsReply(reply(0x1234, QR | 0x0180), 0x1234)).toEqual({ kind: 'pass' });
    // NODATA: keepalived does not look at ANCOUNT
    expect(judgeDnsReply(reply(0x1234, QR | 0x0580, [1, 0, 1, 0]), 0x1234)).toEqual({ kind: 'pass' });
  });

  it('fails on any other RCODE, naming it', () => {
    expect(judgeDnsReply(reply(9, QR | 3), 9)).toEqual({ kind: 'fail', reason: 'rcode 3 (NXDOMAIN)' });
    expect(judgeDnsReply(reply(9, QR | 2), 9)).toEqual({ kind: 'fail', reason: 'rcode 2 (SERVFAIL)' });
    expect(judgeDnsReply(reply(9, QR | 5), 9)).toEqual({ kind: 'fail', reason: 'rcode 5 (REFUSED)' });
    expect(judgeDnsReply(reply(9, QR | 11), 9)).toEqual({ kind: 'fail', reason: 'rcode 11' });
  });

  it('ignores what is not the answer: another id, a query (QR clear), a short datagram', () => {
    expect(judgeDnsReply(reply(10, QR), 9)).toMatchObject({ kind: 'ignore', why: 'id 10 is not 9' });
    expect(judgeDnsReply(reply(9, 0x0100), 9)).toMatchObject({ kind: 'ignore', why: 'a query, not a response' });
    expect(judgeDnsReply(reply(9, QR).subarray(0, 11), 9)).toMatchObject({ kind: 'ignore', why: 'short message (11 bytes)' });
    expect(judgeDnsReply(Buffer.alloc(0), 9)).toMatchObject({ kind: 'ignore' });
  });

  it('reads the header of a view into a larger buffer at its own offset', () => {
    const big = Buffer.concat([Buffer.from([0xff, 0xff, 0xff]), reply(9, QR | 3)]);
    expect(judgeDnsReply(big.subarray(3), 9)).toEqual({ kind: 'fail', reason: 'rcode 3 (NXDOMAIN)' });
  });
});
