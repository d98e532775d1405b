import type { Findings } from './finding.js';
import { type ConfNode, readKeepalivedConf } from './keepalived-reader.js';
import { readServerGroup, translateVirtualServer } from './keepalived-virtual-servers.js';
import { reportSyncGroup, translateGlobalDefs, translateVrrpInstance } from './keepalived-vrrp.js';
import type { Drafts } from './drafts.js';
import { reportNotCarried, reportUnknown, topLevel } from './not-carried.js';

/** keepalived.conf (and its includes) to drafts of our objects; findings for everything not carried. */
export function translateKeepalived(path: string, findings: Findings, io: { cwd?: string; stdin?: string }): Drafts {
  const nodes = readKeepalivedConf(path, { findings, ...io });
  const drafts: Drafts = { groups: [], services: [], realServers: [], syncGroups: [] };
  const defaults = new Map<string, ConfNode>();
  const vsGroups = new Map<string, ReturnType<typeof readServerGroup>>();
  // keepalived reads everything before acting, so a group may be defined after its use.
  for (const n of nodes) {
    if (n.keyword === 'global_defs') translateGlobalDefs(n, drafts, defaults, findings);
    if (n.keyword === 'virtual_server_group') vsGroups.set(n.args[0] ?? '', readServerGroup(n, findings));
  }
  for (const n of nodes) {
    switch (n.keyword) {
      case 'global_defs':
      case 'virtual_server_group':
        break;
      case 'vrrp_instance': {
        const g = translateVrrpInstance(n, defaults, findings);
        if (g) drafts.groups.push(g);
        break;
      }
      case 'vrrp_sync_group':
        reportSyncGroup(n, drafts, findings);
        break;
      case 'virtual_server':
        translateVirtualServer(n, { groups: vsGroups, findings, drafts });
        break;
      default:
        if (!reportNotCarried(topLevel, n, findings)) reportUnknown(n, undefined, findings);
    }
  }
  return drafts;
}
