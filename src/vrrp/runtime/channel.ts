// The VRRP transport of one interface and address family: a receive socket (raw, protocol 112,
// bound to the interface, multicast group joined on demand) feeding a VrrpDemux, and a send
// socket (IPPROTO_RAW: we write the IP header, so TTL/hop limit 255, TOS 0xc0 and the source
// address are exactly ours, as keepalived does with IP_HDRINCL). Separate sockets because a raw
// socket bound for sending would also queue every advert addressed to it, and keepalived splits
// them the same way. Nothing here parses VRRP: the demux and the codec do.
import type { IpFamily } from '../../address/index.js';
import { formatIp } from '../../address/index.js';
import type { VrrpDemux } from '../demux.js';
import { encodeIpv4Packet } from '../ipv4-header.js';
import { VRRP_MULTICAST_IPV4, VRRP_MULTICAST_IPV6, VRRP_PROTOCOL } from '../packet.js';
import { encodeVrrpIpv6Packet } from './frames.js';
import { nativeBinding, type NativeReceiver, type PacketSocketBinding } from './native.js';
import { ipMreqn, ipv6Mreq, isLinkScopedIpv6, sockaddrAddress, sockaddrIn, sockaddrIn6 } from './sockaddr.js';

export interface ChannelCounters {
  received: number;
  receiveErrors: number;
  sent: number;
  sendErrors: number;
}

/** What the speaker needs from a transport; unit tests substitute an in-memory one. */
export interface VrrpChannel {
  readonly ifname: string;
  readonly family: IpFamily;
  /** Send one VRRP message (no IP header) from `src` to `dst`. Throws on socket errors (the caller counts them). */
  send(vrrp: Buffer, src: string, dst: string): void;
  /** Join the VRRP multicast group on this interface (idempotent). */
  joinMulticast(): void;
  /**
   * Hand what is waiting in the receive socket to the demux now, synchronously; returns how many
   * packets. A backup calls it before acting on an expired Master_Down timer (VrrpListener.drainInput).
   */
  drain(): number;
  stats(): ChannelCounters;
  close(): void;
}

export interface ChannelOpenOptions {
  ifname: string;
  family: IpFamily;
  /** Every received packet goes here (IPv4: whole packets; IPv6: payload + ancillary data). */
  demux: VrrpDemux;
  /** Receive-side socket errors (the socket stays open). */
  onError(err: Error): void;
}

export type ChannelFactory = (o: ChannelOpenOptions) => VrrpChannel;

export class RawVrrpChannel implements VrrpChannel {
  readonly ifname: string;
  readonly family: IpFamily;
  private readonly n: PacketSocketBinding;
  private readonly ifindex: number;
  private readonly rxFd: number;
  private readonly txFd: number;
  private receiver: NativeReceiver | undefined;
  private joined = false;
  private closed = false;
  private readonly counters: ChannelCounters = { received: 0, receiveErrors: 0, sent: 0, sendErrors: 0 };

  /** Opens both sockets; throws (EPERM without CAP_NET_RAW, ENODEV for a missing interface). */
  constructor(o: ChannelOpenOptions, binding: PacketSocketBinding = nativeBinding()) {
    this.n = binding;
    this.ifname = o.ifname;
    this.family = o.family;
    const c = this.n.constants;
    const af = o.family === 'IPv4' ? c.AF_INET : c.AF_INET6;
    this.ifindex = this.n.ifNameToIndex(o.ifname);
    const device = Buffer.from(`${o.ifname}\0`);
    this.rxFd = this.n.socket(af, c.SOCK_RAW, VRRP_PROTOCOL);
    try {
      this.n.setsockopt(this.rxFd, c.SOL_SOCKET, c.SO_BINDTODEVICE, device);
      if (o.family === 'IPv6') {
        this.n.setsockopt(this.rxFd, c.IPPROTO_IPV6, c.IPV6_RECVPKTINFO, 1);
        this.n.setsockopt(this.rxFd, c.IPPROTO_IPV6, c.IPV6_RECVHOPLIMIT, 1);
      }
      this.txFd = this.n.socket(af, c.SOCK_RAW, c.IPPROTO_RAW);
    } catch (e) {
      this.n.close(this.rxFd);
      throw e;
    }
    try {
      this.n.setsockopt(this.txFd, c.SOL_SOCKET, c.SO_BINDTODEVICE, device);
      // Our own multicast adverts must not come back to us.
      if (o.family === 'IPv4') this.n.setsockopt(this.txFd, c.IPPROTO_IP, c.IP_MULTICAST_LOOP, 0);
      else this.n.setsockopt(this.txFd, c.IPPROTO_IPV6, c.IPV6_MULTICAST_LOOP, 0);
      this.receiver = this.n.recvStart(this.rxFd, (err, data, from, dst, _ifindex, hopLimit) => {
        if (err) {
          this.counters.receiveErrors++;
          o.onError(err);
          return;
        }
        this.counters.received++;
        if (!data) return;
        if (o.family === 'IPv4') {
          o.demux.receiveIpv4Packet(data);
          return;
        }
        const src = from ? sockaddrAddress('IPv6', from) : undefined;
        if (src === undefined || dst === undefined || dst.length !== 16) {
          // Without both addresses the v3 checksum cannot be verified: count it as a bad header.
          this.counters.receiveErrors++;
          return;
        }
        o.demux.receive(data, {
          family: 'IPv6',
          src,
          dst: formatIp('IPv6', dst),
          ...(hopLimit !== undefined && hopLimit >= 0 ? { ttl: hopLimit } : {}),
        });
      });
    } catch (e) {
      this.n.close(this.txFd);
      this.n.close(this.rxFd);
      throw e;
    }
  }

  joinMulticast(): void {
    if (this.joined) return;
    const c = this.n.constants;
    if (this.family === 'IPv4') {
      this.n.setsockopt(this.rxFd, c.IPPROTO_IP, c.IP_ADD_MEMBERSHIP, ipMreqn(VRRP_MULTICAST_IPV4, this.ifindex));
    } else {
      this.n.setsockopt(this.rxFd, c.IPPROTO_IPV6, c.IPV6_ADD_MEMBERSHIP, ipv6Mreq(VRRP_MULTICAST_IPV6, this.ifindex));
    }
    this.joined = true;
  }

  drain(): number {
    return this.receiver ? this.n.recvDrain(this.receiver) : 0;
  }

  send(vrrp: Buffer, src: string, dst: string): void {
    const c = this.n.constants;
    try {
      if (this.family === 'IPv4') {
        this.n.sendto(this.txFd, encodeIpv4Packet({ src, dst }, vrrp), sockaddrIn(c.AF_INET, dst));
      } else {
        const scope = isLinkScopedIpv6(dst) ? this.ifindex : 0;
        this.n.sendto(this.txFd, encodeVrrpIpv6Packet(src, dst, vrrp), sockaddrIn6(c.AF_INET6, dst, scope));
      }
      this.counters.sent++;
    } catch (e) {
      this.counters.sendErrors++;
      throw e;
    }
  }

  stats(): ChannelCounters {
    return { ...this.counters };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.receiver) this.n.recvStop(this.receiver);
    this.receiver = undefined;
    this.n.close(this.rxFd);
    this.n.close(this.txFd);
  }
}

export const rawChannelFactory: ChannelFactory = (o) => new RawVrrpChannel(o);
