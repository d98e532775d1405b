import { describe, expect, it } from 'vitest';
import { encodeIpv4Packet, parseIpv4Packet } from '../../../src/vrrp/ipv4-header.js';

const payload = Buffer.from('31076401006405 9ec0000264'.replace(/ /g, ''), 'hex');

describe('IPv4 header around VRRP', () => {
  it('builds the header keepalived builds: TOS 0xc0, TTL 255, protocol 112, header checksum', () => {
    const p = encodeIpv4Packet({ src: '192.0.2.1', dst: '224.0.0.18', id: 1 }, payload);
    // 4500 -> 45c0, length 0x20, id 1, no fragment bits, ff70, checksum, addresses.
    // Header words 45c0+0020+0001+0000+ff70+c000+0201+e000+0012 = 0x2e764 -> 0xe766 -> 0x1899.
    expect(p.subarray(0, 20).toString('hex')).toBe('45c0002000010000ff701899c0000201e0000012');
    expect(p.subarray(20)).toEqual(payload);
  });

  it('parses what it builds', () => {
    const p = encodeIpv4Packet({ src: '192.0.2.1', dst: '192.0.2.2', ttl: 64, tos: 0, id: 9 }, payload);
    const r = parseIpv4Packet(p);
    expect(r).toEqual({
      ok: true,
      header: { src: '192.0.2.1', dst: '192.0.2.2', ttl: 64, tos: 0, id: 9, protocol: 112 },
      payload,
    });
  });

  it('skips IP options (IHL > 5)', () => {
    const p = encodeIpv4Packet({ src: '192.0.2.1', dst: '224.0.0.18' }, payload);
    const withOptions = Buffer.concat([p.subarray(0, 20), Buffer.from([1, 1, 1, 0]), payload]);
    withOptions[0] = 0x46;
    withOptions.writeUInt16BE(withOptions.length, 2);
    const r = parseIpv4Packet(withOptions);
    expect(r.ok && r.payload).toEqual(payload);
  });

  it.each<[string, (b: Buffer) => Buffer, string]>([
    ['too short', (b) => b.subarray(0, 19), 'bad-length'],
    ['total length disagrees with what arrived', (b) => b.subarray(0, b.length - 1), 'bad-length'],
    ['IPv6 version nibble', (b) => ((b[0] = 0x65), b), 'bad-ip-header'],
    ['IHL below 5', (b) => ((b[0] = 0x44), b), 'bad-ip-header'],
    ['a fragment', (b) => (b.writeUInt16BE(0x2000, 6), b), 'bad-ip-header'],
    ['another protocol', (b) => ((b[9] = 17), b), 'bad-ip-header'],
  ])('refuses %s', (_what, mangle, reason) => {
    const p = mangle(encodeIpv4Packet({ src: '192.0.2.1', dst: '224.0.0.18' }, payload));
    expect(parseIpv4Packet(p)).toMatchObject({ ok: false, reason });
  });
});
