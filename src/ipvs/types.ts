// The IPVS model: what a virtual service, a destination, a sync daemon and the kernel timeouts are,
// with string IP addresses (IPv6 in canonical RFC 5952 form) and names instead of kernel numbers.

import type { IpFamily } from '../address/index.js';

export type Protocol = 'tcp' | 'udp' | 'sctp';

/** A service is identified by family + protocol + VIP + port, or by family + firewall mark. */
export interface ServiceAddressKey {
  af: IpFamily;
  protocol: Protocol;
  addr: string;
  port: number;
}
export interface ServiceFwmarkKey {
  af: IpFamily;
  fwmark: number;
}
export type VirtualServiceKey = ServiceAddressKey | ServiceFwmarkKey;

/**
 * Virtual service flags, in canonical order. `hashed` is state the kernel reports for every service
 * in its table; it is never sent. For `sh` and `mh`: sched1 = fallback, sched2 = port
 * (ipvsadm `-b sh-fallback,sh-port`, `mh-fallback,mh-port`); sched3 is the generic flag-3.
 */
export type ServiceFlag = 'persistent' | 'hashed' | 'one-packet' | 'sched1' | 'sched2' | 'sched3';
export const SERVICE_FLAGS: readonly ServiceFlag[] = ['persistent', 'hashed', 'one-packet', 'sched1', 'sched2', 'sched3'];

/** Counters and rates, as the kernel's 64-bit stats (rates per second). */
export interface IpvsStats {
  conns: number;
  inPkts: number;
  outPkts: number;
  inBytes: number;
  outBytes: number;
  cps: number;
  inPps: number;
  outPps: number;
  inBps: number;
  outBps: number;
}

export interface IpvsService {
  key: VirtualServiceKey;
  /** Scheduler name: rr wrr lc wlc lblc lblcr dh sh sed nq fo ovf mh twos ..., or "none". */
  scheduler: string;
  flags: ServiceFlag[];
  /** Persistence timeout in seconds (meaningful with the `persistent` flag). */
  timeout: number;
  /** Persistence granularity as a prefix length: 0-32 for IPv4 (sent as a mask), 1-128 for IPv6. */
  netmask: number;
  /** Persistence engine, e.g. "sip". */
  peName?: string;
  /** Read back only. */
  stats?: IpvsStats;
}

/** ipvsadm: masq = -m (NAT), route = -g (direct routing), tunnel = -i (ipip/gue/gre), local = local node. */
export type ForwardMethod = 'masq' | 'local' | 'tunnel' | 'route';
export type TunnelType = 'ipip' | 'gue' | 'gre';
export type TunnelFlag = 'csum' | 'remcsum';
export const TUNNEL_FLAGS: readonly TunnelFlag[] = ['csum', 'remcsum'];

export interface IpvsTunnel {
  type: TunnelType;
  /** UDP port for GUE (required there), 0 otherwise. */
  port: number;
  /** Encapsulation checksum flags (GUE/GRE); empty = nocsum. */
  flags: TunnelFlag[];
}

/** A destination within its service. Its address family follows from `addr`. */
export interface DestKey {
  addr: string;
  port: number;
}

export interface IpvsDest extends DestKey {
  fwd: ForwardMethod;
  weight: number;
  /** Upper connection threshold, 0 = none. */
  upperThreshold: number;
  /** Lower connection threshold, 0 = none. */
  lowerThreshold: number;
  /**
   * Tunnel encapsulation. Read back for every tunnel destination (the kernel defaults to ipip,
   * port 0, no flags), and for others only when the kernel holds non-default tunnel values.
   */
  tunnel?: IpvsTunnel;
  /** Read back only. */
  activeConns?: number;
  inactConns?: number;
  persistConns?: number;
  stats?: IpvsStats;
}

export type SyncState = 'master' | 'backup';

export interface SyncDaemon {
  state: SyncState;
  /** Interface the sync messages go out (master) or come in (backup). */
  mcastIfn: string;
  syncId: number;
  /** Max UDP payload of sync messages; 0 = kernel default (derived from the MTU). */
  syncMaxLen?: number;
  /** Multicast group (IPv4 or IPv6); default 224.0.0.81. */
  mcastGroup?: string;
  /** UDP port; default 8848. */
  mcastPort?: number;
  /** Multicast TTL; default 1. */
  mcastTtl?: number;
}

/** Connection timeouts in seconds. Sending 0 (or leaving one out) keeps the kernel's current value. */
export interface Timeouts {
  tcp: number;
  tcpFin: number;
  udp: number;
}

export interface IpvsInfo {
  /** e.g. "1.2.1" */
  version: string;
  versionCode: number;
  /** Size of the connection hash table. */
  connTabSize: number;
}

/** A service with its destinations, as listed. */
export interface IpvsServiceWithDests extends IpvsService {
  dests: IpvsDest[];
}

/** One kernel change; `apply` sends many of them batched. */
export type IpvsOp =
  | { op: 'add-service'; service: IpvsService }
  | { op: 'edit-service'; service: IpvsService }
  | { op: 'del-service'; key: VirtualServiceKey }
  | { op: 'add-dest'; key: VirtualServiceKey; dest: IpvsDest }
  | { op: 'edit-dest'; key: VirtualServiceKey; dest: IpvsDest }
  | { op: 'del-dest'; key: VirtualServiceKey; dest: DestKey }
  | { op: 'zero'; key?: VirtualServiceKey }
  | { op: 'flush' }
  | { op: 'set-timeouts'; timeouts: Partial<Timeouts> }
  | { op: 'start-daemon'; daemon: SyncDaemon }
  | { op: 'stop-daemon'; state: SyncState };

export type IpvsOpName = IpvsOp['op'];
