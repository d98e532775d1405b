// Gateway addresses of DirectorGroups (spec.gatewayAddresses): the extra addresses a group's
// master holds with its service VIPs, typically the real servers' default gateway in LVS-NAT.
// An address is carried by one group only and is never also a service VIP: a clash leaves the
// address out of the later group (or out of the group whose VIP it is) with a Conflict issue.
import type { DirectorGroup } from '../api/index.js';
import { ipFamily } from '../address/index.js';
import { canonical } from './canonical.js';
import type { GatewayModel, Issue } from './types.js';
import { compareText } from './vrid.js';

/** "10.0.1.1/24" -> canonical address and prefix (default: a host address). The schema checked the text. */
export function parseGateway(text: string): { address: string; prefixLen: number } {
  const [addr = '', len] = text.split('/');
  const address = canonical(addr);
  const max = ipFamily(address) === 'IPv6' ? 128 : 32;
  return { address, prefixLen: len === undefined ? max : Number(len) };
}

/** The text a VRRP instance and the kernel take: `address/prefix`. */
export const gatewayText = (g: GatewayModel): string => `${g.address}/${g.prefixLen}`;

const conflict = (message: string): Issue => ({ reason: 'Conflict', message, blocking: false });

/**
 * Gateway addresses of the groups, oldest group first (the order decides clashes): canonical,
 * one per address; an address another group already carries is left out with an issue.
 */
export function resolveGateways(groups: readonly DirectorGroup[]): Map<string, { gateways: GatewayModel[]; issues: Issue[] }> {
  const owner = new Map<string, string>();
  const out = new Map<string, { gateways: GatewayModel[]; issues: Issue[] }>();
  for (const g of groups) {
    const name = g.metadata.name ?? '';
    const gateways: GatewayModel[] = [];
    const issues: Issue[] = [];
    for (const spec of g.spec.gatewayAddresses ?? []) {
      const { address, prefixLen } = parseGateway(spec.address);
      const holder = owner.get(address);
      if (holder !== undefined) {
        issues.push(conflict(holder === name
          ? `gateway address ${address} is listed twice: only its first entry is used`
          : `gateway address ${address} is carried by DirectorGroup ${holder} already: left out`));
        continue;
      }
      owner.set(address, name);
      const peers = [...new Set((spec.unicastPeers ?? []).map(canonical))];
      gateways.push({ address, prefixLen, interface: spec.interface, unicastPeers: peers });
    }
    gateways.sort((a, b) => compareText(a.address, b.address));
    out.set(name, { gateways, issues });
  }
  return out;
}

/**
 * Leaves out of `gateways` the addresses that are service VIPs (`vipOwners`: VIP -> what claims
 * it): the VirtualService keeps its VIP, the group gets an issue.
 */
export function withoutServiceVips(gateways: readonly GatewayModel[], vipOwners: ReadonlyMap<string, string>): { gateways: GatewayModel[]; issues: Issue[] } {
  const kept: GatewayModel[] = [];
  const issues: Issue[] = [];
  for (const g of gateways) {
    const owner = vipOwners.get(g.address);
    if (owner === undefined) kept.push(g);
    else issues.push(conflict(`gateway address ${g.address} is the VIP of VirtualService ${owner}: left out`));
  }
  return { gateways: kept, issues };
}
