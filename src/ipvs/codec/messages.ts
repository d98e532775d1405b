// Whole IPVS generic netlink requests (header + genl header + attributes) and reply decoders.
import { IPVS_CMD as CMD, IPVS_CMD_ATTR as CA, IPVS_GENL_VERSION } from './constants.js';
import { NLM_F_ACK, NLM_F_DUMP, NLM_F_REQUEST, parseGenl } from './netlink.js';
import { NlDecodeError, NlWriter, type Attrs } from './nla.js';
import { decodeService, encodeService, encodeServiceKey } from './service.js';
import { decodeDest, encodeDest, encodeDestKey } from './dest.js';
import { decodeDaemon, encodeDaemon, encodeDaemonState } from './daemon.js';
import { decodeInfo, decodeTimeouts, encodeTimeouts } from './config.js';
import type { IpFamily } from '../../address/index.js';
import type { IpvsDest, IpvsInfo, IpvsOp, IpvsService, SyncDaemon, Timeouts, VirtualServiceKey } from '../types.js';

export function opCommand(op: IpvsOp): number {
  switch (op.op) {
    case 'add-service': return CMD.NEW_SERVICE;
    case 'edit-service': return CMD.SET_SERVICE;
    case 'del-service': return CMD.DEL_SERVICE;
    case 'add-dest': return CMD.NEW_DEST;
    case 'edit-dest': return CMD.SET_DEST;
    case 'del-dest': return CMD.DEL_DEST;
    case 'zero': return CMD.ZERO;
    case 'flush': return CMD.FLUSH;
    case 'set-timeouts': return CMD.SET_CONFIG;
    case 'start-daemon': return CMD.NEW_DAEMON;
    case 'stop-daemon': return CMD.DEL_DAEMON;
  }
}

/**
 * Appends one change request. `ack` asks the kernel to confirm success; failures are always
 * reported (as NLMSG_ERROR with the request's sequence number), with or without it.
 */
export function encodeOp(w: NlWriter, family: number, op: IpvsOp, seq: number, ack: boolean): void {
  const m = w.beginMessage(family, NLM_F_REQUEST | (ack ? NLM_F_ACK : 0), seq);
  w.genlHeader(opCommand(op), IPVS_GENL_VERSION);
  switch (op.op) {
    case 'add-service':
    case 'edit-service':
      encodeService(w, CA.SERVICE, op.service);
      break;
    case 'del-service':
      encodeServiceKey(w, CA.SERVICE, op.key);
      break;
    case 'add-dest':
    case 'edit-dest':
      serviceKeyNest(w, op.key);
      encodeDest(w, CA.DEST, op.dest);
      break;
    case 'del-dest':
      serviceKeyNest(w, op.key);
      encodeDestKey(w, CA.DEST, op.dest);
      break;
    case 'zero':
      if (op.key) encodeServiceKey(w, CA.SERVICE, op.key);
      break;
    case 'flush':
      break;
    case 'set-timeouts':
      encodeTimeouts(w, op.timeouts);
      break;
    case 'start-daemon':
      encodeDaemon(w, CA.DAEMON, op.daemon);
      break;
    case 'stop-daemon':
      encodeDaemonState(w, CA.DAEMON, op.state);
      break;
  }
  w.endMessage(m);
}

/**
 * The identifying SERVICE nest of the last key seen, kept encoded: a table's destinations come
 * right after their service, so ten thousand destinations encode about a thousand keys. Compared by
 * content (a caller may reuse and change a key object).
 */
let lastKey: { af: string; protocol?: string; addr?: string; port?: number; fwmark?: number; nest: Buffer } | undefined;
const keyWriter = new NlWriter(256);

function serviceKeyNest(w: NlWriter, key: VirtualServiceKey): void {
  const k = key as { af: string; protocol?: string; addr?: string; port?: number; fwmark?: number };
  const c = lastKey;
  if (c && c.af === k.af && c.fwmark === k.fwmark && c.addr === k.addr && c.port === k.port && c.protocol === k.protocol) {
    w.raw(c.nest);
    return;
  }
  encodeServiceKey(keyWriter, CA.SERVICE, key);
  lastKey = { af: k.af, protocol: k.protocol, addr: k.addr, port: k.port, fwmark: k.fwmark, nest: keyWriter.take() };
  w.raw(lastKey.nest);
}

function request(w: NlWriter, family: number, cmd: number, seq: number, dump: boolean, body?: () => void): void {
  const m = w.beginMessage(family, NLM_F_REQUEST | (dump ? NLM_F_DUMP : NLM_F_ACK), seq);
  w.genlHeader(cmd, IPVS_GENL_VERSION);
  body?.();
  w.endMessage(m);
}

export const encodeDumpServices = (w: NlWriter, family: number, seq: number): void =>
  request(w, family, CMD.GET_SERVICE, seq, true);

export const encodeGetService = (w: NlWriter, family: number, seq: number, key: VirtualServiceKey): void =>
  request(w, family, CMD.GET_SERVICE, seq, false, () => encodeServiceKey(w, CA.SERVICE, key));

export const encodeDumpDests = (w: NlWriter, family: number, seq: number, key: VirtualServiceKey): void =>
  request(w, family, CMD.GET_DEST, seq, true, () => encodeServiceKey(w, CA.SERVICE, key));

export const encodeDumpDaemons = (w: NlWriter, family: number, seq: number): void =>
  request(w, family, CMD.GET_DAEMON, seq, true);

export const encodeGetConfig = (w: NlWriter, family: number, seq: number): void =>
  request(w, family, CMD.GET_CONFIG, seq, false);

export const encodeGetInfo = (w: NlWriter, family: number, seq: number): void =>
  request(w, family, CMD.GET_INFO, seq, false);

function nested(payload: Buffer, attr: number, what: string): Attrs {
  const { attrs } = parseGenl(payload);
  if (!attrs.has(attr)) throw new NlDecodeError(`IPVS reply without a ${what} attribute`);
  return attrs.nested(attr, what);
}

export const decodeServiceReply = (payload: Buffer, withStats = true): IpvsService =>
  decodeService(nested(payload, CA.SERVICE, 'service'), withStats);
export const decodeDestReply = (payload: Buffer, serviceAf: IpFamily, withStats = true): IpvsDest =>
  decodeDest(nested(payload, CA.DEST, 'destination'), serviceAf, withStats);
export const decodeDaemonReply = (payload: Buffer): SyncDaemon => decodeDaemon(nested(payload, CA.DAEMON, 'daemon'));
export const decodeConfigReply = (payload: Buffer): Timeouts => decodeTimeouts(parseGenl(payload).attrs);
export const decodeInfoReply = (payload: Buffer): IpvsInfo => decodeInfo(parseGenl(payload).attrs);
