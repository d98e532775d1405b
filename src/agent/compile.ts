// desired = compile(model, node, health, leadership, mastership): the kernel state one node should hold.
// Pure: everything it depends on is an argument, so it is tested over a table of cases.
import type { DirectorGroupSpec, Forwarding, VirtualServiceSpec } from '../api/index.js';
import type { ForwardMethod, IpvsDest, IpvsServiceWithDests, ServiceFlag, SyncDaemon, Timeouts, TunnelFlag } from '../ipvs/types.js';
import type { Backend, ClusterModel, ServiceModel } from '../model/index.js';
import type { AddressSpec } from './link-diff.js';
import { isVipRule, type NftRule } from '../nft/index.js';
import { defaultQuorum, quorumHolds } from './quorum.js';
import { snatRules, vipRule } from './snat.js';
import { desiredSyncDaemons, type SyncMastership } from './vrrp-specs.js';

export type { SyncMastership } from './vrrp-specs.js';

/** Health as this node's checker sees it; undefined = not checked yet. */
export type HealthLookup = (service: string, backend: Backend) => boolean | undefined;

/** Whether quorum held for a service (by key) at its last compile; undefined: never compiled. */
export type QuorumMemory = (service: string) => boolean | undefined;

export const noQuorumMemory: QuorumMemory = () => undefined;

/** Whether this node should hold a VIP now (VRRP master, or the only director of its group). */
export type VipLeadership = (group: string, vip: string, iface: string) => boolean;

export interface CompiledBackend {
  address: string;
  port: number;
  healthy: boolean;
  /** Weight in the kernel; undefined when the destination is left out (failed, no inhibit). */
  weight: number | undefined;
}

export interface CompiledService {
  /** `namespace/name` of the VirtualService. */
  key: string;
  generation: number | undefined;
  group: string;
  ipvs: IpvsServiceWithDests;
  backends: CompiledBackend[];
  healthy: number;
  /** Sum of the weights of the healthy real servers: what quorum is compared with. */
  liveWeight: number;
  /** Quorum holds; when it does not, the real servers are out (weight 0 if inhibited). */
  quorumUp: boolean;
  /** The sorry server is in the table, alone, because quorum is lost. */
  sorryActive: boolean;
  /** spec.adopt: an IPVS service with this key that is not ours is taken over, not left alone. */
  adopt?: boolean;
  /** forwarding.snat: what goes to its NAT real servers is source-NATed (NodeDesired.nft). */
  snat?: boolean;
  /** backends.service.target Nodes: packets to its VIP go untracked, past kube-proxy (NodeDesired.nft). */
  notrack?: boolean;
}

export interface RealServerSide {
  /** `namespace/name` of the VirtualService whose VIP this node serves as a real server. */
  service: string;
  vip: string;
  method: 'DR' | 'TUN';
}

export interface NodeDesired {
  services: CompiledService[];
  /** Director VIPs and real-server VIPs (on lo / tunl0). */
  addresses: AddressSpec[];
  /** Links that must be up (tunl0 for TUN real servers). */
  links: string[];
  sysctls: Record<string, string>;
  timeouts: Partial<Timeouts> | undefined;
  /** IPVS sync daemons (VRRP-managed groups with sync on): backup always, master while master. */
  syncDaemons: SyncDaemon[];
  realServerSide: RealServerSide[];
  /**
   * Our nftables table holds these rules (absent: none): source NAT of the NAT services with
   * forwarding.snat, no-conntrack for the VIPs of services whose real servers are nodes.
   */
  nft?: NftRule[];
  /** Groups this node directs that announce over BGP, by name (absent: none). */
  bgp?: BgpGroupDesired[];
}

/** What one BGP group needs from this director: its VIPs on lo, and routes for those it can serve. */
export interface BgpGroupDesired {
  group: string;
  /** Every VIP of the group's accepted services, canonical, sorted: held on lo on every director. */
  vips: string[];
  /** The VIPs with a live real server in this director's table: the routes to announce. */
  serving: string[];
}

