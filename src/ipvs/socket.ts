// A generic netlink socket for request/response and batched exchanges, on the `netlink` package's
// raw socket (its native binding does socket/bind/sendmsg/recvmsg and the libuv polling).
//
// One exchange runs at a time per socket; sequence numbers only grow, so replies to an exchange that
// was abandoned (timeout, overflow) are recognised as stale and dropped. Replies are read with a
// fixed 32 KiB buffer (no MSG_PEEK round trip per datagram); the kernel sizes dump datagrams by
// the largest read buffer it has seen (capped near 32 KiB), so dumps come in few large datagrams.
import { RawNetlinkSocket } from 'netlink/dist/raw.js';
import { NETLINK_GENERIC, NLMSG_DONE, NLMSG_ERROR, NLMSG_NOOP, NLMSG_OVERRUN, parseDonePayload, parseErrorPayload, splitMessages, type NlMessage } from './codec/netlink.js';
import { errnoNumber } from './errors.js';

export const RECV_BUFFER_BYTES = 32 * 1024;
/** Quiet time that ends a batch whose final reply may have been lost to an overflow. */
const OVERFLOW_DRAIN_MS = 100;

/** A kernel errno from netlink (NLMSG_ERROR, NLMSG_DONE) or from the socket itself. */
export class NetlinkErrno extends Error {
  constructor(readonly errno: number, message: string) {
    super(message);
    this.name = 'NetlinkErrno';
  }
}

export interface GenlSocketOptions {
  /** SO_RCVBUF to ask for; the kernel caps it at net.core.rmem_max (and doubles it). Default 4 MiB. */
  recvBufferBytes?: number;
  /** SO_SNDBUF to ask for; bounds one sendmsg (a batch). Default 4 MiB. */
  sendBufferBytes?: number;
  /** Read buffer per datagram; 0 peeks at each datagram's size first (one more syscall each). */
  recvMessageBytes?: number;
  /** How long one exchange may wait for the kernel. Default 30 s. */
  timeoutMs?: number;
}

interface Exchange {
  first: number;
  last: number;
  /** Returns true when the exchange is complete. */
  onMessage(msg: NlMessage): boolean;
  /** The socket failed (overflow, poll error): finish or fail now. */
  onSocketError(errno: number, message: string): void;
  fail(err: Error): void;
}

export interface BatchOutcome {
  /** errno by sequence number, for the messages the kernel refused. */
  errors: Map<number, number>;
  /** Set when replies were lost (receive buffer overflow): messages without an entry in `errors` have an unknown outcome. */
  lost?: number;
}

export class GenlSocket {
  private readonly raw: RawNetlinkSocket;
  private seq: number;
  private current: Exchange | undefined;
  private chain: Promise<unknown> = Promise.resolve();
  private closed = false;
  private dead = false;
  private watchdog: NodeJS.Timeout | undefined;
  private deadline = 0;
  readonly recvBufferBytes: number;
  readonly sendBufferBytes: number;
  private readonly timeoutMs: number;

  constructor(opts: GenlSocketOptions = {}) {
    this.raw = new RawNetlinkSocket(NETLINK_GENERIC, {
      messagePeeking: opts.recvMessageBytes === 0,
      msgBufferSize: opts.recvMessageBytes || RECV_BUFFER_BYTES,
      recvBufferSize: opts.recvBufferBytes ?? 4 * 1024 * 1024,
      sendBufferSize: opts.sendBufferBytes ?? 4 * 1024 * 1024,
    });
    this.recvBufferBytes = this.raw.getRecvBufferSize();
    this.sendBufferBytes = this.raw.getSendBufferSize();
    this.timeoutMs = opts.timeoutMs ?? 30_000;
    this.seq = Math.floor(Math.random() * 0x3fffffff) + 1;
    this.raw.on('message', (buf) => this.receive(buf));
    this.raw.on('truncatedMessage', () => this.socketError(errnoNumber('EMSGSIZE'), 'a netlink reply did not fit the receive buffer'));
    this.raw.on('error', (err) => {
      const e = err as { errno?: number; syscall?: string; message: string };
      // A failed recvmsg (ENOBUFS: replies dropped) leaves the socket usable; a polling error
      // makes the binding close it.
      if (e.syscall !== 'recvmsg') this.dead = true;
      this.socketError(Math.abs(e.errno ?? errnoNumber('EIO')), e.message);
    });
    // The socket must not keep the process alive when idle.
    this.raw.unref();
  }

  /** Closed, by us or by a socket failure: a new socket is needed. */
  get usable(): boolean {
    return !this.closed && !this.dead;
  }

  /** Reserves `n` consecutive sequence numbers and returns the first. */
  reserveSeqs(n: number): number {
    if (this.seq + n > 0xfffffff0) this.seq = 1;
    const first = this.seq;
    this.seq += n;
    return first;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.current?.fail(new NetlinkErrno(errnoNumber('EBADF'), 'netlink socket closed'));
    this.current = undefined;
    clearInterval(this.watchdog);
    this.raw.close();
  }

