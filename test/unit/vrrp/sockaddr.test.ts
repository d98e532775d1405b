import { endianness } from 'node:os';
import { describe, expect, it } from 'vitest';
import { ipMreqn, ipv6Mreq, isLinkScopedIpv6, sockaddrAddress, sockaddrIn, sockaddrIn6, sockaddrLl } from '../../../src/vrrp/runtime/sockaddr.js';

// Linux's values on every architecture node runs on.
const AF_INET = 2;
const AF_INET6 = 10;
const AF_PACKET = 17;
const host16 = (v: number): string => (endianness() === 'LE' ? Buffer.from([v & 0xff, v >> 8]) : Buffer.from([v >> 8, v & 0xff])).toString('hex');
const host32 = (v: number): string => {
  const b = Buffer.alloc(4);
  if (endianness() === 'LE') b.writeUInt32LE(v);
  else b.writeUInt32BE(v);
  return b.toString('hex');
};

describe('socket addresses as bytes', () => {
  it('sockaddr_in: family in host order, port 0, address, 8 bytes of zero', () => {
    expect(sockaddrIn(AF_INET, '224.0.0.18').toString('hex')).toBe(`${host16(2)}0000e0000012${'00'.repeat(8)}`);
  });

  it('sockaddr_in6: family, port, flow info, address, scope id in host order (28 bytes)', () => {
    const b = sockaddrIn6(AF_INET6, 'ff02::12', 7);
    expect(b.length).toBe(28);
    expect(b.subarray(0, 2).toString('hex')).toBe(host16(10));
    expect(b.subarray(2, 8).toString('hex')).toBe('000000000000');
    expect(b.subarray(8, 24).toString('hex')).toBe('ff020000000000000000000000000012');
    expect(b.subarray(24).toString('hex')).toBe(host32(7));
  });

  it('sockaddr_ll: family, ethertype in network order, ifindex, address length and address', () => {
    const b = sockaddrLl(AF_PACKET, 3, 0x0806, Buffer.from('ffffffffffff', 'hex'));
    expect(b.length).toBe(20);
    expect(b.subarray(0, 2).toString('hex')).toBe(host16(17));
    expect(b.subarray(2, 4).toString('hex')).toBe('0806');
    expect(b.subarray(4, 8).toString('hex')).toBe(host32(3));
    expect(b[11]).toBe(6);
    expect(b.subarray(12, 18).toString('hex')).toBe('ffffffffffff');
  });

  it('reads the address back from what recvmsg returns', () => {
    expect(sockaddrAddress('IPv4', sockaddrIn(AF_INET, '10.1.2.3'))).toBe('10.1.2.3');
    expect(sockaddrAddress('IPv6', sockaddrIn6(AF_INET6, 'fe80::1:2', 2))).toBe('fe80::1:2');
    expect(sockaddrAddress('IPv6', Buffer.alloc(10))).toBeUndefined();
  });

  it('multicast membership requests', () => {
    expect(ipMreqn('224.0.0.18', 4).toString('hex')).toBe(`e000001200000000${host32(4)}`);
    expect(ipv6Mreq('ff02::12', 4).toString('hex')).toBe(`ff020000000000000000000000000012${host32(4)}`);
  });

  it('knows which IPv6 destinations need a scope id', () => {
    expect(isLinkScopedIpv6('fe80::1')).toBe(true);
    expect(isLinkScopedIpv6('febf::1')).toBe(true);
    expect(isLinkScopedIpv6('ff02::12')).toBe(true);
    expect(isLinkScopedIpv6('fec0::1')).toBe(false);
    expect(isLinkScopedIpv6('ff05::2')).toBe(false);
    expect(isLinkScopedIpv6('2001:db8::1')).toBe(false);
  });
});
