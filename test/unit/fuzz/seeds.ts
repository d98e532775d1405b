// Valid inputs of every shape, made by the project's own encoders: the fuzzer mutates these, and
// each must still decode to what was encoded.
import { encodeAdvert, passwordAuthData, VRRP_MULTICAST_IPV4, VRRP_MULTICAST_IPV6, type VrrpAdvert } from '../../../src/vrrp/packet.js';
import { encodeIpv4Packet } from '../../../src/vrrp/ipv4-header.js';
import { IPVS_CMD_ATTR as CA, IPVS_CMD as CMD } from '../../../src/ipvs/codec/constants.js';
import { encodeService } from '../../../src/ipvs/codec/service.js';
import { encodeDest } from '../../../src/ipvs/codec/dest.js';
import { encodeDaemon } from '../../../src/ipvs/codec/daemon.js';
import { encodeInfo, encodeTimeouts } from '../../../src/ipvs/codec/config.js';
import { CTRL_ATTR_FAMILY_ID, CTRL_ATTR_FAMILY_NAME, GENL_ID_CTRL, NLMSG_DONE, NLMSG_ERROR, NLM_F_MULTI } from '../../../src/ipvs/codec/netlink.js';
import { NlWriter } from '../../../src/ipvs/codec/nla.js';
import type { IpvsDest, IpvsInfo, IpvsService, SyncDaemon, Timeouts } from '../../../src/ipvs/types.js';

export interface VrrpSeed {
  /** VRRP message for IPv6; whole IPv4 packet for IPv4 (a raw IPv4 socket hands over both). */
  bytes: Buffer;
  family: 'IPv4' | 'IPv6';
  src: string;
  dst: string;
  advert: VrrpAdvert;
}

const v4 = (n: number): string[] => Array.from({ length: n }, (_, i) => `10.0.${i >> 8}.${i & 0xff}`);
const v6 = (n: number): string[] => Array.from({ length: n }, (_, i) => `2001:db8::${(i + 1).toString(16)}`);

const ADVERTS: VrrpAdvert[] = [
  { version: 3, family: 'IPv4', vrid: 51, priority: 100, maxAdvertIntervalCs: 100, addresses: v4(1) },
  { version: 3, family: 'IPv4', vrid: 1, priority: 255, maxAdvertIntervalCs: 4095, addresses: v4(20) },
  { version: 3, family: 'IPv6', vrid: 255, priority: 0, maxAdvertIntervalCs: 1, addresses: v6(1) },
  { version: 3, family: 'IPv6', vrid: 7, priority: 150, maxAdvertIntervalCs: 25, addresses: [...v6(3), 'fe80::1'] },
  { version: 2, family: 'IPv4', vrid: 9, priority: 100, advertIntervalSec: 1, authType: 0, authData: Buffer.alloc(8), addresses: v4(2) },
  { version: 2, family: 'IPv4', vrid: 200, priority: 254, advertIntervalSec: 255, authType: 1, authData: passwordAuthData('secret'), addresses: v4(5) },
];

export function vrrpSeeds(): VrrpSeed[] {
  return ADVERTS.map((advert) => {
    const ipv4 = advert.family === 'IPv4';
    const src = ipv4 ? '192.0.2.1' : 'fe80::a';
    const dst = ipv4 ? VRRP_MULTICAST_IPV4 : VRRP_MULTICAST_IPV6;
    const msg = encodeAdvert(advert, { src, dst });
    return { bytes: ipv4 ? encodeIpv4Packet({ src, dst }, msg) : msg, family: advert.family, src, dst, advert };
  });
}

/** What a reply datagram answers, so the fuzzer knows which decoder reads its data messages. */
export type NlKind = 'service' | 'dest-IPv4' | 'dest-IPv6' | 'daemon' | 'info' | 'config' | 'family' | 'error';

export interface NlSeed {
  kind: NlKind;
  bytes: Buffer;
  /** The decoded data messages, in order. */
  values: unknown[];
}

const stats = { conns: 5, inPkts: 2 ** 40, outPkts: 7, inBytes: 2 ** 52, outBytes: 9, cps: 1, inPps: 2, outPps: 3, inBps: 4, outBps: 5 };

const SERVICES: IpvsService[] = [
  { key: { af: 'IPv4', protocol: 'tcp', addr: '10.1.2.3', port: 80 }, scheduler: 'wrr', flags: ['hashed'], timeout: 0, netmask: 32, stats },
  { key: { af: 'IPv6', protocol: 'udp', addr: '2001:db8::1', port: 53 }, scheduler: 'mh', flags: ['persistent', 'hashed', 'sched1'], timeout: 300, netmask: 64, stats },
  { key: { af: 'IPv4', fwmark: 7 }, scheduler: 'rr', flags: ['hashed', 'one-packet'], timeout: 0, netmask: 24, stats },
  { key: { af: 'IPv6', protocol: 'sctp', addr: '::', port: 3868 }, scheduler: 'sh', flags: ['persistent', 'hashed'], timeout: 60, netmask: 128, peName: 'sip', stats },
];

