// A VRRP transition of this director as an Event on its DirectorGroup (VrrpMaster, VrrpBackup, and
// VrrpFault, a Warning naming the interface that is down).
import { apiVersion } from '../api/index.js';
import type { EventRecorder } from '../kube/index.js';
import type { VrrpTransition } from '../vrrp/runtime/index.js';
import type { LeadershipInstance } from './vrrp-specs.js';

export function recordTransition(events: EventRecorder, node: string, i: LeadershipInstance, t: VrrpTransition): void {
  if (t.from === t.to || t.to === 'initialize') return;
  const ref = { apiVersion, kind: 'DirectorGroup', name: i.group };
  const where = `VRID ${t.vrid} on ${t.interface}`;
  if (t.to === 'fault') {
    const causes = t.faultCauses?.join(', ') ?? 'a tracked interface is down';
    void events.record(ref, 'Warning', 'VrrpFault', `${node} is FAULT for ${i.vip} (${where}: ${causes}); it sends no adverts and holds no VIP`, 'Vrrp');
    return;
  }
  const master = t.to === 'master';
  void events.record(
    ref,
    'Normal',
    master ? 'VrrpMaster' : 'VrrpBackup',
    `${node} is ${master ? 'MASTER' : 'BACKUP'} for ${i.vip} (${where}, ${t.reason}${!master && t.masterAddress ? `, master ${t.masterAddress}` : ''})`,
    'Vrrp',
  );
}

/** An instance not started because its advert source is not on its interface (vrrp-source.ts). */
export function recordRefusedSource(events: EventRecorder, node: string, i: LeadershipInstance, message: string): void {
  void events.record({ apiVersion, kind: 'DirectorGroup', name: i.group }, 'Warning', 'VrrpSourceNotOnInterface', `${node}: ${message}`, 'Vrrp');
}
