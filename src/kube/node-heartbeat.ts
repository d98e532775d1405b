// Agent liveness the way kubelets report theirs (kube-node-lease): one Lease per agent,
// `lvs-agent-<node>`, renewed every `renewMs`. A director whose agent died cannot take its own
// entry out of VirtualService status; the controller uses these Leases to stop counting it.
import type { Logger } from 'pino';
import type { ResourceClient } from './client.js';
import { type Lease, microTime } from './types.js';

export const agentLeasePrefix = 'lvs-agent-';
export const agentLeaseName = (node: string): string => `${agentLeasePrefix}${node}`.slice(0, 253);

/**
 * Which agents are alive, timed by when this process saw each Lease's renewTime change (as the
 * node lifecycle controller times kubelet Leases), never by the time written in it: an agent's
 * clock stepped back does not make it dead, nor one stepped forward keep a dead agent alive.
 * A Lease seen for the first time counts as renewed then, so a restarted controller gives an
 * agent one lease duration before counting it dead.
 */
export class HeartbeatWatch {
  private readonly seen = new Map<string, { renew: string; at: number }>();

  /** Records the Leases as seen at `now`: the holders counted dead, and when the next live one expires. */
  observe(leases: readonly Lease[], now: number): { dead: Set<string>; nextExpiry: number | undefined } {
    const present = new Set<string>();
    const dead = new Set<string>();
    let next = Infinity;
    for (const lease of leases) {
      const name = lease.metadata.name ?? '';
      const renew = lease.spec?.renewTime ?? '';
      const before = this.seen.get(name);
      const at = before && before.renew === renew ? before.at : now;
      present.add(name);
      this.seen.set(name, { renew, at });
      const expiry = at + (lease.spec?.leaseDurationSeconds ?? 0) * 1000;
      if (!renew || expiry < now) dead.add(lease.spec?.holderIdentity ?? '');
      else next = Math.min(next, expiry);
    }
    for (const name of this.seen.keys()) if (!present.has(name)) this.seen.delete(name);
    return { dead, nextExpiry: Number.isFinite(next) ? next : undefined };
  }
}

export interface NodeHeartbeatOptions {
  leases: ResourceClient<Lease>;
  namespace: string;
  node: string;
  renewMs?: number;
  durationSeconds?: number;
  log: Logger;
}

export class NodeHeartbeat {
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly o: NodeHeartbeatOptions) {}

  start(): void {
    void this.beat();
    this.timer = setInterval(() => void this.beat(), this.o.renewMs ?? 10_000);
  }

  private async beat(): Promise<void> {
    const name = agentLeaseName(this.o.node);
    try {
      await this.o.leases.apply({
        metadata: { name, namespace: this.o.namespace },
        spec: { holderIdentity: this.o.node, leaseDurationSeconds: this.o.durationSeconds ?? 40, renewTime: microTime(new Date()) },
      }, { fieldManager: `lvs-agent/${this.o.node}`, force: true });
    } catch (err) {
      this.o.log.warn({ err, lease: `${this.o.namespace}/${name}` }, 'agent heartbeat failed; will retry');
    }
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
