// Which BGP settings apply to one director (pure): the group's, with the first matching entry of
// spec.bgp.nodes laid over them (a rack or site with its own router id, ASN or routers).
import type { Bgp, BgpPeer, DirectorGroupSpec } from '../api/index.js';
import { matchesSelector } from '../model/selector.js';

export interface NodeBgpSettings {
  group: string;
  /** Undefined: BIRD chooses one from the node's IPv4 addresses. */
  routerId: string | undefined;
  localASN: number;
  peers: BgpPeer[];
  holdTimeSeconds: number;
  keepaliveSeconds: number;
  bfd: Bgp['bfd'];
  communities: string[];
  drainSeconds: number;
}

export function nodeBgpSettings(group: string, spec: DirectorGroupSpec, node: string, labels: Readonly<Record<string, string>> | undefined): NodeBgpSettings | undefined {
  const bgp = spec.announce === 'BGP' ? spec.bgp : undefined;
  if (!bgp) return undefined;
  const override = (bgp.nodes ?? []).find((o) => (o.nodeName !== undefined ? o.nodeName === node : o.nodeSelector !== undefined && matchesSelector(o.nodeSelector, labels)));
  return {
    group,
    routerId: override?.routerId,
    localASN: override?.localASN ?? bgp.localASN,
    peers: override?.peers ?? bgp.peers,
    holdTimeSeconds: bgp.holdTimeSeconds,
    keepaliveSeconds: bgp.keepaliveSeconds,
    bfd: bgp.bfd,
    communities: bgp.communities ?? [],
    drainSeconds: bgp.drainSeconds,
  };
}