type SorryServer = NonNullable<VirtualServiceSpec['sorryServer']>;

const forwardMethod: Record<Forwarding['method'], ForwardMethod> = { NAT: 'masq', DR: 'route', TUN: 'tunnel' };

function serviceFlags(spec: NonNullable<ServiceModel['spec']>): ServiceFlag[] {
  const flags: ServiceFlag[] = [];
  if (spec.persistence) flags.push('persistent');
  if (spec.onePacket) flags.push('one-packet');
  for (const f of spec.schedulerFlags ?? []) flags.push(f.endsWith('-fallback') ? 'sched1' : 'sched2');
  return flags;
}

function netmaskPrefix(netmask: string | number | undefined, family: 'IPv4' | 'IPv6'): number {
  if (netmask === undefined) return family === 'IPv6' ? 128 : 32;
  if (typeof netmask === 'number') return netmask;
  return netmask.split('.').reduce((n, octet) => n + (Number(octet) >>> 0).toString(2).replace(/0/g, '').length, 0);
}

function toDest(b: { address: string; port: number; forwarding: Forwarding; upperThreshold?: number | undefined; lowerThreshold?: number | undefined }, weight: number): IpvsDest {
  const fwd = forwardMethod[b.forwarding.method];
  const dest: IpvsDest = {
    addr: b.address, port: b.port, fwd, weight,
    upperThreshold: b.upperThreshold ?? 0, lowerThreshold: b.lowerThreshold ?? 0,
  };
  if (fwd === 'tunnel') {
    const flags = (b.forwarding.tunnelFlags ?? []).filter((f): f is TunnelFlag => f !== 'nocsum');
    dest.tunnel = { type: b.forwarding.tunnelType ?? 'ipip', port: b.forwarding.tunnelPort ?? 0, flags };
  }
  return dest;
}

export function compileService(s: ServiceModel, health: HealthLookup, quorumBefore?: boolean): CompiledService | undefined {
  const spec = s.spec;
  // The model's key, never one rebuilt from the spec: it is canonical, as the kernel reads it back.
  if (!spec || !s.accepted || !s.family || !s.ipvsService) return undefined;
  const checked = s.backends.map((b) => ({ b, healthy: b.healthChecks.length === 0 || (health(s.key, b) ?? false) }));
  const healthy = checked.filter((c) => c.healthy).length;
  const liveWeight = checked.reduce((sum, c) => sum + (c.healthy ? c.b.weight : 0), 0);
  const quorumUp = quorumHolds(spec.quorum ?? defaultQuorum, liveWeight, quorumBefore);
  const sorry = spec.sorryServer;
  // keepalived changes the pool only while quorum holds or there is no sorry server; when quorum
  // is lost the sorry server serves alone and real servers are taken out (weight 0 if inhibited).
  const sorryActive = sorry !== undefined && !quorumUp;
  const backends: CompiledBackend[] = [];
  const dests: IpvsDest[] = [];
  for (const { b, healthy: up } of checked) {
    const weight = up && !sorryActive ? b.weight : b.inhibitOnFailure ? 0 : undefined;
    backends.push({ address: b.address, port: b.port, healthy: up, weight });
    if (weight !== undefined) dests.push(toDest(b, weight));
  }
  if (sorry) placeSorryServer(dests, sorry, spec, sorryActive, s.backends);
  return {
    key: s.key, generation: s.generation, group: s.group, backends, healthy, liveWeight, quorumUp, sorryActive, ...(spec.adopt ? { adopt: true } : {}), ...(spec.forwarding.snat ? { snat: true } : {}),
    ...(spec.backends.service?.target === 'Nodes' ? { notrack: true } : {}),
    ipvs: {
      key: s.ipvsService,
      scheduler: spec.scheduler,
      flags: serviceFlags(spec),
      timeout: spec.persistence?.timeoutSeconds ?? 0,
      netmask: netmaskPrefix(spec.persistence?.netmask, s.family),
      dests,
    },
  };
}

