// VRRP metrics on the agent's registry: state per instance, transitions, priority and adverts.
import type { Registry } from 'prom-client';
import { Counter, Gauge } from 'prom-client';
import type { VrrpState } from '../vrrp/instance.js';
import type { VrrpInstanceStatus, VrrpTransition } from '../vrrp/runtime/index.js';
import type { LeadershipInstance } from './vrrp-specs.js';

const stateName: Record<VrrpState, string> = { initialize: 'Init', backup: 'Backup', master: 'Master', fault: 'Fault' };
// keepalived's SNMP vrrpInstanceState numbers.
const stateValue: Record<VrrpState, number> = { initialize: 0, backup: 1, master: 2, fault: 3 };

export class VrrpMetrics {
  private readonly state: Gauge;
  private readonly transitions: Counter;

  /** `status`: the speaker's instances, read when scraped. */
  constructor(registry: Registry, status: () => VrrpInstanceStatus[]) {
    const reg = [registry];
    // vrrp_instance, not instance: Prometheus sets `instance` on every scraped series (the target).
    this.state = new Gauge({ name: 'lvs_agent_vrrp_state', help: 'VRRP state per instance: 0 init, 1 backup, 2 master, 3 fault', labelNames: ['vrrp_instance', 'group', 'vip'], registers: reg });
    this.transitions = new Counter({ name: 'lvs_agent_vrrp_transitions_total', help: 'VRRP state transitions per instance and new state', labelNames: ['vrrp_instance', 'state'], registers: reg });
    new Gauge({ name: 'lvs_agent_vrrp_priority', help: 'VRRP priority in effect per instance', labelNames: ['vrrp_instance'], registers: reg, collect() { this.reset(); for (const s of status()) this.set({ vrrp_instance: s.name }, s.priority); } });
    // Counted by each instance since it started: a counter reset when an instance restarts, which rate() handles.
    const perInstance = (name: string, help: string, pick: (s: VrrpInstanceStatus) => number): void => {
      new Counter({ name, help, labelNames: ['vrrp_instance'], registers: reg, collect() { this.reset(); for (const s of status()) this.inc({ vrrp_instance: s.name }, pick(s)); } });
    };
    perInstance('lvs_agent_vrrp_adverts_sent_total', 'VRRP adverts sent per instance since it started', (s) => s.counters.advertsSent);
    perInstance('lvs_agent_vrrp_adverts_received_total', 'VRRP adverts accepted per instance since it started', (s) => s.counters.advertsReceived);
    perInstance('lvs_agent_vrrp_action_errors_total', 'VRRP takeover actions that failed per instance since it started', (s) => s.actionErrors);
  }

  started(i: LeadershipInstance): void {
    this.state.set({ vrrp_instance: i.spec.name, group: i.group, vip: i.vip }, stateValue.initialize);
  }

  stopped(i: LeadershipInstance): void {
    this.state.remove({ vrrp_instance: i.spec.name, group: i.group, vip: i.vip });
  }

  /** `i`: the instance, unless it was removed meanwhile. */
  transitioned(t: VrrpTransition, i: LeadershipInstance | undefined): void {
    if (i) this.state.set({ vrrp_instance: t.instance, group: i.group, vip: i.vip }, stateValue[t.to]);
    this.transitions.inc({ vrrp_instance: t.instance, state: stateName[t.to] });
  }
}
