// keepalived's unicast_src_ip for Kubernetes: a director's advert source comes from its Node
// annotation (vrrp-specs.ts unicastSrcAnnotation). An instance takes the listed address of its
// family that is on its interface. One that has addresses of its family listed but none of them on
// its interface is not started: sending from another source would make peers that list this
// director in their unicast_peer drop every advert (keepalived does), and both would be master.
import { ipFamily } from '../address/index.js';
import type { LinkClient } from '../link/index.js';
import { parseVip } from '../vrrp/runtime/index.js';
import type { LeadershipInstance } from './vrrp-specs.js';

export interface RefusedSource {
  instance: LeadershipInstance;
  message: string;
}

/** `want` with each instance's primaryAddress from `sources`, and the instances that cannot have one. */
export async function withAdvertSources(
  want: readonly LeadershipInstance[],
  sources: readonly string[],
  link: Pick<LinkClient, 'listAddresses'>,
): Promise<{ ready: LeadershipInstance[]; refused: RefusedSource[] }> {
  if (sources.length === 0) return { ready: [...want], refused: [] };
  const onIface = new Map<string, Set<string>>();
  const addressesOf = async (iface: string): Promise<Set<string>> => {
    let have = onIface.get(iface);
    if (!have) {
      have = new Set((await link.listAddresses(iface).catch(() => [])).map((a) => a.address));
      onIface.set(iface, have);
    }
    return have;
  };
  const ready: LeadershipInstance[] = [];
  const refused: RefusedSource[] = [];
  for (const w of want) {
    const family = parseVip(w.spec.vips[0] ?? '').family;
    const mine = sources.filter((s) => ipFamily(s) === family);
    if (mine.length === 0) {
      ready.push(w);
      continue;
    }
    const have = await addressesOf(w.iface);
    const src = mine.find((s) => have.has(s));
    if (src === undefined) {
      refused.push({ instance: w, message: `none of the advert sources ${mine.join(', ')} (Node annotation lvs.dev/vrrp-unicast-src-ip) is an address on ${w.iface}: VRRP for ${w.vip} not started on this director` });
      continue;
    }
    ready.push({ ...w, spec: { ...w.spec, primaryAddress: src } });
  }
  return { ready, refused };
}