/**
 * The sorry server (keepalived ipwrapper.c update_quorum_state, init_service_vs): alone at weight 1
 * while quorum is lost; while it holds, absent, or at weight 0 with `inhibit` (sorry_server_inhibit).
 * A real server at the same address and port is the same destination (keepalived's
 * s_svr_duplicates_rs): the sorry server replaces it while active and is never parked beside it.
 */
function placeSorryServer(dests: IpvsDest[], sorry: SorryServer, spec: VirtualServiceSpec, active: boolean, backends: readonly Backend[]): void {
  const forwarding = sorry.forwarding ?? spec.forwarding;
  // DR and TUN deliver the packet's own port: the service's, or none under a fwmark.
  const port = forwarding.method === 'NAT' ? (sorry.port ?? spec.port ?? 0) : (spec.port ?? 0);
  if (!active) {
    const duplicate = backends.some((b) => b.address === sorry.address && b.port === port);
    if (sorry.inhibit && !duplicate) dests.push(toDest({ address: sorry.address, port, forwarding }, 0));
    return;
  }
  const at = dests.findIndex((d) => d.addr === sorry.address && d.port === port);
  if (at >= 0) dests.splice(at, 1);
  dests.push(toDest({ address: sorry.address, port, forwarding }, 1));
}

function groupTimeouts(spec: DirectorGroupSpec | undefined): Partial<Timeouts> | undefined {
  const t = spec?.timeouts;
  if (!t || (t.tcpSeconds === undefined && t.tcpFinSeconds === undefined && t.udpSeconds === undefined)) return undefined;
  return {
    ...(t.tcpSeconds !== undefined ? { tcp: t.tcpSeconds } : {}),
    ...(t.tcpFinSeconds !== undefined ? { tcpFin: t.tcpFinSeconds } : {}),
    ...(t.udpSeconds !== undefined ? { udp: t.udpSeconds } : {}),
  };
}

const hostPrefix = (vip: string): number => (vip.includes(':') ? 128 : 32);

/**
 * What one VirtualService contributes to one node's desired state. It depends on the service's
 * model and its backends' health only (not on VRRP leadership), so the agent can keep it until
 * one of those changes.
 */
export interface ServicePiece {
  /** The IPVS service, when this node directs the VirtualService and it is programmable. */
  service: CompiledService | undefined;
  /** The VIPs this node holds if it leads the group, with their address-map keys. */
  vips: { group: string; vip: string; iface: string; spec: AddressSpec; id: string }[];
  nat4: boolean;
  nat6: boolean;
  /** The real-server side (DR/TUN) where a backend is this node. */
  realServerSide: RealServerSide[];
  addresses: { spec: AddressSpec; id: string }[];
  links: string[];
  sysctls: Record<string, string>;
}

const addressId = (a: AddressSpec): string => `${a.ifname}/${a.address}`;

export function compilePiece(s: ServiceModel, node: string, health: HealthLookup, quorumBefore?: boolean): ServicePiece {
  const piece: ServicePiece = { service: undefined, vips: [], nat4: false, nat6: false, realServerSide: [], addresses: [], links: [], sysctls: {} };
  if (s.directors.includes(node)) {
    piece.service = compileService(s, health, quorumBefore);
    if (piece.service) {
      const sorry = s.spec?.sorryServer;
      const viaNat = s.backends.some((b) => b.forwarding.method === 'NAT') || s.spec?.forwarding.method === 'NAT' || sorry?.forwarding?.method === 'NAT';
      piece.nat6 = viaNat && s.family === 'IPv6';
      piece.nat4 = viaNat && s.family !== 'IPv6';
      for (const v of s.vips) {
        const spec = { ifname: v.interface, address: v.vip, prefixLen: hostPrefix(v.vip) };
        piece.vips.push({ group: s.group, vip: v.vip, iface: v.interface, spec, id: addressId(spec) });
      }
    }
  }
  compileRealServerSide(s, node, piece);
  return piece;
}

/** Services in key order, the order every consumer sees them in. */
export const byKey = (a: ServiceModel, b: ServiceModel): number => a.key.localeCompare(b.key);

