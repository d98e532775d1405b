// The one nftables table the agent owns, as data: source NAT for NAT services; untracked or claimed
// VIPs, which keep kube-proxy on a director from taking LoadBalancer traffic before IPVS.
import type { Protocol } from '../ipvs/types.js';

/** The agent's own table: one `inet` table holds both families; nothing outside it is touched. */
export const snatTable = { family: 'inet', name: 'lvs-operator' } as const;
/** The source-NAT chain, a hook after routing (what IPVS sends out passes there). */
export const snatChain = { name: 'postrouting', type: 'nat', hook: 'postrouting', prio: 100, policy: 'accept' } as const;
/**
 * The no-conntrack chain, at the raw priority before any NAT: packets to a VIP it names are not
 * tracked, so no NAT chain (kube-proxy's among them) can take them before IPVS does.
 */
export const notrackChain = { name: 'prerouting', type: 'filter', hook: 'prerouting', prio: -300, policy: 'accept' } as const;
/**
 * The claim chain, a NAT chain one step before dstnat (-100): an identity DNAT there binds a new
 * connection's destination as it is (what the kernel's null binding would do), and the kernel
 * runs no later NAT chain of the hook for a connection already bound: kube-proxy's DNAT of a
 * LoadBalancer address (iptables or nftables mode) never sees it, IPVS does.
 */
export const claimChain = { name: 'dstnat', type: 'nat', hook: 'prerouting', prio: -101, policy: 'accept' } as const;

/** What one service sends to its NAT real servers, and the source it is given. */
export interface SnatRule {
  family: 'ip' | 'ip6';
  /**
   * The service's connections: conntrack's original destination (the VIP, the port unless 0)
   * and protocol, which IPVS with net.ipv4.vs.conntrack=1 leaves in place while it rewrites the
   * packet; or the firewall mark of a fwmark service, which the packet keeps.
   */
  match: { protocol: Protocol; vip: string; port: number } | { fwmark: number };
  /** Canonical addresses of the NAT real servers, sorted: only what goes to them is rewritten. */
  dests: string[];
  /** The source address (an address that moves with VRRP); absent: masquerade (the outgoing interface's). */
  to?: string;
}

/**
 * Packets to one VIP and port (0: every port) of a service: `notrack` (a DR/TUN service whose real
 * servers are nodes, backends.service.target Nodes: kube-proxy on the director would otherwise
 * DNAT or drop them) or `claim` (a NAT service with snat, which needs conntrack: its connections'
 * destination is bound as it is before kube-proxy's DNAT could run).
 */
export interface VipRule {
  verdict: 'notrack' | 'claim';
  family: 'ip' | 'ip6';
  protocol: Protocol;
  vip: string;
  port: number;
}

/** Every rule of our table. */
export type NftRule = SnatRule | VipRule;

export const isVipRule = (r: NftRule): r is VipRule => 'verdict' in r;

/** One `nft -j` object (a command of a batch, or an object of a listing). */
export type NftObject = Record<string, unknown>;

/** The kernel's nftables, narrowed to what the agent does there. */
export interface NftClient {
  /** The objects of our table as `nft -j list table` gives them (table, chains, rules); undefined when absent. */
  readTable(): Promise<NftObject[] | undefined>;
  /** Runs the commands as one transaction: all of them or none. */
  run(batch: NftObject[]): Promise<void>;
  /** Every table in the kernel as `family/name` (to show foreign tables are left alone). */
  listTables(): Promise<string[]>;
}

export class NftError extends Error {
  constructor(message: string, readonly code?: string) {
    super(message);
    this.name = 'NftError';
  }
}
