// Top-level attributes of SET_CONFIG / GET_CONFIG (timeouts) and of the GET_INFO reply.
import { IPVS_CMD_ATTR as C, IPVS_INFO_ATTR as I } from './constants.js';
import type { Attrs, NlWriter } from './nla.js';
import type { IpvsInfo, Timeouts } from '../types.js';

/** Only the given timeouts are sent; the kernel keeps the others (and treats 0 as "keep"). */
export function encodeTimeouts(w: NlWriter, t: Partial<Timeouts>): void {
  if (t.tcp !== undefined) w.u32(C.TIMEOUT_TCP, t.tcp);
  if (t.tcpFin !== undefined) w.u32(C.TIMEOUT_TCP_FIN, t.tcpFin);
  if (t.udp !== undefined) w.u32(C.TIMEOUT_UDP, t.udp);
}

/** A kernel without TCP or UDP protocol support omits that timeout; it reads as 0. */
export function decodeTimeouts(a: Attrs): Timeouts {
  return {
    tcp: a.has(C.TIMEOUT_TCP) ? a.u32(C.TIMEOUT_TCP, 'timeout_tcp') : 0,
    tcpFin: a.has(C.TIMEOUT_TCP_FIN) ? a.u32(C.TIMEOUT_TCP_FIN, 'timeout_tcp_fin') : 0,
    udp: a.has(C.TIMEOUT_UDP) ? a.u32(C.TIMEOUT_UDP, 'timeout_udp') : 0,
  };
}

export function decodeInfo(a: Attrs): IpvsInfo {
  const code = a.u32(I.VERSION, 'info.version');
  return {
    version: `${(code >> 16) & 0xff}.${(code >> 8) & 0xff}.${code & 0xff}`,
    versionCode: code,
    connTabSize: a.u32(I.CONN_TAB_SIZE, 'info.conn_tab_size'),
  };
}

/** For the codec's own round trip and for tests: the GET_INFO reply attributes. */
export function encodeInfo(w: NlWriter, info: IpvsInfo): void {
  w.u32(I.VERSION, info.versionCode);
  w.u32(I.CONN_TAB_SIZE, info.connTabSize);
}
