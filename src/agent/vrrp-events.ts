// A VRRP transition of this director as an Event on its DirectorGroup (VrrpMaster, VrrpBackup).
import { apiVersion } from '../api/index.js';
import type { EventRecorder } from '../kube/index.js';
import type { VrrpTransition } from '../vrrp/runtime/index.js';
import type { LeadershipInstance } from './vrrp-specs.js';

export function recordTransition(events: EventRecorder, node: string, i: LeadershipInstance, t: VrrpTransition): void {
  if (t.from === t.to || t.to === 'initialize') return;
  const master = t.to === 'master';
  void events.record(
    { apiVersion, kind: 'DirectorGroup', name: i.group },
    'Normal',
    master ? 'VrrpMaster' : 'VrrpBackup',
    `${node} is ${master ? 'MASTER' : 'BACKUP'} for ${i.vip} (VRID ${t.vrid} on ${t.interface}, ${t.reason}${!master && t.masterAddress ? `, master ${t.masterAddress}` : ''})`,
    'Vrrp',
  );
}

/** An instance not started because its advert source is not on its interface (vrrp-source.ts). */
export function recordRefusedSource(events: EventRecorder, node: string, i: LeadershipInstance, message: string): void {
  void events.record({ apiVersion, kind: 'DirectorGroup', name: i.group }, 'Warning', 'VrrpSourceNotOnInterface', `${node}: ${message}`, 'Vrrp');
}
