// Agent liveness the way kubelets report theirs (kube-node-lease): one Lease per agent,
// `lvs-agent-<node>`, renewed every `renewMs`. A director whose agent died cannot take its own
// entry out of VirtualService status; the controller uses these Leases to stop counting it.
import type { Logger } from 'pino';
import type { ResourceClient } from './client.js';
import { type Lease, microTime } from './types.js';

export const agentLeasePrefix = 'lvs-agent-';
export const agentLeaseName = (node: string): string => `${agentLeasePrefix}${node}`.slice(0, 253);

/** Whether the Lease says its holder was alive at `now`. */
export function leaseAlive(lease: Lease, now: number): boolean {
  const renew = lease.spec?.renewTime ? Date.parse(lease.spec.renewTime) : NaN;
  const duration = lease.spec?.leaseDurationSeconds ?? 0;
  return Number.isFinite(renew) && renew + duration * 1000 >= now;
}

/** When the Lease expires (ms since epoch), or undefined when it has no renew time. */
export function leaseExpiry(lease: Lease): number | undefined {
  const renew = lease.spec?.renewTime ? Date.parse(lease.spec.renewTime) : NaN;
  return Number.isFinite(renew) ? renew + (lease.spec?.leaseDurationSeconds ?? 0) * 1000 : undefined;
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
