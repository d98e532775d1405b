// Test-only in-memory stand-in for RawVrrpChannel: every send is delivered (after `latencyMs` on a
// fake clock, never synchronously) to the other open channels of the same family whose owner has
// the destination address, or all of them for the multicast group, as bytes through their demux.
import type { IpFamily } from '../../../src/address/index.js';
import type { FakeClock } from '../../../src/vrrp/fake-clock.js';
import { encodeIpv4Packet } from '../../../src/vrrp/ipv4-header.js';
import { VRRP_MULTICAST_IPV4, VRRP_MULTICAST_IPV6 } from '../../../src/vrrp/packet.js';
import type { ChannelCounters, ChannelFactory, ChannelOpenOptions, VrrpChannel } from '../../../src/vrrp/runtime/channel.js';

export interface Sent {
  from: string;
  src: string;
  dst: string;
  vrrp: Buffer;
  t: number;
}

export class FakeChannel implements VrrpChannel {
  readonly ifname: string;
  readonly family: IpFamily;
  joined = false;
  closed = false;
  /** When set, send() throws it (e.g. ENETDOWN). */
  failSends: Error | undefined;
  readonly counters: ChannelCounters = { received: 0, receiveErrors: 0, sent: 0, sendErrors: 0 };

  constructor(
    private readonly lan: FakeLan,
    readonly owner: string,
    readonly addresses: string[],
    readonly opts: ChannelOpenOptions,
  ) {
    this.ifname = opts.ifname;
    this.family = opts.family;
  }

  send(vrrp: Buffer, src: string, dst: string): void {
    if (this.closed) throw new Error('send on a closed channel');
    if (this.failSends) {
      this.counters.sendErrors++;
      throw this.failSends;
    }
    this.counters.sent++;
    this.lan.deliver(this, vrrp, src, dst);
  }

  joinMulticast(): void {
    this.joined = true;
  }

  /**
   * While set, packets wait in this channel's inbox as in a socket nobody reads (an event loop
   * held up) until drain() or the flag is cleared.
   */
  holdReads = false;
  readonly inbox: { bytes: Buffer; rx: { src: string; dst: string } }[] = [];
  drains = 0;

  drain(): number {
    this.drains++;
    const waiting = this.inbox.splice(0);
    for (const p of waiting) this.inject(p.bytes, p.rx);
    return waiting.length;
  }

  /** A packet arrived from the LAN: read at once, or queued while reads are held. */
  arrive(bytes: Buffer, rx: { src: string; dst: string }): void {
    if (this.holdReads) this.inbox.push({ bytes, rx });
    else this.inject(bytes, rx);
  }

  stats(): ChannelCounters {
    return { ...this.counters };
  }

  close(): void {
    this.closed = true;
  }

  /** Hand raw bytes to this channel's demux as the kernel would (IPv4: a whole packet). */
  inject(bytes: Buffer, rx: { src: string; dst: string; ttl?: number } = { src: '10.0.0.99', dst: VRRP_MULTICAST_IPV4 }): void {
    this.counters.received++;
    if (this.family === 'IPv4') this.opts.demux.receiveIpv4Packet(bytes);
    else this.opts.demux.receive(bytes, { family: 'IPv6', ...rx, ttl: rx.ttl ?? 255 });
  }
}

export class FakeLan {
  readonly channels: FakeChannel[] = [];
  readonly sent: Sent[] = [];
  /** Owners cut off from the LAN. */
  readonly unplugged = new Set<string>();

  constructor(readonly clock: FakeClock, readonly latencyMs = 1) {}

  /** The ChannelFactory for a speaker named `owner` holding `addresses`. */
  factory(owner: string, addresses: string[]): ChannelFactory {
    return (o) => {
      const c = new FakeChannel(this, owner, addresses, o);
      this.channels.push(c);
      return c;
    };
  }

  channel(owner: string): FakeChannel {
    const c = this.channels.find((x) => x.owner === owner && !x.closed);
    if (!c) throw new Error(`no open channel of ${owner}`);
    return c;
  }

  deliver(from: FakeChannel, vrrp: Buffer, src: string, dst: string): void {
    this.sent.push({ from: from.owner, src, dst, vrrp, t: this.clock.now() });
    if (this.unplugged.has(from.owner)) return;
    const group = from.family === 'IPv4' ? VRRP_MULTICAST_IPV4 : VRRP_MULTICAST_IPV6;
    for (const to of this.channels) {
      if (to === from || to.closed || to.family !== from.family || this.unplugged.has(to.owner)) continue;
      if (dst === group ? !to.joined : !to.addresses.includes(dst)) continue;
      const packet = from.family === 'IPv4' ? encodeIpv4Packet({ src, dst }, vrrp) : vrrp;
      this.clock.setTimer(this.latencyMs, () => {
        if (!to.closed) to.arrive(packet, { src, dst });
      });
    }
  }
}
