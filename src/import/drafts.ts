import type { Place } from './finding.js';

// What the translators produce before names, groups and validation are settled (emit.ts).

export interface GroupDraft {
  at: Place;
  /** The vrrp_instance it comes from; undefined for a group made for a config without one. */
  instance?: string;
  interface: string;
  vrrp: Record<string, unknown>;
  sync?: Record<string, unknown>;
  password?: string;
  /** virtual_ipaddress entries: the address, as written (with its prefix), and its dev. */
  vips: { address: string; text: string; dev?: string | undefined; at: Place; excluded?: true }[];
  vrid?: number | undefined;
}

export interface SyncGroupDraft {
  at: Place;
  name: string;
  members: string[];
}

export interface ServiceDraft {
  at: Place;
  name: string;
  spec: Record<string, unknown>;
  /** Label value the service selects its RealServers by. */
  selector: string;
}

export interface RealServerDraft {
  at: Place;
  name: string;
  selector: string;
  spec: Record<string, unknown>;
}

export interface Drafts {
  groups: GroupDraft[];
  services: ServiceDraft[];
  realServers: RealServerDraft[];
  syncGroups: SyncGroupDraft[];
  routerId?: string;
  timeouts?: Record<string, number>;
  /** global_defs lvs_sync_daemon: interface, the instance it follows, its sync id. */
  syncDaemon?: { interface: string; instance?: string; syncId?: number; at: Place };
}

/** The label a VirtualService selects its imported RealServers by. */
export const selectorLabel = 'lvs.dev/imported-from';
