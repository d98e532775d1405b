// Test-only in-memory LAN: every node's adverts are encoded to bytes exactly as they would go on
// the wire (IPv4: with the IP header) and delivered through a VrrpDemux to every node the sender
// can reach, after `latencyMs` on the shared fake clock (never synchronously, as on a real LAN).
import { pino } from 'pino';
import type { IpFamily } from '../../../src/address/index.js';
import { VrrpDemux } from '../../../src/vrrp/demux.js';
import type { FakeClock } from '../../../src/vrrp/fake-clock.js';
import { VrrpInstance, type TransitionReason, type VrrpState } from '../../../src/vrrp/instance.js';
import type { VrrpInstanceConfig } from '../../../src/vrrp/config.js';
import { encodeIpv4Packet } from '../../../src/vrrp/ipv4-header.js';
import { encodeAdvert, VRRP_MULTICAST_IPV4, VRRP_MULTICAST_IPV6 } from '../../../src/vrrp/packet.js';
import { VrrpSyncGroup, type TrackedInterface } from '../../../src/vrrp/sync-group.js';

export const silent = pino({ level: 'silent' });

export type WireEvent =
  | { t: number; node: string; vrid: number; kind: 'advert'; priority: number }
  | { t: number; node: string; vrid: number; kind: 'becomeMaster' | 'becomeBackup' }
  | { t: number; node: string; vrid: number; kind: 'state'; from: VrrpState; to: VrrpState; reason: TransitionReason };

export interface WireNode {
  name: string;
  address: string;
  demux: VrrpDemux;
  instances: VrrpInstance[];
  /** With addSyncNode: the node's one sync group and each instance's interface. */
  sync?: VrrpSyncGroup;
  ifaces: string[];
  /** Interfaces whose link is down: an instance on one neither sends nor hears. */
  down: Set<string>;
}

export interface SyncNodeOptions {
  tracked?: TrackedInterface[];
  /** The interface of each instance, in config order (default eth0). */
  ifaces?: string[];
}

type NodeConfig = Omit<VrrpInstanceConfig, 'name' | 'primaryAddress' | 'family'>;

export class Wire {
  readonly events: WireEvent[] = [];
  readonly nodes = new Map<string, WireNode>();
  private readonly unplugged = new Set<string>();
  private partitions: string[][] | undefined;
  /** Bytes delivered to nodes, for tests that corrupt or count traffic. */
  delivered = 0;

  constructor(
    readonly clock: FakeClock,
    readonly family: IpFamily = 'IPv4',
    readonly latencyMs = 0,
  ) {}

  /** A node with one instance per config, all on the same address (like one director). */
  addNode(name: string, address: string, ...configs: NodeConfig[]): WireNode {
    return this.addSyncNode(name, address, undefined, ...configs);
  }

  /** A node whose instances form one sync group (keepalived vrrp_sync_group) when `sync` is given. */
  addSyncNode(name: string, address: string, sync: SyncNodeOptions | undefined, ...configs: NodeConfig[]): WireNode {
    const group = sync ? new VrrpSyncGroup(name, { tracked: sync.tracked ?? [], log: silent }) : undefined;
    const ifaces = configs.map((_, i) => sync?.ifaces?.[i] ?? 'eth0');
    const node: WireNode = { name, address, demux: new VrrpDemux(this.family), instances: [], ifaces, down: new Set() };
    if (group) node.sync = group;
    for (const [idx, c] of configs.entries()) {
      const instance = new VrrpInstance(
        { ...c, name: `${name}/${c.vrid}`, family: this.family, primaryAddress: address },
        {
          clock: this.clock,
          log: silent,
          listener: {
            sendAdvert: (priority, advert) => {
              if (node.down.has(ifaces[idx]!)) return; // ENETDOWN
              this.events.push({ t: this.clock.now(), node: name, vrid: c.vrid, kind: 'advert', priority });
              this.broadcast(node, encodeAdvert(advert, { src: address, dst: this.group }));
            },
            becomeMaster: () => this.events.push({ t: this.clock.now(), node: name, vrid: c.vrid, kind: 'becomeMaster' }),
            becomeBackup: () => this.events.push({ t: this.clock.now(), node: name, vrid: c.vrid, kind: 'becomeBackup' }),
            stateChanged: (from, to, reason) =>
              this.events.push({ t: this.clock.now(), node: name, vrid: c.vrid, kind: 'state', from, to, reason }),
          },
          ...(group ? { sync: group } : {}),
        },
      );
      node.instances.push(instance);
      node.demux.add(instance);
      group?.add(instance, ifaces[idx]!);
    }
    this.nodes.set(name, node);
    return node;
  }

