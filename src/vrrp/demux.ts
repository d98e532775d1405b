// Routes received VRRP messages to the instance with their VRID, the way keepalived shares one
// socket per interface and family between its instances. The socket layer calls receive().
import type { IpFamily } from '../address/index.js';
import { parseIpv4Packet } from './ipv4-header.js';
import { peekVrid, type DropReason, type RxInfo } from './packet.js';
import type { VrrpInstance } from './instance.js';

export interface DemuxCounters {
  /** Messages for a VRID no local instance serves (other routers on the LAN are normal). */
  unknownVrid: number;
  /** Messages too broken to read a VRID from, or an IPv4 header we refuse. */
  malformed: Partial<Record<DropReason, number>>;
}

export class VrrpDemux {
  private readonly byVrid = new Map<number, VrrpInstance>();
  private readonly counters: DemuxCounters = { unknownVrid: 0, malformed: {} };

  constructor(readonly family: IpFamily) {}

  add(instance: VrrpInstance): void {
    const { vrid, family, name } = instance.config;
    if (family !== this.family) throw new RangeError(`VRRP instance ${name} is ${family}, this demux ${this.family}`);
    const other = this.byVrid.get(vrid);
    if (other && other !== instance) throw new RangeError(`VRID ${vrid} is already used by ${other.config.name}`);
    this.byVrid.set(vrid, instance);
  }

  remove(instance: VrrpInstance): void {
    if (this.byVrid.get(instance.config.vrid) === instance) this.byVrid.delete(instance.config.vrid);
  }

  /** A VRRP message (IPv6 sockets deliver just that) with what the socket knows about it. */
  receive(bytes: Uint8Array, rx: RxInfo): void {
    const vrid = peekVrid(bytes);
    if (vrid === undefined) {
      this.malformed('bad-length');
      return;
    }
    const instance = this.byVrid.get(vrid);
    if (!instance) {
      this.counters.unknownVrid++;
      return;
    }
    instance.receive(bytes, rx);
  }

  /** A whole IPv4 packet, as a raw IPv4 socket delivers it: source, destination and TTL come from its header. */
  receiveIpv4Packet(packet: Uint8Array): void {
    const p = parseIpv4Packet(packet);
    if (!p.ok) {
      this.malformed(p.reason);
      return;
    }
    this.receive(p.payload, { family: 'IPv4', src: p.header.src, dst: p.header.dst, ttl: p.header.ttl });
  }

  stats(): DemuxCounters {
    return structuredClone(this.counters);
  }

  private malformed(reason: DropReason): void {
    this.counters.malformed[reason] = (this.counters.malformed[reason] ?? 0) + 1;
  }
}
