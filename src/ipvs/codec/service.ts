// IPVS_CMD_ATTR_SERVICE nest. The kernel identifies a service by AF plus either FWMARK or
// PROTOCOL+ADDR+PORT; adding or editing one also needs SCHED_NAME, FLAGS, TIMEOUT and NETMASK.
import { AF_INET, AF_INET6, IPPROTO, IPVS_SVC_ATTR as A, IP_VS_SVC_F } from './constants.js';
import { addressLength } from '../../address/index.js';
import { decodeAddr, prefixToV4Mask, v4MaskToPrefix, writeAddr } from './addr.js';
import { Attrs, NlDecodeError, readU32, type NlWriter } from './nla.js';
import { decodeStats32, decodeStats64, encodeStats32, encodeStats64 } from './stats.js';
import type { IpFamily } from '../../address/index.js';
import { SERVICE_FLAGS, type IpvsService, type Protocol, type ServiceFlag, type VirtualServiceKey } from '../types.js';

/** The one place the IPVS wire's AF numbers meet the program's family names. */
export const afNumber = (af: IpFamily): number => (af === 'IPv4' ? AF_INET : AF_INET6);

export function afName(n: number): IpFamily {
  if (n === AF_INET) return 'IPv4';
  if (n === AF_INET6) return 'IPv6';
  throw new NlDecodeError(`unknown address family ${n}`);
}

export function protocolName(n: number): Protocol {
  for (const [name, num] of Object.entries(IPPROTO)) if (num === n) return name as Protocol;
  throw new NlDecodeError(`unknown IPVS service protocol ${n}`);
}

const FLAG_BITS: Record<ServiceFlag, number> = {
  persistent: IP_VS_SVC_F.PERSISTENT,
  hashed: IP_VS_SVC_F.HASHED,
  'one-packet': IP_VS_SVC_F.ONEPACKET,
  sched1: IP_VS_SVC_F.SCHED1,
  sched2: IP_VS_SVC_F.SCHED2,
  sched3: IP_VS_SVC_F.SCHED3,
};

/**
 * Flag names to bits. `hashed` is dropped from requests: the kernel sets it itself (older kernels
 * refuse to hash a new service that already carries it).
 */
export function flagsToBits(flags: readonly ServiceFlag[], keepHashed = false): number {
  let bits = 0;
  for (const f of flags) if (keepHashed || f !== 'hashed') bits |= FLAG_BITS[f];
  return bits;
}

export function bitsToFlags(bits: number): ServiceFlag[] {
  return SERVICE_FLAGS.filter((f) => (bits & FLAG_BITS[f]) !== 0);
}

export const isFwmarkKey = (k: VirtualServiceKey): k is Extract<VirtualServiceKey, { fwmark: number }> => 'fwmark' in k;

function encodeKeyAttrs(w: NlWriter, key: VirtualServiceKey): void {
  w.u16(A.AF, afNumber(key.af));
  if (isFwmarkKey(key)) {
    w.u32(A.FWMARK, key.fwmark);
  } else {
    w.u16(A.PROTOCOL, IPPROTO[key.protocol]);
    writeAddr(w, A.ADDR, key.addr);
    w.be16(A.PORT, key.port);
  }
}

/** Identifying attributes only: for DEL_SERVICE, GET_SERVICE, ZERO and the destination commands. */
export function encodeServiceKey(w: NlWriter, type: number, key: VirtualServiceKey): void {
  const nest = w.beginNest(type);
  encodeKeyAttrs(w, key);
  w.endNest(nest);
}

/**
 * Full service, for NEW_SERVICE / SET_SERVICE (flags replace the kernel's: mask is all ones).
 * `readBack` encodes it as the kernel reports it instead (with `hashed` and stats): only for the
 * codec's own round trip and for tests, never sent.
 */
export function encodeService(w: NlWriter, type: number, s: IpvsService, readBack = false): void {
  const nest = w.beginNest(type);
  encodeKeyAttrs(w, s.key);
  w.string(A.SCHED_NAME, s.scheduler);
  if (s.peName !== undefined) w.string(A.PE_NAME, s.peName);
  // struct ip_vs_flags { __u32 flags; __u32 mask; } in host byte order
  w.u32Pair(A.FLAGS, flagsToBits(s.flags, readBack), 0xffffffff);
  w.u32(A.TIMEOUT, s.timeout);
  if (s.key.af === 'IPv4') w.be32(A.NETMASK, prefixToV4Mask(s.netmask));
  else w.u32(A.NETMASK, s.netmask);
  if (readBack && s.stats) {
    encodeStats32(w, A.STATS, s.stats);
    encodeStats64(w, A.STATS64, s.stats);
  }
  w.endNest(nest);
}

export function decodeServiceKey(a: Attrs): VirtualServiceKey {
  const af = afName(a.u16(A.AF, 'service.af'));
  const fwmark = a.has(A.FWMARK) ? a.u32(A.FWMARK, 'service.fwmark') : 0;
  if (fwmark !== 0) return { af, fwmark };
  return {
    af,
    protocol: protocolName(a.u16(A.PROTOCOL, 'service.protocol')),
    addr: decodeAddr(a.bytes(A.ADDR, 'service.addr', addressLength(af)), af),
    port: a.be16(A.PORT, 'service.port'),
  };
}

/** `withStats` false skips the counters (cheaper when only the configuration is compared). */
export function decodeService(a: Attrs, withStats = true): IpvsService {
  const key = decodeServiceKey(a);
  const flags = a.bytes(A.FLAGS, 'service.flags', 8);
  const svc: IpvsService = {
    key,
    scheduler: a.string(A.SCHED_NAME, 'service.sched_name'),
    flags: bitsToFlags(readU32(flags, 0) & readU32(flags, 4)),
    timeout: a.u32(A.TIMEOUT, 'service.timeout'),
    // The kernel puts the raw field: a network-order mask for IPv4, a host-order prefix length for IPv6.
    netmask: key.af === 'IPv4' ? v4MaskToPrefix(a.be32(A.NETMASK, 'service.netmask')) : a.u32(A.NETMASK, 'service.netmask'),
  };
  if (a.has(A.PE_NAME)) svc.peName = a.string(A.PE_NAME, 'service.pe_name');
  if (!withStats) return svc;
  if (a.has(A.STATS64)) svc.stats = decodeStats64(a.nested(A.STATS64, 'service.stats64'));
  else if (a.has(A.STATS)) svc.stats = decodeStats32(a.nested(A.STATS, 'service.stats'));
  return svc;
}