/** A node that should hold nothing: what an uninstalled agent reconciles to (uninstall.ts). */
export const emptyDesired = (): NodeDesired => ({ services: [], addresses: [], links: [], sysctls: {}, timeouts: undefined, syncDaemons: [], realServerSide: [] });

/** No VRRP: never master, so no master sync daemon. */
export const neverMaster: SyncMastership = () => false;

/**
 * Puts the pieces of `services` (in order) together with what the node's groups need. Leadership
 * and mastership are applied here, on every pass: a VRRP transition needs no recompile.
 */
export function assemble(model: ClusterModel, services: Iterable<ServiceModel>, node: string, leads: VipLeadership, isMaster: SyncMastership, pieceOf: (s: ServiceModel) => ServicePiece): NodeDesired {
  const out = emptyDesired();
  const nft: NftRule[] = [];
  const addr = new Map<string, AddressSpec>();
  let nat4 = false;
  let nat6 = false;
  for (const s of services) {
    const p = pieceOf(s);
    if (p.service) out.services.push(p.service);
    if (p.service?.snat) nft.push(...snatRules(p.service.ipvs, model.groups.get(s.group)?.gateways ?? []));
    // Kept from kube-proxy on this director (docs/architecture.md, Untracked and claimed VIPs).
    const kept = p.service?.notrack ? vipRule(p.service.ipvs, 'notrack') : p.service?.snat ? vipRule(p.service.ipvs, 'claim') : undefined;
    if (kept) nft.push(kept);
    nat4 ||= p.nat4;
    nat6 ||= p.nat6;
    for (const v of p.vips) {
      if (announcesByBgp(model, v.group)) {
        // Active-active: every director holds every VIP, on lo (the routers reach it by the
        // route, never by ARP/ND on the LAN).
        const spec = { ifname: 'lo', address: v.vip, prefixLen: hostPrefix(v.vip) };
        addr.set(addressId(spec), spec);
      } else if (leads(v.group, v.vip, v.iface)) addr.set(v.id, v.spec);
    }
    if (p.realServerSide.length === 0) continue;
    out.realServerSide.push(...p.realServerSide);
    for (const a of p.addresses) addr.set(a.id, a.spec);
    for (const l of p.links) if (!out.links.includes(l)) out.links.push(l);
    Object.assign(out.sysctls, p.sysctls);
  }

  const bgp: BgpGroupDesired[] = [];
  for (const g of model.groups.values()) {
    if (!g.directors.includes(node)) continue;
    out.timeouts ??= groupTimeouts(g.group?.spec);
    if (announcesByBgp(model, g.name)) {
      bgp.push(bgpGroupDesired(model, g.name, out.services));
      Object.assign(out.sysctls, activeActiveSysctls);
    }
    const iface = g.group?.spec.interface;
    if (iface) out.sysctls[`net.ipv4.conf.${iface}.send_redirects`] = '0';
    // Gateway addresses move with the service VIPs: held, with their prefix, where this node leads.
    for (const gw of g.gateways) {
      if (!leads(g.name, gw.address, gw.interface)) continue;
      const spec = { ifname: gw.interface, address: gw.address, prefixLen: gw.prefixLen };
      addr.set(addressId(spec), spec);
    }
  }
  if (out.services.length > 0) {
    // A director must not tell clients to bypass it (ICMP redirects), whatever the mode.
    out.sysctls['net.ipv4.conf.all.send_redirects'] = '0';
  }
  if (nat4) {
    out.sysctls['net.ipv4.ip_forward'] = '1';
    // IPVS NAT keeps netfilter conntrack entries so replies are matched and un-NATed.
    out.sysctls['net.ipv4.vs.conntrack'] = '1';
  }
  if (nat6) out.sysctls['net.ipv6.conf.all.forwarding'] = '1';
  if (nft.length > 0) out.nft = nft;
  if (nft.some((r) => !isVipRule(r))) {
    // The rules match conntrack's original tuple, which IPVS keeps only with conntrack on (also for IPv6).
    out.sysctls['net.ipv4.vs.conntrack'] = '1';
  }
  out.addresses = [...addr.values()].sort((a, b) => addressId(a).localeCompare(addressId(b)));
  out.syncDaemons = desiredSyncDaemons(model, node, isMaster);
  if (bgp.length > 0) out.bgp = bgp.sort((a, b) => a.group.localeCompare(b.group));
  return out;
}

