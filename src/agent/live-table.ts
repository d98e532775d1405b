// What `ipvsadm -Ln --stats --rate` shows on a director, as JSON: the agent serves it at /ipvs
// (and `kubectl lvs status` reads it through the API server's pod proxy, so nobody needs to exec
// into a privileged pod to see the live table). Pure: the caller reads the kernel.
import { formatHostPort } from '../address/index.js';
import { serviceKeyLabel, serviceKeyString } from '../ipvs/keys.js';
import type { ForwardMethod, IpvsServiceWithDests, IpvsStats } from '../ipvs/types.js';
import type { VrrpInstanceStatus } from '../vrrp/runtime/index.js';
import type { NodeDesired } from './compile.js';

const forwardName: Record<ForwardMethod, LiveDestination['forward']> = { masq: 'Masq', route: 'Route', tunnel: 'Tunnel', local: 'Local' };

const zero: IpvsStats = { conns: 0, inPkts: 0, outPkts: 0, inBytes: 0, outBytes: 0, cps: 0, inPps: 0, outPps: 0, inBps: 0, outBps: 0 };

export interface LiveDestination {
  /** `10.0.0.1:80`, `[2001:db8::1]:80`. */
  address: string;
  forward: 'Masq' | 'Route' | 'Tunnel' | 'Local';
  weight: number;
  activeConns: number;
  inactiveConns: number;
  stats: IpvsStats;
}

export interface LiveService {
  /** As ipvsadm names it: `TCP 192.0.2.10:80`, `FWM 7 IPv4`. */
  service: string;
  /** `namespace/name` of the VirtualService this agent programs it for; absent for foreign services. */
  virtualService?: string;
  scheduler: string;
  flags: string[];
  persistenceSeconds?: number;
  stats: IpvsStats;
  destinations: LiveDestination[];
}

export interface LiveVrrp {
  vip: string;
  interface: string;
  vrid: number;
  state: string;
  priority: number;
  master?: string;
}

export interface LiveTable {
  node: string;
  /** When the kernel was read (ISO 8601). */
  at: string;
  services: LiveService[];
  vrrp: LiveVrrp[];
}

/** The kernel's table with each service named by the VirtualService it belongs to (foreign ones unnamed). */
export function liveTable(node: string, at: Date, kernel: readonly IpvsServiceWithDests[], desired: NodeDesired | undefined, vrrp: readonly VrrpInstanceStatus[] = []): LiveTable {
  const owners = new Map((desired?.services ?? []).map((s) => [serviceKeyString(s.ipvs.key), s.key]));
  const services = kernel.map((s): LiveService => {
    const owner = owners.get(serviceKeyString(s.key));
    return {
      service: serviceKeyLabel(s.key),
      ...(owner ? { virtualService: owner } : {}),
      scheduler: s.scheduler,
      flags: s.flags.filter((f) => f !== 'hashed'),
      ...(s.flags.includes('persistent') ? { persistenceSeconds: s.timeout } : {}),
      stats: s.stats ?? zero,
      destinations: s.dests
        .map((d) => ({
          address: formatHostPort(d.addr, d.port),
          forward: forwardName[d.fwd],
          weight: d.weight,
          activeConns: d.activeConns ?? 0,
          inactiveConns: d.inactConns ?? 0,
          stats: d.stats ?? zero,
        }))
        .sort((a, b) => a.address.localeCompare(b.address)),
    };
  }).sort((a, b) => a.service.localeCompare(b.service));
  // The speaker names its addresses with their prefix (`192.0.2.10/32`, a gateway's `/24`).
  const instances = vrrp.flatMap((i) => i.vips.map((v): LiveVrrp => ({
    vip: v.split('/')[0]!, interface: i.interface, vrid: i.vrid, state: i.state, priority: i.priority, ...(i.master ? { master: i.master.address } : {}),
  })));
  return { node, at: at.toISOString(), services, vrrp: instances.sort((a, b) => a.vip.localeCompare(b.vip)) };
}
