// Turns each agent pass into status writes and Events: the cluster sees what this node sees.
import pThrottle from 'p-throttle';
import type { Logger } from 'pino';
import { apiVersion } from '../api/index.js';
import { established } from '../bgp/index.js';
import type { HealthChange } from '../health/index.js';
import type { EventRecorder } from '../kube/index.js';
import type { BgpStatus } from './bgp-announcer.js';
import type { AgentPass } from './agent.js';
import { NodeViews, type FailureReasons, type StoredEntry } from './status-views.js';
import { StatusWriter, type StatusTarget } from './status-writer.js';
import type { VrrpStateLookup } from './vrrp-leadership.js';

export interface ReporterOptions {
  node: string;
  virtualServices: StatusTarget;
  /** DirectorGroups' /status, for this director's BGP sessions (status.bgp[]). */
  directorGroups?: StatusTarget;
  events?: EventRecorder;
  reasons?: FailureReasons;
  /** This node's VirtualService entries as the API server holds them (ApiSource.storedDirectorEntry). */
  stored?: StoredEntry;
  /** The real VRRP state per group (VrrpLeadership.stateOf). */
  vrrpState?: VrrpStateLookup;
  log: Logger;
  minIntervalMs?: number;
  /**
   * Status writes per second, all kinds together (default 50, like the kubelet's API QPS): the
   * first report of 1,000 services is a 20 s trickle, not a CPU-bound burst that would slow the
   * agent's kernel work and load the API server from every node at once.
   */
  writesPerSecond?: number;
}

export class StatusReporter {
  private readonly views: NodeViews;
  readonly vsWriter: StatusWriter;
  readonly dgWriter: StatusWriter | undefined;
  private lastPass: AgentPass | undefined;
  private bgpGroups = new Set<string>();

  constructor(private readonly o: ReporterOptions) {
    const throttle = pThrottle({ limit: o.writesPerSecond ?? 50, interval: 1000 });
    const common = { fieldManager: `lvs-agent/${o.node}`, log: o.log, throttle, ...(o.minIntervalMs !== undefined ? { minIntervalMs: o.minIntervalMs } : {}) };
    this.vsWriter = new StatusWriter(o.virtualServices, common);
    this.dgWriter = o.directorGroups ? new StatusWriter(o.directorGroups, common) : undefined;
    this.views = new NodeViews(o.node, o.reasons, o.vrrpState, o.stored);
  }

  /** Writes the entries that changed in this pass; `{}` releases the entry of an object no longer served. */
  report(pass: AgentPass): void {
    this.lastPass = pass;
    const changes = this.views.update(pass, new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'));
    for (const [key, view] of changes.services) {
      const stored = this.o.stored?.(key);
      this.vsWriter.set(key, view ? { directors: [view] } : {}, stored ? { directors: [stored] } : {});
    }
  }

  /**
   * This director's BGP speaker into each of its groups' status.bgp[]; a group no longer listed
   * (left, or no speaker any more) has this director's entry released.
   */
  reportBgp(groups: readonly BgpStatus[]): void {
    const w = this.dgWriter;
    if (!w) return;
    const now = new Set(groups.map((g) => g.group));
    for (const old of this.bgpGroups) if (!now.has(old)) w.set(old, {});
    this.bgpGroups = now;
    for (const bgp of groups) {
      w.set(bgp.group, {
        bgp: [{
          node: this.o.node,
          // Within the schema's bounds: one overlong BIRD error must not get the whole entry refused.
          sessions: bgp.sessions.map((x) => ({ peer: x.peer, state: x.state.slice(0, 32), info: x.info.slice(0, 256), established: established(x) })),
          announced: [...bgp.announced].sort(),
          ...(bgp.draining ? { draining: true } : {}),
        }],
      });
    }
  }

  /** An Event on the RealServer (or VirtualService for Service-backed servers) for each health transition. */
  healthEvent(change: HealthChange): void {
    const events = this.o.events;
    const [service = '', address, port, index = '0'] = change.key.split('|'); // see checkKey()
    const model = this.lastPass?.model.services.get(service);
    if (!events || !model) return;
    const backend = model.backends.find((b) => b.address === address && String(b.port) === port);
    const src = backend?.source;
    const regarding = src?.kind === 'RealServer'
      ? { apiVersion, kind: 'RealServer', namespace: src.namespace, name: src.name }
      : { apiVersion, kind: 'VirtualService', namespace: model.namespace, name: model.name };
    const where = `${change.target.address}:${change.target.port}`;
    // With several checks, say which one: the server is in only while all of them pass.
    const checks = backend?.healthChecks ?? [];
    const which = checks.length > 1 ? `${checks[Number(index)]?.type ?? ''} check (${Number(index) + 1} of ${checks.length})` : 'check';
    void events.record(regarding, change.healthy ? 'Normal' : 'Warning', change.healthy ? 'RealServerUp' : 'RealServerDown',
      change.healthy ? `${where} passes its ${which} on ${this.o.node}` : `${where} fails its ${which} on ${this.o.node}: ${change.reason}`, 'HealthCheck');
  }

  /** Status writes wanted and not yet done (rate limit, API server away). */
  pending(): number {
    return this.vsWriter.pending() + (this.dgWriter?.pending() ?? 0);
  }

  async flush(timeoutMs?: number): Promise<boolean> {
    return (await this.vsWriter.flush(timeoutMs)) && ((await this.dgWriter?.flush(timeoutMs)) ?? true);
  }

  close(): void {
    this.vsWriter.close();
    this.dgWriter?.close();
  }
}
