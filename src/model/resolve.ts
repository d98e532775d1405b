import { placeClaims, resolveGroups } from './groups.js';
import { invalidRealServerModel, type RealServerPart, realServerModel } from './real-servers.js';
import { baseServiceModel, claimOf, completeService, invalidServiceModel } from './service.js';
import { SourceIndex } from './source-index.js';
import type { ClusterModel, RealServerModel, ServiceModel, Snapshot } from './types.js';

/**
 * The cluster-wide picture: which VirtualServices are programmed where, with which real
 * servers and VRRP router ids, and what is wrong with the rest. Pure and deterministic:
 * it depends on the snapshot alone (no clock, no randomness, no iteration-order
 * accidents), because the controller and every agent run it on their own caches and must
 * agree on the answer. The reference for IncrementalResolver, which runs the same steps.
 */
export function resolve(s: Snapshot): ClusterModel {
  const groups = resolveGroups(s);

  // 1. What each VirtualService is, before it competes with the others.
  const bases = s.virtualServices.map((vs) => {
    const base = baseServiceModel(vs, groups);
    return { vs, base, claim: claimOf(vs, base) };
  });

  // 2. Who owns each IPVS service and VIP, and the winners' router ids.
  const placement = placeClaims(
    groups,
    bases.flatMap((b) => (b.claim ? [b.claim] : [])),
  );

  // 3. Per service: router ids, scheduler support, directors, backends.
  const ctx = { groups, unsupported: new Set(s.unsupportedSchedulers ?? []), sources: SourceIndex.of(s) };
  const services = new Map<string, ServiceModel>();
  const parts = new Map<string, [string, RealServerPart][]>();
  for (const { vs, base, claim } of bases) {
    const r = completeService(vs, base, placement.outcomes.get(base.key), claim && placement.ids.get(claim.group), ctx);
    services.set(base.key, r.model);
    for (const [name, part] of r.parts) {
      const key = `${base.namespace}/${name}`;
      const list = parts.get(key);
      if (list) list.push([base.key, part]);
      else parts.set(key, [[base.key, part]]);
    }
  }
  for (const inv of s.invalid ?? []) if (inv.kind === 'VirtualService') services.set(`${inv.namespace ?? ''}/${inv.name}`, invalidServiceModel(inv));

  // 4. Each RealServer from what the services that select it say.
  const realServers = new Map<string, RealServerModel>();
  for (const rs of s.realServers) {
    const key = `${rs.metadata.namespace ?? ''}/${rs.metadata.name ?? ''}`;
    realServers.set(key, realServerModel(rs, parts.get(key) ?? []));
  }
  for (const inv of s.invalid ?? []) if (inv.kind === 'RealServer') realServers.set(`${inv.namespace ?? ''}/${inv.name}`, invalidRealServerModel(inv));

  return { groups: placement.groups, services, realServers };
}
