import { describe, expect, it } from 'vitest';
import { Attrs, NlWriter } from '../../../src/ipvs/codec/nla.js';
import { encodeOp, encodeDumpDests, decodeConfigReply, decodeInfoReply } from '../../../src/ipvs/codec/messages.js';
import { encodeGetFamily, decodeFamilyReply } from '../../../src/ipvs/codec/netlink.js';
import { decodeService, encodeService } from '../../../src/ipvs/codec/service.js';
import { decodeDest, encodeDest } from '../../../src/ipvs/codec/dest.js';
import { decodeDaemon, encodeDaemon } from '../../../src/ipvs/codec/daemon.js';
import { decodeStats32, decodeStats64, encodeStats32, encodeStats64, zeroStats } from '../../../src/ipvs/codec/stats.js';
import { decodeInfo, decodeTimeouts, encodeInfo, encodeTimeouts } from '../../../src/ipvs/codec/config.js';
import type { IpvsDest, IpvsService, IpvsStats, SyncDaemon } from '../../../src/ipvs/types.js';

// Expected bytes are written out by hand from the layouts in linux/netlink.h, linux/genetlink.h and
// linux/ip_vs.h (x86 host order), not produced by the encoder under test.
const hex = (s: string): Buffer => Buffer.from(s.replace(/#[^\n]*/g, '').replace(/\s+/g, ''), 'hex');
const FAMILY = 0x1c;

function encoded(fn: (w: NlWriter) => void): Buffer {
  const w = new NlWriter(16);
  fn(w);
  return w.take();
}

describe('IPVS requests, byte for byte', () => {
  it('NEW_SERVICE: TCP 10.1.2.3:80 wrr, persistent 300 s, /24, with ACK', () => {
    const svc: IpvsService = {
      key: { af: 'IPv4', protocol: 'tcp', addr: '10.1.2.3', port: 80 },
      scheduler: 'wrr', flags: ['persistent', 'hashed'], timeout: 300, netmask: 24,
    };
    expect(encoded((w) => encodeOp(w, FAMILY, { op: 'add-service', service: svc }, 1, true))).toEqual(hex(`
      68000000 1c00 0500 01000000 00000000   # nlmsghdr: len 104, family, REQUEST|ACK, seq 1
      01010000                               # genl: IPVS_CMD_NEW_SERVICE, version 1
      5400 0180                              # IPVS_CMD_ATTR_SERVICE, nested, 84 bytes
        0600 0100 0200 0000                  # AF = AF_INET
        0600 0200 0600 0000                  # PROTOCOL = TCP
        1400 0300 0a010203 00000000 00000000 00000000   # ADDR, 16 bytes, v4 first
        0600 0400 0050 0000                  # PORT 80, big-endian
        0800 0600 77727200                   # SCHED_NAME "wrr\\0"
        0c00 0700 01000000 ffffffff          # FLAGS {flags: PERSISTENT (hashed never sent), mask: ~0}
        0800 0800 2c010000                   # TIMEOUT 300
        0800 0900 ffffff00                   # NETMASK 255.255.255.0, network order
    `));
  });

  it('NEW_DEST: tunnel GUE to [2001:db8::10]:8080 in fwmark 5, no ACK', () => {
    const dest: IpvsDest = {
      addr: '2001:db8::10', port: 8080, fwd: 'tunnel', weight: 3, upperThreshold: 100, lowerThreshold: 10,
      tunnel: { type: 'gue', port: 6080, flags: ['csum', 'remcsum'] },
    };
    expect(encoded((w) => encodeOp(w, FAMILY, { op: 'add-dest', key: { af: 'IPv6', fwmark: 5 }, dest }, 9, false))).toEqual(hex(`
      88000000 1c00 0100 09000000 00000000   # len 136, REQUEST only
      05010000                               # IPVS_CMD_NEW_DEST
      1400 0180                              # SERVICE nest, 20 bytes
        0600 0100 0a00 0000                  # AF_INET6
        0800 0500 05000000                   # FWMARK 5
      6000 0280                              # DEST nest, 96 bytes
        1400 0100 20010db8 00000000 00000000 00000010  # ADDR
        0600 0200 1f90 0000                  # PORT 8080 big-endian
        0600 0b00 0a00 0000                  # ADDR_FAMILY AF_INET6
        0800 0300 02000000                   # FWD_METHOD tunnel
        0800 0400 03000000                   # WEIGHT 3
        0800 0500 64000000                   # U_THRESH 100
        0800 0600 0a000000                   # L_THRESH 10
        0500 0d00 01000000                   # TUN_TYPE GUE (u8)
        0600 0e00 17c0 0000                  # TUN_PORT 6080 big-endian
        0600 0f00 0300 0000                  # TUN_FLAGS csum|remcsum
    `));
  });

  it('DEL_DEST names the service and the destination only', () => {
    const op = { op: 'del-dest' as const, key: { af: 'IPv4' as const, protocol: 'udp' as const, addr: '192.0.2.1', port: 53 }, dest: { addr: '192.0.2.10', port: 53 } };
    expect(encoded((w) => encodeOp(w, FAMILY, op, 2, true))).toEqual(hex(`
      6c000000 1c00 0500 02000000 00000000
      07010000
      3000 0180
        0600 0100 0200 0000
        0600 0200 1100 0000                  # UDP
        1400 0300 c0000201 00000000 00000000 00000000
        0600 0400 0035 0000
      2800 0280
        1400 0100 c000020a 00000000 00000000 00000000
        0600 0200 0035 0000
        0600 0b00 0200 0000
    `));
  });

  it('IPv6 service netmask is a host-order prefix length', () => {
    const svc: IpvsService = { key: { af: 'IPv6', protocol: 'sctp', addr: '2001:db8::1', port: 3868 }, scheduler: 'mh', flags: ['sched1', 'sched2'], timeout: 0, netmask: 64, peName: 'sip' };
    const msg = encoded((w) => encodeOp(w, FAMILY, { op: 'edit-service', service: svc }, 3, true));
    expect(msg.subarray(16, 20)).toEqual(hex('02010000')); // SET_SERVICE
    const a = new Attrs(msg, 20).nested(1, 'service');
    expect(a.bytes(9, 'netmask')).toEqual(hex('40000000'));
    expect(a.bytes(7, 'flags')).toEqual(hex('18000000 ffffffff'));
    expect(a.bytes(11, 'pe')).toEqual(hex('73697000'));
    expect(a.u16(2, 'protocol')).toBe(132);
  });

  it('SET_CONFIG carries only the given timeouts, at the top level', () => {
    expect(encoded((w) => encodeOp(w, FAMILY, { op: 'set-timeouts', timeouts: { tcp: 900, udp: 60 } }, 4, true))).toEqual(hex(`
      24000000 1c00 0500 04000000 00000000
      0c010000
      0800 0400 84030000
      0800 0600 3c000000
    `));
  });

  it('NEW_DAEMON and DEL_DAEMON', () => {
    const d: SyncDaemon = { state: 'backup', mcastIfn: 'eth0', syncId: 7, mcastGroup: '239.1.2.3', mcastPort: 8848, mcastTtl: 2 };
    expect(encoded((w) => encodeOp(w, FAMILY, { op: 'start-daemon', daemon: d }, 5, true))).toEqual(hex(`
      4c000000 1c00 0500 05000000 00000000
      09010000
      3800 0380
        0800 0100 02000000                   # STATE backup
        0900 0200 65746830 00000000          # MCAST_IFN "eth0\\0"
        0800 0300 07000000                   # SYNC_ID
        0800 0500 ef010203                   # MCAST_GROUP, network order
        0600 0700 9022 0000                  # MCAST_PORT 8848, host order
        0500 0800 02000000                   # MCAST_TTL
    `));
    expect(encoded((w) => encodeOp(w, FAMILY, { op: 'stop-daemon', state: 'master' }, 6, true))).toEqual(hex(`
      20000000 1c00 0500 06000000 00000000
      0a010000
      0c00 0380 0800 0100 01000000
    `));
  });

  it('FLUSH and ZERO-all are bare commands; a destination dump asks NLM_F_DUMP', () => {
    expect(encoded((w) => encodeOp(w, FAMILY, { op: 'flush' }, 7, true))).toEqual(hex('14000000 1c00 0500 07000000 00000000 11010000'));
    expect(encoded((w) => encodeOp(w, FAMILY, { op: 'zero' }, 8, false))).toEqual(hex('14000000 1c00 0100 08000000 00000000 10010000'));
    const dump = encoded((w) => encodeDumpDests(w, FAMILY, 9, { af: 'IPv4', fwmark: 1 }));
    expect(dump.subarray(4, 8)).toEqual(hex('1c00 0103')); // REQUEST | ROOT | MATCH
    expect(dump.subarray(16, 20)).toEqual(hex('08010000')); // GET_DEST
  });

  it('CTRL_CMD_GETFAMILY for "IPVS" and its reply', () => {
    expect(encoded((w) => encodeGetFamily(w, 'IPVS', 1))).toEqual(hex(`
      20000000 1000 0500 01000000 00000000   # GENL_ID_CTRL
      03010000                               # CTRL_CMD_GETFAMILY v1
      0900 0200 49505653 00000000            # CTRL_ATTR_FAMILY_NAME "IPVS\\0"
    `));
    const reply = hex('01020000  0600 0100 1c00 0000  0900 0200 49505653 00000000');
    expect(decodeFamilyReply(reply)).toEqual({ id: 0x1c, name: 'IPVS' });
  });
});

describe('replies the kernel builds', () => {
  it('decodes a service as ip_vs_genl_fill_service lays it out (no NLA_F_NESTED, stats then stats64)', () => {
    const stats32 = '5400 0a00 0800 0100 01000000 0800 0200 02000000 0800 0300 03000000 0c00 0400 0400000000000000 0c00 0500 0500000000000000 0800 0600 06000000 0800 0700 07000000 0800 0800 08000000 0800 0900 09000000 0800 0a00 0a000000';
    const stats64 = '7c00 0c00' + [1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((i) => `0c00 ${i.toString(16).padStart(2, '0')}00 ${(i * 1000).toString(16).padStart(4, '0').match(/../g)!.reverse().join('')}000000000000`).join(' ');
    const nest = hex(`
      0600 0100 0200 0000
      0600 0200 0600 0000
      1400 0300 0a000001 00000000 00000000 00000000
      0600 0400 1f90 0000
      0800 0600 726f0000        # "ro" sched name (any string)
      0c00 0700 03000000 ffffffff
      0800 0800 3c000000
      0800 0900 ffffffff
      ${stats32}
      ${stats64}`);
    const svc = decodeService(new Attrs(nest));
    expect(svc).toEqual({
      key: { af: 'IPv4', protocol: 'tcp', addr: '10.0.0.1', port: 8080 },
      scheduler: 'ro', flags: ['persistent', 'hashed'], timeout: 60, netmask: 32,
      stats: { conns: 1000, inPkts: 2000, outPkts: 3000, inBytes: 4000, outBytes: 5000, cps: 6000, inPps: 7000, outPps: 8000, inBps: 9000, outBps: 10000 },
    });
  });

  it('GET_CONFIG and GET_INFO replies are top-level attributes', () => {
    expect(decodeConfigReply(hex('0d010000 0800 0400 84030000 0800 0500 78000000 0800 0600 2c010000'))).toEqual({ tcp: 900, tcpFin: 120, udp: 300 });
    expect(decodeInfoReply(hex('0e010000 0800 0100 01020100 0800 0200 00100000'))).toEqual({ version: '1.2.1', versionCode: 0x010201, connTabSize: 4096 });
  });
});

describe('round trips: decode(encode(x)) == x for every nest', () => {
  const stats: IpvsStats = { conns: 1, inPkts: 2, outPkts: 3, inBytes: 2 ** 40, outBytes: 2 ** 50 + 1, cps: 6, inPps: 7, outPps: 8, inBps: 9, outBps: 10 };

  function roundTrip<T>(encode: (w: NlWriter) => void, decode: (a: Attrs) => T): T {
    const buf = encoded(encode);
    return decode(new Attrs(buf).nested(1, 'nest'));
  }

  const services: IpvsService[] = [
    { key: { af: 'IPv4', protocol: 'tcp', addr: '10.0.0.1', port: 80 }, scheduler: 'wlc', flags: ['hashed'], timeout: 0, netmask: 32 },
    { key: { af: 'IPv4', protocol: 'udp', addr: '0.0.0.0', port: 0 }, scheduler: 'sh', flags: ['persistent', 'hashed', 'sched1', 'sched2'], timeout: 3600, netmask: 0 },
    { key: { af: 'IPv6', protocol: 'sctp', addr: 'fd00::1:2', port: 65535 }, scheduler: 'mh', flags: ['hashed', 'one-packet', 'sched3'], timeout: 1, netmask: 1, peName: 'sip' },
    { key: { af: 'IPv6', fwmark: 0xffffffff }, scheduler: 'none', flags: ['hashed'], timeout: 0, netmask: 128, stats },
    { key: { af: 'IPv4', fwmark: 1 }, scheduler: 'rr', flags: ['hashed'], timeout: 0, netmask: 17, stats: zeroStats() },
  ];
  it.each(services.map((s) => [JSON.stringify(s.key), s]))('service %s', (_, svc) => {
    expect(roundTrip((w) => encodeService(w, 1, svc, true), (a) => decodeService(a))).toEqual(svc);
  });

  const dests: [string, IpvsDest][] = [
    ['IPv4', { addr: '192.168.1.1', port: 8080, fwd: 'masq', weight: 1, upperThreshold: 0, lowerThreshold: 0 }],
    ['IPv4', { addr: '192.168.1.2', port: 0, fwd: 'route', weight: 0, upperThreshold: 4294967295, lowerThreshold: 5 }],
    ['IPv4', { addr: '192.168.1.3', port: 80, fwd: 'tunnel', weight: 65535, upperThreshold: 0, lowerThreshold: 0, tunnel: { type: 'ipip', port: 0, flags: [] } }],
    ['IPv4', { addr: '192.168.1.4', port: 80, fwd: 'tunnel', weight: 2, upperThreshold: 0, lowerThreshold: 0, tunnel: { type: 'gre', port: 0, flags: ['csum'] }, activeConns: 3, inactConns: 4, persistConns: 5, stats }],
    ['IPv6', { addr: '2001:db8::a', port: 443, fwd: 'local', weight: 7, upperThreshold: 10, lowerThreshold: 9 }],
    ['IPv4', { addr: '2001:db8::b', port: 443, fwd: 'tunnel', weight: 7, upperThreshold: 0, lowerThreshold: 0, tunnel: { type: 'gue', port: 5555, flags: ['remcsum'] } }],
  ];
  it.each(dests)('destination of an %s service', (af, dest) => {
    expect(roundTrip((w) => encodeDest(w, 1, dest, true), (a) => decodeDest(a, af as 'IPv4' | 'IPv6'))).toEqual(dest);
  });

  const daemons: SyncDaemon[] = [
    { state: 'master', mcastIfn: 'eth0', syncId: 0 },
    { state: 'backup', mcastIfn: 'bond0.100', syncId: 255, syncMaxLen: 1472, mcastGroup: '224.0.0.81', mcastPort: 8848, mcastTtl: 1 },
    { state: 'master', mcastIfn: 'e', syncId: 9, mcastGroup: 'ff02::1:2', mcastPort: 1, mcastTtl: 255 },
  ];
  it.each(daemons.map((d) => [d.mcastIfn, d]))('sync daemon on %s', (_, d) => {
    expect(roundTrip((w) => encodeDaemon(w, 1, d), decodeDaemon)).toEqual(d);
  });

  it('stats, 64-bit and legacy', () => {
    expect(roundTrip((w) => encodeStats64(w, 1, stats), decodeStats64)).toEqual(stats);
    const small = { ...stats, inBytes: 2 ** 33, outBytes: 5 };
    expect(roundTrip((w) => encodeStats32(w, 1, small), decodeStats32)).toEqual(small);
  });

  it('timeouts and info', () => {
    const t = { tcp: 7200, tcpFin: 30, udp: 5 };
    expect(decodeTimeouts(new Attrs(encoded((w) => encodeTimeouts(w, t))))).toEqual(t);
    const info = { version: '1.2.1', versionCode: 0x010201, connTabSize: 1 << 20 };
    expect(decodeInfo(new Attrs(encoded((w) => encodeInfo(w, info))))).toEqual(info);
  });

  it('a non-tunnel destination reads back without tunnel settings when the kernel holds defaults', () => {
    const dest: IpvsDest = { addr: '10.0.0.9', port: 1, fwd: 'route', weight: 1, upperThreshold: 0, lowerThreshold: 0, tunnel: { type: 'ipip', port: 0, flags: [] } };
    const { tunnel: _, ...withoutTunnel } = dest;
    expect(roundTrip((w) => encodeDest(w, 1, dest), (a) => decodeDest(a, 'IPv4'))).toEqual(withoutTunnel);
  });

  it('requests never carry read-only counters', () => {
    const svc = { ...services[3]! };
    const msg = encoded((w) => encodeOp(w, FAMILY, { op: 'add-service', service: svc }, 1, true));
    expect(new Attrs(msg, 20).nested(1, 'svc').has(12)).toBe(false);
    const d = dests[3]![1];
    const dmsg = encoded((w) => encodeOp(w, FAMILY, { op: 'edit-dest', key: { af: 'IPv4', fwmark: 1 }, dest: d }, 1, true));
    const nest = new Attrs(dmsg, 20).nested(2, 'dest');
    expect([7, 8, 9, 10, 12].map((t) => nest.has(t))).toEqual([false, false, false, false, false]);
  });
});
