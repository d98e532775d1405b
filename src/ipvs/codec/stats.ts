// IPVS_*_ATTR_STATS (32-bit counters, 64-bit byte counts) and IPVS_*_ATTR_STATS64 (all 64-bit) nests.
import { IPVS_STATS_ATTR as A } from './constants.js';
import type { Attrs, NlWriter } from './nla.js';
import type { IpvsStats } from '../types.js';

const FIELDS: [keyof IpvsStats, number][] = [
  ['conns', A.CONNS], ['inPkts', A.INPKTS], ['outPkts', A.OUTPKTS], ['inBytes', A.INBYTES], ['outBytes', A.OUTBYTES],
  ['cps', A.CPS], ['inPps', A.INPPS], ['outPps', A.OUTPPS], ['inBps', A.INBPS], ['outBps', A.OUTBPS],
];

/** The legacy nest: bytes are u64, everything else u32 (truncated, as the kernel does). */
export function encodeStats32(w: NlWriter, type: number, s: IpvsStats): void {
  const nest = w.beginNest(type);
  for (const [field, attr] of FIELDS) {
    if (attr === A.INBYTES || attr === A.OUTBYTES) w.u64(attr, s[field]);
    else w.u32(attr, s[field] % 2 ** 32);
  }
  w.endNest(nest);
}

export function encodeStats64(w: NlWriter, type: number, s: IpvsStats): void {
  const nest = w.beginNest(type);
  for (const [field, attr] of FIELDS) w.u64(attr, s[field]);
  w.endNest(nest);
}

export function decodeStats64(a: Attrs): IpvsStats {
  return {
    conns: a.u64(A.CONNS, 'stats64.conns'),
    inPkts: a.u64(A.INPKTS, 'stats64.inpkts'),
    outPkts: a.u64(A.OUTPKTS, 'stats64.outpkts'),
    inBytes: a.u64(A.INBYTES, 'stats64.inbytes'),
    outBytes: a.u64(A.OUTBYTES, 'stats64.outbytes'),
    cps: a.u64(A.CPS, 'stats64.cps'),
    inPps: a.u64(A.INPPS, 'stats64.inpps'),
    outPps: a.u64(A.OUTPPS, 'stats64.outpps'),
    inBps: a.u64(A.INBPS, 'stats64.inbps'),
    outBps: a.u64(A.OUTBPS, 'stats64.outbps'),
  };
}

export function decodeStats32(a: Attrs): IpvsStats {
  return {
    conns: a.u32(A.CONNS, 'stats.conns'),
    inPkts: a.u32(A.INPKTS, 'stats.inpkts'),
    outPkts: a.u32(A.OUTPKTS, 'stats.outpkts'),
    inBytes: a.u64(A.INBYTES, 'stats.inbytes'),
    outBytes: a.u64(A.OUTBYTES, 'stats.outbytes'),
    cps: a.u32(A.CPS, 'stats.cps'),
    inPps: a.u32(A.INPPS, 'stats.inpps'),
    outPps: a.u32(A.OUTPPS, 'stats.outpps'),
    inBps: a.u32(A.INBPS, 'stats.inbps'),
    outBps: a.u32(A.OUTBPS, 'stats.outbps'),
  };
}

export const zeroStats = (): IpvsStats => ({
  conns: 0, inPkts: 0, outPkts: 0, inBytes: 0, outBytes: 0, cps: 0, inPps: 0, outPps: 0, inBps: 0, outBps: 0,
});