const DESTS: IpvsDest[] = [
  { addr: '10.9.0.1', port: 8080, fwd: 'masq', weight: 1, upperThreshold: 0, lowerThreshold: 0, activeConns: 3, inactConns: 1, persistConns: 0, stats },
  { addr: '10.9.0.2', port: 0, fwd: 'tunnel', weight: 100, upperThreshold: 10, lowerThreshold: 5, tunnel: { type: 'gue', port: 6080, flags: ['csum'] }, activeConns: 0, inactConns: 0, persistConns: 0, stats },
  { addr: '10.9.0.3', port: 443, fwd: 'route', weight: 0, upperThreshold: 0, lowerThreshold: 0, activeConns: 0, inactConns: 0, persistConns: 2, stats },
];
const DESTS6: IpvsDest[] = [
  { addr: '2001:db8::10', port: 80, fwd: 'local', weight: 2, upperThreshold: 0, lowerThreshold: 0, activeConns: 1, inactConns: 2, persistConns: 3, stats },
  { addr: '2001:db8::11', port: 80, fwd: 'tunnel', weight: 2, upperThreshold: 0, lowerThreshold: 0, tunnel: { type: 'ipip', port: 0, flags: [] }, activeConns: 0, inactConns: 0, persistConns: 0, stats },
];

const DAEMONS: SyncDaemon[] = [
  { state: 'master', mcastIfn: 'eth0', syncId: 1, syncMaxLen: 1472, mcastGroup: '224.0.0.81', mcastPort: 8848, mcastTtl: 1 },
  { state: 'backup', mcastIfn: 'bond0.100', syncId: 255, mcastGroup: 'ff02::8848' },
  { state: 'master', mcastIfn: 'e', syncId: 0 },
];

const INFO: IpvsInfo = { version: '1.2.1', versionCode: 0x010201, connTabSize: 4096 };
const TIMEOUTS: Timeouts = { tcp: 900, tcpFin: 120, udp: 300 };
const FAMILY_ID = 0x1c;

function dump<T>(cmd: number, items: T[], body: (w: NlWriter, item: T) => void): Buffer {
  const w = new NlWriter(256);
  items.forEach((item, i) => {
    const m = w.beginMessage(FAMILY_ID, NLM_F_MULTI, 100 + i);
    w.genlHeader(cmd, 1);
    body(w, item);
    w.endMessage(m);
  });
  const done = w.beginMessage(NLMSG_DONE, NLM_F_MULTI, 100);
  w.raw(Buffer.alloc(4));
  w.endMessage(done);
  return w.take();
}

function single(type: number, cmd: number, body: (w: NlWriter) => void): Buffer {
  const w = new NlWriter(64);
  const m = w.beginMessage(type, 0, 1);
  w.genlHeader(cmd, 1);
  body(w);
  w.endMessage(m);
  return w.take();
}

function errorReply(errno: number): Buffer {
  const w = new NlWriter(64);
  const m = w.beginMessage(NLMSG_ERROR, 0, 3);
  const p = Buffer.alloc(4 + 16);
  p.writeInt32LE(-errno, 0);
  p.writeUInt32LE(20, 4); // the original request's header
  p.writeUInt32LE(3, 12);
  w.raw(p);
  w.endMessage(m);
  return w.take();
}

export function nlSeeds(): NlSeed[] {
  return [
    { kind: 'service', bytes: dump(CMD.NEW_SERVICE, SERVICES, (w, s) => encodeService(w, CA.SERVICE, s, true)), values: SERVICES },
    { kind: 'dest-IPv4', bytes: dump(CMD.NEW_DEST, DESTS, (w, d) => encodeDest(w, CA.DEST, d, true)), values: DESTS },
    { kind: 'dest-IPv6', bytes: dump(CMD.NEW_DEST, DESTS6, (w, d) => encodeDest(w, CA.DEST, d, true)), values: DESTS6 },
    { kind: 'daemon', bytes: dump(CMD.NEW_DAEMON, DAEMONS, (w, d) => encodeDaemon(w, CA.DAEMON, d)), values: DAEMONS },
    { kind: 'info', bytes: single(FAMILY_ID, CMD.SET_INFO, (w) => encodeInfo(w, INFO)), values: [INFO] },
    { kind: 'config', bytes: single(FAMILY_ID, CMD.SET_CONFIG, (w) => encodeTimeouts(w, TIMEOUTS)), values: [TIMEOUTS] },
    {
      kind: 'family',
      bytes: single(GENL_ID_CTRL, 1, (w) => { w.u16(CTRL_ATTR_FAMILY_ID, FAMILY_ID); w.string(CTRL_ATTR_FAMILY_NAME, 'IPVS'); }),
      values: [{ id: FAMILY_ID, name: 'IPVS' }],
    },
    { kind: 'error', bytes: errorReply(17), values: [] },
    { kind: 'error', bytes: errorReply(0), values: [] },
  ];
}