const announcesByBgp = (model: ClusterModel, group: string): boolean => model.groups.get(group)?.group?.spec.announce === 'BGP';

/**
 * A director of an active-active group: IPVS takes a packet of a flow it never saw the SYN of
 * (the routers moved the flow here), instead of the stack answering it with a reset; the VIPs on
 * lo are never answered for or used as ARP source on the LAN, where the real servers hold them too.
 */
const activeActiveSysctls: Record<string, string> = {
  'net.ipv4.vs.sloppy_tcp': '1',
  'net.ipv4.vs.sloppy_sctp': '1',
  'net.ipv4.conf.all.arp_ignore': '1',
  'net.ipv4.conf.all.arp_announce': '2',
};

function bgpGroupDesired(model: ClusterModel, group: string, services: readonly CompiledService[]): BgpGroupDesired {
  const vips = new Set<string>();
  const live = new Set<string>();
  for (const c of services) {
    if (c.group !== group) continue;
    const own = model.services.get(c.key)?.vips ?? [];
    for (const v of own) vips.add(v.vip);
    // Live as VRRP's health sees it (vrrp-health.ts): a real server in the table with weight > 0;
    // the sorry server alone does not count.
    if (c.backends.some((b) => (b.weight ?? 0) > 0)) for (const v of own) live.add(v.vip);
  }
  const sorted = [...vips].sort();
  return { group, vips: sorted, serving: sorted.filter((v) => live.has(v)) };
}

export function compile(
  model: ClusterModel,
  node: string,
  health: HealthLookup,
  leads: VipLeadership,
  isMaster: SyncMastership = neverMaster,
  quorumBefore: QuorumMemory = noQuorumMemory,
): NodeDesired {
  const services = [...model.services.values()].sort(byKey);
  return assemble(model, services, node, leads, isMaster, (s) => compilePiece(s, node, health, quorumBefore(s.key)));
}

/** The real-server side of DR and TUN for backends that name this node. */
function compileRealServerSide(s: ServiceModel, node: string, out: ServicePiece): void {
  if (!s.accepted) return;
  const addAddress = (spec: AddressSpec): void => { out.addresses.push({ spec, id: addressId(spec) }); };
  for (const b of s.backends) {
    if (b.nodeName !== node) continue;
    const method = b.forwarding.method;
    if (method === 'NAT') continue;
    for (const v of s.vips) {
      if (out.realServerSide.some((r) => r.vip === v.vip && r.method === method)) continue;
      out.realServerSide.push({ service: s.key, vip: v.vip, method });
      const v6 = v.vip.includes(':');
      if (method === 'DR') {
        addAddress({ ifname: 'lo', address: v.vip, prefixLen: hostPrefix(v.vip) });
      } else {
        const tun = v6 ? 'ip6tnl0' : 'tunl0';
        addAddress({ ifname: tun, address: v.vip, prefixLen: hostPrefix(v.vip) });
        if (!out.links.includes(tun)) out.links.push(tun);
        if (!v6) {
          out.sysctls['net.ipv4.conf.tunl0.rp_filter'] = '0';
          out.sysctls['net.ipv4.conf.all.rp_filter'] = '0';
        }
      }
      if (!v6) {
        // Answer ARP only for addresses on the asking interface, announce only the best local
        // source: the real server must never claim the VIP on the LAN (the director holds it).
        out.sysctls['net.ipv4.conf.all.arp_ignore'] = '1';
        out.sysctls['net.ipv4.conf.all.arp_announce'] = '2';
        out.sysctls['net.ipv4.conf.lo.arp_ignore'] = '1';
        out.sysctls['net.ipv4.conf.lo.arp_announce'] = '2';
      }
    }
  }
}