  get group(): string {
    return this.family === 'IPv4' ? VRRP_MULTICAST_IPV4 : VRRP_MULTICAST_IPV6;
  }

  node(name: string): WireNode {
    const n = this.nodes.get(name);
    if (!n) throw new Error(`no node ${name}`);
    return n;
  }

  /** The node's instance for `vrid` (its first one by default). */
  instance(name: string, vrid?: number): VrrpInstance {
    const n = this.node(name);
    const i = vrid === undefined ? n.instances[0] : n.instances.find((x) => x.config.vrid === vrid);
    if (!i) throw new Error(`node ${name} has no instance ${vrid}`);
    return i;
  }

  startAll(): void {
    for (const n of this.nodes.values()) for (const i of n.instances) i.start();
  }

  /** Names of nodes whose instance `vrid` is master. */
  masters(vrid?: number): string[] {
    return [...this.nodes.values()]
      .filter((n) => (vrid === undefined ? n.instances[0] : n.instances.find((i) => i.config.vrid === vrid))?.state === 'master')
      .map((n) => n.name);
  }

  /** A link of the node goes down or up (`ip link set`): its instances there neither send nor hear; the sync group is told. */
  setLink(name: string, iface: string, up: boolean): void {
    const n = this.node(name);
    if (up) n.down.delete(iface);
    else n.down.add(iface);
    n.sync?.setLink(iface, up);
  }

  /** The node drops off the LAN (crash, cable pulled): nothing in, nothing out. */
  unplug(name: string): void {
    this.unplugged.add(name);
  }

  plug(name: string): void {
    this.unplugged.delete(name);
  }

  /** Split the LAN: nodes only reach nodes in their own group. */
  partition(...groups: string[][]): void {
    this.partitions = groups;
  }

  heal(): void {
    this.partitions = undefined;
  }

  /** Put arbitrary bytes on the wire as if `from` sent them (IPv4: `bytes` is a whole IP packet). */
  inject(to: string, bytes: Uint8Array, rx?: { src: string; ttl?: number }): void {
    const node = this.node(to);
    this.clock.setTimer(this.latencyMs, () => {
      if (this.family === 'IPv4') node.demux.receiveIpv4Packet(bytes);
      else node.demux.receive(bytes, { family: 'IPv6', src: rx?.src ?? '::', dst: this.group, ttl: rx?.ttl ?? 255 });
    });
  }

  stateEvents(node?: string): Extract<WireEvent, { kind: 'state' }>[] {
    return this.events.filter(
      (e): e is Extract<WireEvent, { kind: 'state' }> => e.kind === 'state' && (node === undefined || e.node === node),
    );
  }

  advertTimes(node: string, vrid?: number): number[] {
    return this.events
      .filter((e) => e.kind === 'advert' && e.node === node && (vrid === undefined || e.vrid === vrid))
      .map((e) => e.t);
  }

  /** Whether the receiver's instance for this VRID sits on a link that is down. */
  private vridDown(to: WireNode, vrid: number): boolean {
    const idx = to.instances.findIndex((i) => i.config.vrid === vrid);
    return idx >= 0 && to.down.has(to.ifaces[idx]!);
  }

  private reachable(from: string, to: string): boolean {
    if (from === to || this.unplugged.has(from) || this.unplugged.has(to)) return false;
    if (!this.partitions) return true;
    return this.partitions.some((g) => g.includes(from) && g.includes(to));
  }

  private broadcast(from: WireNode, vrrp: Buffer): void {
    const packet = this.family === 'IPv4' ? encodeIpv4Packet({ src: from.address, dst: this.group }, vrrp) : vrrp;
    for (const to of this.nodes.values()) {
      if (!this.reachable(from.name, to.name)) continue;
      this.clock.setTimer(this.latencyMs, () => {
        this.delivered++;
        if (to.down.size > 0 && this.vridDown(to, vrrp[1]!)) return;
        if (this.family === 'IPv4') to.demux.receiveIpv4Packet(packet);
        else to.demux.receive(packet, { family: 'IPv6', src: from.address, dst: this.group, ttl: 255 });
      });
    }
  }
}
