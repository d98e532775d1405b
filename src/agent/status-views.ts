// What one agent reports about its own node, computed purely from its last pass: one
// `VirtualService.status.directors[]` entry per service it directs and one
// `RealServer.status.directors[]` entry per real server it checks.
import type { DirectorView } from '../api/index.js';
import type { AgentPass } from './agent.js';
import type { VrrpStateLookup } from './vrrp-leadership.js';

export interface RealServerView {
  node: string;
  healthy: boolean;
  message?: string;
  lastTransitionTime?: string;
}

export interface NodeViews {
  /** Keyed by VirtualService `namespace/name`. */
  services: Map<string, DirectorView>;
  /** Keyed by RealServer `namespace/name`. */
  realServers: Map<string, RealServerView>;
}

/** Health failure reasons by `service|address|port` check key, for messages. */
export type FailureReasons = (service: string, address: string, port: number) => string | undefined;

/** `vrrp`: the real VRRP state where the group runs VRRP here; otherwise inferred from the VIPs held. */
export function nodeViews(pass: AgentPass, node: string, now: string, previous: NodeViews | undefined, reasons: FailureReasons = () => undefined, vrrp?: VrrpStateLookup): NodeViews {
  const services = new Map<string, DirectorView>();
  const realServers = new Map<string, RealServerView>();
  const held = new Set(pass.desired.addresses.map((a) => a.address));
  for (const c of pass.desired.services) {
    const model = pass.model.services.get(c.key);
    const errors = pass.result.errors.filter((e) => e.services.includes(c.key)).map((e) => `${e.what}: ${e.message}`);
    const vips = model?.vips ?? [];
    const vrrpState = vrrp?.(c.group, vips.map((v) => v.vip)) ?? (vips.length > 0 && vips.every((v) => held.has(v.vip)) ? 'Master' : 'Backup');
    const view: DirectorView = {
      node,
      ...(errors.length === 0 && c.generation !== undefined ? { programmedGeneration: c.generation } : {}),
      vrrpState,
      healthy: c.healthy,
      total: c.backends.length,
      backends: c.backends.map((b) => ({ address: b.address, port: b.port, healthy: b.healthy, weight: b.weight ?? 0 })),
      message: errors.join('; ').slice(0, 4096),
    };
    const prev = previous?.services.get(c.key);
    const changed = !prev || prev.vrrpState !== view.vrrpState || prev.healthy !== view.healthy;
    view.lastTransitionTime = changed ? now : (prev.lastTransitionTime ?? now);
    services.set(c.key, view);

    for (const [i, b] of (model?.backends ?? []).entries()) {
      if (b.source.kind !== 'RealServer') continue;
      const key = `${b.source.namespace}/${b.source.name}`;
      const healthy = c.backends[i]?.healthy ?? false;
      const before = realServers.get(key);
      if (before && !before.healthy) continue; // one failing service check marks the real server failing
      const reason = healthy ? undefined : reasons(c.key, b.address, b.port);
      const prevRs = previous?.realServers.get(key);
      realServers.set(key, {
        node, healthy,
        ...(reason ? { message: reason.slice(0, 4096) } : {}),
        lastTransitionTime: !prevRs || prevRs.healthy !== healthy ? now : (prevRs.lastTransitionTime ?? now),
      });
    }
  }
  return { services, realServers };
}