  private receive(buf: Buffer): void {
    let msgs: NlMessage[];
    try {
      msgs = splitMessages(buf);
    } catch (e) {
      this.current?.fail(e as Error);
      this.current = undefined;
      return;
    }
    for (const m of msgs) {
      const ex = this.current;
      if (!ex || m.seq < ex.first || m.seq > ex.last) continue; // stale reply of an abandoned exchange
      let complete: boolean;
      try {
        complete = ex.onMessage(m);
      } catch (e) {
        // A malformed reply (a short NLMSG_ERROR) fails its exchange; thrown from this socket
        // event handler it would be an uncaught exception.
        ex.fail(e as Error);
        this.current = undefined;
        return;
      }
      if (complete) this.current = undefined;
    }
  }

  private socketError(errno: number, message: string): void {
    const ex = this.current;
    if (!ex) return;
    ex.onSocketError(errno, message);
  }

  /** Runs exchanges one after another. */
  private serialize<T>(run: () => Promise<T>): Promise<T> {
    const next = this.chain.then(run, run);
    this.chain = next.catch(() => undefined);
    return next;
  }

  private run<T>(data: Buffer, first: number, last: number, make: (done: (v: T) => void, fail: (e: Error) => void) => Omit<Exchange, 'first' | 'last' | 'fail'>): Promise<T> {
    return this.serialize(() => new Promise<T>((resolve, reject) => {
      if (!this.usable) {
        reject(new NetlinkErrno(errnoNumber('EBADF'), 'netlink socket closed'));
        return;
      }
      let finished = false;
      const finish = (): boolean => {
        if (finished) return false;
        finished = true;
        if (this.current === ex) this.current = undefined;
        this.raw.unref();
        return true;
      };
      const done = (v: T): void => { if (finish()) resolve(v); };
      const fail = (e: Error): void => { if (finish()) reject(e); };
      const ex: Exchange = { first, last, fail, ...make(done, fail) };
      this.current = ex;
      this.deadline = Date.now() + this.timeoutMs;
      this.armWatchdog();
      try {
        this.raw.ref();
        this.raw.send(data, { port: 0 }, (err) => {
          if (err) fail(new NetlinkErrno(Math.abs(err.errno), `sendmsg: ${err.message}`));
        });
      } catch (e) {
        // The binding throws once it has closed the socket itself.
        this.dead = true;
        fail(new NetlinkErrno(errnoNumber('EBADF'), `netlink socket unusable: ${(e as Error).message}`));
      }
    }));
  }

  /**
   * One timer per socket instead of one per exchange (a dump per service makes thousands of
   * exchanges): it fails the current exchange once its deadline has passed.
   */
  private armWatchdog(): void {
    if (this.watchdog) return;
    this.watchdog = setInterval(() => {
      const ex = this.current;
      if (!ex) {
        clearInterval(this.watchdog);
        this.watchdog = undefined;
        return;
      }
      if (Date.now() > this.deadline) ex.fail(new NetlinkErrno(errnoNumber('ETIMEDOUT'), `no netlink reply within ${this.timeoutMs} ms`));
    }, Math.min(1000, this.timeoutMs));
    this.watchdog.unref();
  }

  /**
   * Sends change requests already encoded with sequence numbers first..last, where only the last
   * one asks for an ACK. Failures come back as NLMSG_ERROR with their own sequence number, in order,
   * before the final reply; so the final reply ends the exchange.
   */
  batch(data: Buffer, first: number, last: number): Promise<BatchOutcome> {
    return this.run<BatchOutcome>(data, first, last, (done) => {
      const errors = new Map<number, number>();
      let lost: number | undefined;
      let idle: NodeJS.Timeout | undefined;
      const finish = (): void => {
        clearTimeout(idle);
        done(lost === undefined ? { errors } : { errors, lost });
      };
      // After an overflow the final reply may be among the lost ones. The kernel handled the whole
      // batch inside sendmsg, so every surviving reply is already queued: read until the queue is quiet.
      const rearm = (): void => {
        if (lost === undefined) return;
        clearTimeout(idle);
        idle = setTimeout(finish, OVERFLOW_DRAIN_MS);
      };
      return {
        onMessage: (m) => {
          if (m.type !== NLMSG_ERROR) return false;
          const { errno } = parseErrorPayload(m.payload);
          if (errno !== 0) errors.set(m.seq, errno);
          if (m.seq === last) {
            finish();
            return true;
          }
          rearm();
          return false;
        },
        onSocketError: (errno) => {
          lost = errno;
          rearm();
        },
      };
    });
  }

  /**
   * One request (already encoded with sequence number `seq`): a dump (ends with NLMSG_DONE) or a
   * request with NLM_F_ACK (ends with the ACK). Resolves with the payloads of the data messages.
   */
  request(data: Buffer, seq: number): Promise<NlMessage[]> {
    return this.run<NlMessage[]>(data, seq, seq, (done, fail) => {
      const out: NlMessage[] = [];
      return {
        onMessage: (m) => {
          if (m.type === NLMSG_ERROR) {
            const { errno } = parseErrorPayload(m.payload);
            if (errno === 0) done(out);
            else fail(new NetlinkErrno(errno, `netlink request refused (errno ${errno})`));
            return true;
          }
          if (m.type === NLMSG_DONE) {
            const errno = parseDonePayload(m.payload);
            if (errno === 0) done(out);
            else fail(new NetlinkErrno(errno, `netlink dump failed (errno ${errno})`));
            return true;
          }
          if (m.type !== NLMSG_NOOP && m.type !== NLMSG_OVERRUN) out.push(m);
          return false;
        },
        onSocketError: (errno, message) => fail(new NetlinkErrno(errno, message)),
      };
    });
  }
}
