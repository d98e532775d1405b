// IpvsClient over the kernel's generic netlink family "IPVS".
//
// Changes are batched: many requests are concatenated into one sendmsg and only the last asks for an
// ACK. The kernel handles the requests of one sendmsg in order, synchronously, and reports every
// failure as an NLMSG_ERROR carrying that request's sequence number, ACK or not; so the final ACK
// (or error) closes the batch and every request without an error succeeded. A batch is sized so
// that even all-failing requests fit the socket's receive buffer; replies lost anyway are reported
// as ENOBUFS ("outcome unknown") rather than guessed.
import { type IpvsClient, type IpvsOpResult, type ListOptions } from './api.js';
import { IPVS_GENL_NAME } from './codec/constants.js';
import { NLM_F_ACK, decodeFamilyReply, encodeGetFamily } from './codec/netlink.js';
import {
  decodeConfigReply, decodeDaemonReply, decodeDestReply, decodeInfoReply, decodeServiceReply, encodeDumpDaemons,
  encodeDumpDests, encodeDumpServices, encodeGetConfig, encodeGetInfo, encodeGetService, encodeOp,
} from './codec/messages.js';
import { NlWriter } from './codec/nla.js';
import { errnoNumber, ipvsError, opObject, IpvsError, type IpvsErrorObject, type IpvsReadOperation } from './errors.js';
import { GenlSocket, NetlinkErrno, type GenlSocketOptions } from './socket.js';
import { validateOp } from './validate.js';
import type { IpvsDest, IpvsInfo, IpvsOp, IpvsService, IpvsServiceWithDests, SyncDaemon, Timeouts, VirtualServiceKey } from './types.js';
import { SingleOps } from './single-ops.js';

/**
 * Worst-case receive-buffer cost of one error reply (the kernel copies the refused request into
 * it); measured in the lab kernel, with margin. Bounds the batch size for a given SO_RCVBUF.
 */
export const ERROR_REPLY_TRUESIZE = 1280;

/** Read buffer of the destination-dump sockets (the kernel then sizes its dump datagrams to match). */
const DUMP_READ_BYTES = 8192;

export interface NetlinkIpvsClientOptions extends GenlSocketOptions {
  /** Requests per sendmsg. Default: as many as the receive buffer can answer with errors, at most 1024. */
  batchSize?: number;
  /** Sockets used in parallel to dump the destinations of many services. Default 4. */
  dumpConcurrency?: number;
  /**
   * Check operations before sending (default true). Off sends them as they are, to see what the
   * kernel itself answers (tests, diagnostics).
   */
  validate?: boolean;
}

export class NetlinkIpvsClient extends SingleOps implements IpvsClient {
  readonly batchSize: number;
  private closed = false;
  private readonly writer = new NlWriter(256 * 1024);
  private readonly dumpSockets: GenlSocket[] = [];

  private constructor(
    private sock: GenlSocket,
    readonly familyId: number,
    private readonly opts: NetlinkIpvsClientOptions,
  ) {
    super();
    const fit = Math.floor(sock.recvBufferBytes / ERROR_REPLY_TRUESIZE) - 1;
    this.batchSize = opts.batchSize ?? Math.max(1, Math.min(1024, fit));
  }

  /** Opens a socket and resolves the IPVS family (needs the ip_vs module). */
  static async open(opts: NetlinkIpvsClientOptions = {}): Promise<NetlinkIpvsClient> {
    const sock = new GenlSocket(opts);
    try {
      const w = new NlWriter(256);
      const seq = sock.reserveSeqs(1);
      encodeGetFamily(w, IPVS_GENL_NAME, seq);
      const replies = await sock.request(w.take(), seq).catch((e: unknown) => {
        throw toIpvsError('resolve-family', e, {});
      });
      const reply = replies[0];
      if (!reply) throw ipvsError('resolve-family', errnoNumber('ENOENT'), {});
      return new NetlinkIpvsClient(sock, decodeFamilyReply(reply.payload).id, opts);
    } catch (e) {
      sock.close();
      throw e;
    }
  }

  /** The main socket, replaced if the binding closed it after a socket failure. */
  private live(): GenlSocket {
    if (!this.sock.usable && !this.closed) this.sock = new GenlSocket(this.opts);
    return this.sock;
  }

  close(): void {
    this.closed = true;
    this.sock.close();
    for (const s of this.dumpSockets) s.close();
  }

  // ---- reads

  private async get(op: IpvsReadOperation, object: IpvsErrorObject, encode: (w: NlWriter, seq: number) => void, sock = this.live()) {
    const seq = sock.reserveSeqs(1);
    encode(this.writer, seq);
    try {
      return await sock.request(this.writer.take(), seq);
    } catch (e) {
      throw toIpvsError(op, e, object);
    }
  }

  async info(): Promise<IpvsInfo> {
    const [m] = await this.get('get-info', {}, (w, seq) => encodeGetInfo(w, this.familyId, seq));
    if (!m) throw ipvsError('get-info', errnoNumber('EPROTO'), {}, 'no reply to GET_INFO');
    return decodeInfoReply(m.payload);
  }

  async getTimeouts(): Promise<Timeouts> {
    const [m] = await this.get('get-timeouts', {}, (w, seq) => encodeGetConfig(w, this.familyId, seq));
    if (!m) throw ipvsError('get-timeouts', errnoNumber('EPROTO'), {}, 'no reply to GET_CONFIG');
    return decodeConfigReply(m.payload);
  }

  async listServices(opts: ListOptions = {}): Promise<IpvsService[]> {
    const msgs = await this.get('list-services', {}, (w, seq) => encodeDumpServices(w, this.familyId, seq));
    return msgs.map((m) => decodeServiceReply(m.payload, opts.stats ?? true));
  }

