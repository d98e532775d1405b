// Priority that follows health (pure): a director on which no VirtualService of a VIP has a live
// real server cannot serve that VIP, so it lowers the priority of its group's sync group by
// `unhealthyPriorityDrop` per such VIP and a director that can serve takes the VIPs over
// (keepalived users write this as a track_script with a negative weight on the sync group).
// "Live" means in this director's kernel table with a weight above 0: a real server whose checks
// failed is out (or at weight 0 with inhibitOnFailure), and while quorum is lost the sorry server
// serves alone, which counts as not serving: a director with live real servers serves better.
// A VIP with no real server configured at all is never counted: no director could do better.
// Directors equally unhealthy have equal priorities, so nothing moves between them.
import type { ClusterModel } from '../model/types.js';
import type { CompiledService } from './compile.js';

/** Group -> its VIPs this director cannot serve, for the groups given. */
export function unservedVips(model: ClusterModel, services: readonly CompiledService[], groups: Iterable<string>): Map<string, string[]> {
  const compiled = new Map(services.map((c) => [c.key, c]));
  const out = new Map<string, string[]>();
  for (const name of groups) {
    const g = model.groups.get(name);
    if (!g) continue;
    const configured = new Set<string>();
    const live = new Set<string>();
    for (const key of g.services) {
      const c = compiled.get(key);
      const s = model.services.get(key);
      if (!c || !s) continue;
      for (const v of s.vips) {
        if (c.backends.length > 0) configured.add(v.vip);
        if (c.backends.some((b) => (b.weight ?? 0) > 0)) live.add(v.vip);
      }
    }
    out.set(name, [...configured].filter((v) => !live.has(v)).sort());
  }
  return out;
}

/** The priority change of a group: `drop` per VIP it cannot serve. */
export function healthOffset(unserved: readonly string[], drop: number): number {
  return -drop * unserved.length;
}
