import { describe, expect, it } from 'vitest';
import { internetChecksum } from '../../../src/vrrp/checksum.js';
import { pseudoHeader } from '../../../src/vrrp/packet.js';
import {
  encodeIpv6Packet,
  encodeVrrpIpv6Packet,
  gratuitousArpFrame,
  ipv6MulticastMac,
  parseMac,
  unsolicitedNaFrame,
} from '../../../src/vrrp/runtime/frames.js';

const mac = parseMac('02:00:5e:10:20:30');

describe('gratuitous ARP frame', () => {
  it('is a broadcast ARP request with sender IP = target IP = the VIP (RFC 5227 announcement)', () => {
    const f = gratuitousArpFrame(mac, '10.0.0.100');
    expect(f.toString('hex')).toBe(
      'ffffffffffff' + '02005e102030' + '0806' + // Ethernet: broadcast, our MAC, ARP
        '0001' + '0800' + '06' + '04' + '0001' + // Ethernet/IPv4, request
        '02005e102030' + '0a000064' + // sender: our MAC, the VIP
        '000000000000' + '0a000064', // target: zero MAC, the VIP
    );
    expect(f.length).toBe(42);
  });
});

describe('unsolicited neighbour advertisement frame', () => {
  const f = unsolicitedNaFrame(mac, '2001:db8::100');
  const ip = f.subarray(14);
  const icmp = ip.subarray(40);

  it('goes to all nodes (33:33:00:00:00:01, ff02::1) from the VIP with hop limit 255', () => {
    expect(f.subarray(0, 6).toString('hex')).toBe('333300000001');
    expect(f.subarray(6, 12)).toEqual(mac);
    expect(f.readUInt16BE(12)).toBe(0x86dd);
    expect(ip[0]! >> 4).toBe(6);
    expect(ip.readUInt16BE(4)).toBe(32); // payload length
    expect(ip[6]).toBe(58); // ICMPv6
    expect(ip[7]).toBe(255);
    expect(ip.subarray(8, 24).toString('hex')).toBe('20010db8000000000000000000000100');
    expect(ip.subarray(24, 40).toString('hex')).toBe('ff020000000000000000000000000001');
  });

  it('is a type 136 NA with only the Override flag, the target and its link-layer address option', () => {
    expect(icmp[0]).toBe(136);
    expect(icmp[1]).toBe(0);
    expect(icmp.readUInt32BE(4)).toBe(0x20000000);
    expect(icmp.subarray(8, 24).toString('hex')).toBe('20010db8000000000000000000000100');
    expect([icmp[24], icmp[25]]).toEqual([2, 1]);
    expect(icmp.subarray(26, 32)).toEqual(mac);
  });

  it('carries a valid ICMPv6 checksum over the IPv6 pseudo-header', () => {
    const ph = pseudoHeader('IPv6', '2001:db8::100', 'ff02::1', icmp.length);
    ph[39] = 58;
    expect(internetChecksum(ph, icmp)).toBe(0);
    expect(icmp.readUInt16BE(2)).not.toBe(0);
  });
});

describe('IPv6 header for the raw send socket', () => {
  it('writes version, traffic class, length, next header, hop limit and addresses', () => {
    const p = encodeIpv6Packet({ src: 'fe80::1', dst: 'ff02::12', nextHeader: 112, hopLimit: 255, trafficClass: 0xc0 }, Buffer.from([1, 2, 3]));
    expect(p.length).toBe(43);
    expect(p.readUInt32BE(0)).toBe(0x6c000000);
    expect(p.readUInt16BE(4)).toBe(3);
    expect([p[6], p[7]]).toEqual([112, 255]);
    expect(p.subarray(8, 24).toString('hex')).toBe('fe800000000000000000000000000001');
    expect(p.subarray(24, 40).toString('hex')).toBe('ff020000000000000000000000000012');
    expect([...p.subarray(40)]).toEqual([1, 2, 3]);
  });

  it('VRRP over IPv6 always goes out with hop limit 255 and next header 112', () => {
    const p = encodeVrrpIpv6Packet('fe80::1', 'ff02::12', Buffer.alloc(8));
    expect([p[6], p[7]]).toEqual([112, 255]);
  });
});

describe('MAC helpers', () => {
  it('maps IPv6 multicast groups to 33:33 + the low 32 bits', () => {
    expect(ipv6MulticastMac('ff02::12').toString('hex')).toBe('333300000012');
    expect(ipv6MulticastMac('ff02::1:ff00:100').toString('hex')).toBe('3333ff000100');
  });

  it('refuses what is not a MAC address', () => {
    expect(() => parseMac('02:00:5e:10:20')).toThrow(/not a MAC/);
    expect(() => parseMac('02-00-5e-10-20-30')).toThrow(/not a MAC/);
    expect(parseMac('AA:bb:CC:dd:EE:ff').toString('hex')).toBe('aabbccddeeff');
  });
});