  async getService(key: VirtualServiceKey): Promise<IpvsService | undefined> {
    try {
      const [m] = await this.get('get-service', { service: key }, (w, seq) => encodeGetService(w, this.familyId, seq, key));
      return m ? decodeServiceReply(m.payload) : undefined;
    } catch (e) {
      if (e instanceof IpvsError && e.code === 'ESRCH') return undefined;
      throw e;
    }
  }

  private async dumpDests(key: VirtualServiceKey, sock: GenlSocket, withStats: boolean): Promise<IpvsDest[]> {
    const msgs = await this.get('list-dests', { service: key }, (w, seq) => encodeDumpDests(w, this.familyId, seq, key), sock);
    return msgs.map((m) => decodeDestReply(m.payload, key.af, withStats));
  }

  async listDests(key: VirtualServiceKey, opts: ListOptions = {}): Promise<IpvsDest[]> {
    const dests = await this.dumpDests(key, this.live(), opts.stats ?? true);
    // The kernel answers a dump for a missing service with an empty list; tell the two apart.
    if (dests.length === 0 && !(await this.getService(key))) {
      throw ipvsError('list-dests', errnoNumber('ESRCH'), { service: key });
    }
    return dests;
  }

  async listServicesWithDests(opts: ListOptions = {}): Promise<IpvsServiceWithDests[]> {
    const services = await this.listServices(opts);
    const out: IpvsServiceWithDests[] = services.map((s) => ({ ...s, dests: [] }));
    // A dump occupies its socket until NLMSG_DONE, so several sockets dump in parallel.
    const width = Math.max(1, Math.min(this.opts.dumpConcurrency ?? 4, out.length));
    // Small read buffers: a destination dump of a typical service fits one NLMSG_GOODSIZE datagram,
    // and a 32 KiB allocation per datagram (thousands here) only feeds the garbage collector.
    const dumpOpts = { ...this.opts, recvBufferBytes: 256 * 1024, recvMessageBytes: DUMP_READ_BYTES };
    for (let i = 0; i < width; i++) {
      const s = this.dumpSockets[i];
      if (!s || !s.usable) this.dumpSockets[i] = new GenlSocket(dumpOpts);
    }
    let next = 0;
    await Promise.all(this.dumpSockets.slice(0, width).map(async (sock) => {
      while (next < out.length) {
        const svc = out[next++]!;
        svc.dests = await this.dumpDests(svc.key, sock, opts.stats ?? true);
      }
    }));
    return out;
  }

  async listDaemons(): Promise<SyncDaemon[]> {
    const msgs = await this.get('list-daemons', {}, (w, seq) => encodeDumpDaemons(w, this.familyId, seq));
    return msgs.map((m) => decodeDaemonReply(m.payload));
  }

  // ---- changes

  async apply(ops: readonly IpvsOp[]): Promise<IpvsOpResult[]> {
    const results: IpvsOpResult[] = new Array<IpvsOpResult>(ops.length);
    const toSend: number[] = [];
    const check = this.opts.validate ?? true;
    ops.forEach((op, i) => {
      const err = check ? validateOp(op) : undefined;
      if (err) results[i] = { ok: false, error: err };
      else toSend.push(i);
    });
    for (let start = 0; start < toSend.length; start += this.batchSize) {
      const chunk = toSend.slice(start, start + this.batchSize);
      const sock = this.live();
      const first = sock.reserveSeqs(chunk.length);
      // Sequence number first + k belongs to ops[chunk[k]]; only encodable operations are sent.
      const sent: number[] = [];
      let lastStart = -1;
      chunk.forEach((opIndex, k) => {
        const at = this.writer.length;
        try {
          encodeOp(this.writer, this.familyId, ops[opIndex]!, first + k, false);
          sent.push(k);
          lastStart = at;
        } catch (e) {
          this.writer.truncate(at);
          results[opIndex] = { ok: false, error: toIpvsError(ops[opIndex]!.op, e, opObject(ops[opIndex]!), errnoNumber('EINVAL')) };
        }
      });
      if (sent.length === 0) continue;
      this.writer.addMessageFlags(lastStart, NLM_F_ACK);
      const lastSeq = first + sent[sent.length - 1]!;
      let outcome;
      try {
        outcome = await sock.batch(this.writer.take(), first, lastSeq);
      } catch (e) {
        // The batch never got through (send failure, timeout): none of its operations is known to be done.
        for (const k of sent) results[chunk[k]!] = { ok: false, error: toIpvsError(ops[chunk[k]!]!.op, e, opObject(ops[chunk[k]!]!)) };
        continue;
      }
      for (const k of sent) {
        const opIndex = chunk[k]!;
        const op = ops[opIndex]!;
        const errno = outcome.errors.get(first + k);
        if (errno !== undefined) results[opIndex] = { ok: false, error: ipvsError(op.op, errno, opObject(op)) };
        else if (outcome.lost !== undefined) results[opIndex] = { ok: false, error: ipvsError(op.op, errnoNumber('ENOBUFS'), opObject(op)) };
        else results[opIndex] = { ok: true };
      }
    }
    return results;
  }
}

function toIpvsError(op: IpvsOp['op'] | IpvsReadOperation, e: unknown, object: IpvsErrorObject, fallbackErrno = errnoNumber('EIO')): IpvsError {
  if (e instanceof IpvsError) return e;
  if (e instanceof NetlinkErrno) return ipvsError(op, e.errno, object);
  return ipvsError(op, fallbackErrno, object, e instanceof Error ? e.message : String(e));
}
