// IPVS_CMD_ATTR_DEST nest. A destination is identified by ADDR+PORT (+ADDR_FAMILY, which the kernel
// takes from the service when absent); adding or editing needs FWD_METHOD, WEIGHT and both thresholds.
import { IPVS_DEST_ATTR as A, IP_VS_CONN_F, IP_VS_TUNNEL_ENCAP_FLAG, IP_VS_TUNNEL_TYPE } from './constants.js';
import { addressLength, type IpFamily } from '../../address/index.js';
import { decodeAddr, familyOf, writeAddr } from './addr.js';
import { NlDecodeError, type Attrs, type NlWriter } from './nla.js';
import { afName, afNumber } from './service.js';
import { decodeStats32, decodeStats64, encodeStats32, encodeStats64 } from './stats.js';
import { TUNNEL_FLAGS, type DestKey, type ForwardMethod, type IpvsDest, type IpvsTunnel, type TunnelFlag, type TunnelType } from '../types.js';

const FWD: Record<ForwardMethod, number> = {
  masq: IP_VS_CONN_F.MASQ,
  local: IP_VS_CONN_F.LOCALNODE,
  tunnel: IP_VS_CONN_F.TUNNEL,
  route: IP_VS_CONN_F.DROUTE,
};
const TUN: Record<TunnelType, number> = { ipip: IP_VS_TUNNEL_TYPE.IPIP, gue: IP_VS_TUNNEL_TYPE.GUE, gre: IP_VS_TUNNEL_TYPE.GRE };
const TUN_FLAG: Record<TunnelFlag, number> = { csum: IP_VS_TUNNEL_ENCAP_FLAG.CSUM, remcsum: IP_VS_TUNNEL_ENCAP_FLAG.REMCSUM };

export const fwdNumber = (f: ForwardMethod): number => FWD[f];

function fwdName(n: number): ForwardMethod {
  const masked = n & IP_VS_CONN_F.FWD_MASK;
  for (const [name, v] of Object.entries(FWD)) if (v === masked) return name as ForwardMethod;
  throw new NlDecodeError(`unknown forwarding method ${n}`);
}

function tunName(n: number): TunnelType {
  for (const [name, v] of Object.entries(TUN)) if (v === n) return name as TunnelType;
  throw new NlDecodeError(`unknown tunnel type ${n}`);
}

export const tunnelFlagsToBits = (flags: readonly TunnelFlag[]): number => flags.reduce((b, f) => b | TUN_FLAG[f], 0);
const bitsToTunnelFlags = (bits: number): TunnelFlag[] => TUNNEL_FLAGS.filter((f) => (bits & TUN_FLAG[f]) !== 0);

function destFamily(addr: string): IpFamily {
  const af = familyOf(addr);
  if (!af) throw new TypeError(`destination address is not an IP address: ${JSON.stringify(addr)}`);
  return af;
}

function encodeKeyAttrs(w: NlWriter, d: DestKey): void {
  writeAddr(w, A.ADDR, d.addr);
  w.be16(A.PORT, d.port);
  w.u16(A.ADDR_FAMILY, afNumber(destFamily(d.addr)));
}

/** Identifying attributes only, for DEL_DEST. */
export function encodeDestKey(w: NlWriter, type: number, d: DestKey): void {
  const nest = w.beginNest(type);
  encodeKeyAttrs(w, d);
  w.endNest(nest);
}

/**
 * Full destination for NEW_DEST / SET_DEST. `readBack` adds the read-only counters, as the kernel
 * reports them: only for the codec's own round trip and for tests, never sent.
 */
export function encodeDest(w: NlWriter, type: number, d: IpvsDest, readBack = false): void {
  const nest = w.beginNest(type);
  encodeKeyAttrs(w, d);
  w.u32(A.FWD_METHOD, FWD[d.fwd]);
  w.u32(A.WEIGHT, d.weight);
  w.u32(A.U_THRESH, d.upperThreshold);
  w.u32(A.L_THRESH, d.lowerThreshold);
  if (d.tunnel) {
    w.u8(A.TUN_TYPE, TUN[d.tunnel.type]);
    w.be16(A.TUN_PORT, d.tunnel.port);
    w.u16(A.TUN_FLAGS, tunnelFlagsToBits(d.tunnel.flags));
  }
  if (readBack) {
    if (d.activeConns !== undefined) w.u32(A.ACTIVE_CONNS, d.activeConns);
    if (d.inactConns !== undefined) w.u32(A.INACT_CONNS, d.inactConns);
    if (d.persistConns !== undefined) w.u32(A.PERSIST_CONNS, d.persistConns);
  }
  if (readBack && d.stats) {
    encodeStats32(w, A.STATS, d.stats);
    encodeStats64(w, A.STATS64, d.stats);
  }
  w.endNest(nest);
}

/**
 * `serviceAf` is used when the kernel (pre-3.18) sends no ADDR_FAMILY. `withStats` false skips
 * connection counts and stats (cheaper when only the configuration is compared).
 */
export function decodeDest(a: Attrs, serviceAf: IpFamily, withStats = true): IpvsDest {
  const af = a.has(A.ADDR_FAMILY) ? afName(a.u16(A.ADDR_FAMILY, 'dest.addr_family')) : serviceAf;
  const d: IpvsDest = {
    addr: decodeAddr(a.bytes(A.ADDR, 'dest.addr', addressLength(af)), af),
    port: a.be16(A.PORT, 'dest.port'),
    fwd: fwdName(a.u32(A.FWD_METHOD, 'dest.fwd_method')),
    weight: a.u32(A.WEIGHT, 'dest.weight'),
    upperThreshold: a.u32(A.U_THRESH, 'dest.u_threshold'),
    lowerThreshold: a.u32(A.L_THRESH, 'dest.l_threshold'),
  };
  if (a.has(A.TUN_TYPE) || a.has(A.TUN_PORT) || a.has(A.TUN_FLAGS)) {
    const t: IpvsTunnel = {
      type: a.has(A.TUN_TYPE) ? tunName(a.u8(A.TUN_TYPE, 'dest.tun_type')) : 'ipip',
      port: a.has(A.TUN_PORT) ? a.be16(A.TUN_PORT, 'dest.tun_port') : 0,
      flags: a.has(A.TUN_FLAGS) ? bitsToTunnelFlags(a.u16(A.TUN_FLAGS, 'dest.tun_flags')) : [],
    };
    if (d.fwd === 'tunnel' || t.type !== 'ipip' || t.port !== 0 || t.flags.length > 0) d.tunnel = t;
  }
  if (!withStats) return d;
  if (a.has(A.ACTIVE_CONNS)) d.activeConns = a.u32(A.ACTIVE_CONNS, 'dest.active_conns');
  if (a.has(A.INACT_CONNS)) d.inactConns = a.u32(A.INACT_CONNS, 'dest.inact_conns');
  if (a.has(A.PERSIST_CONNS)) d.persistConns = a.u32(A.PERSIST_CONNS, 'dest.persist_conns');
  if (a.has(A.STATS64)) d.stats = decodeStats64(a.nested(A.STATS64, 'dest.stats64'));
  else if (a.has(A.STATS)) d.stats = decodeStats32(a.nested(A.STATS, 'dest.stats'));
  return d;
}
