// The one nftables table the agent owns, as data: source NAT for NAT services, no-conntrack for VIPs
// of services whose real servers are nodes.
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
 * Packets to one VIP and port (0: every port) of a DR/TUN service whose real servers are nodes
 * (backends.service.target Nodes) go untracked: kube-proxy on the director would otherwise DNAT
 * them (or drop them, with externalTrafficPolicy Local) before IPVS sees them.
 */
export interface NotrackRule {
  notrack: true;
  family: 'ip' | 'ip6';
  protocol: Protocol;
  vip: string;
  port: number;
}

/** Every rule of our table. */
export type NftRule = SnatRule | NotrackRule;

export const isNotrack = (r: NftRule): r is NotrackRule => 'notrack' in r;

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
