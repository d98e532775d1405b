import type { Findings } from './finding.js';
import { type ConfNode, readKeepalivedConf } from './keepalived-reader.js';
import { readServerGroup, translateVirtualServer } from './keepalived-virtual-servers.js';
import { reportSyncGroup, translateGlobalDefs, translateVrrpInstance } from './keepalived-vrrp.js';
import type { Drafts } from './drafts.js';

const notApplicable: Record<string, string> = {
  vrrp_script: 'directors run no user scripts (track_script has nothing to run)',
  vrrp_track_process: 'process tracking is not in the API',
  vrrp_track_file: 'file tracking is not in the API',
  track_file: 'file tracking is not in the API',
  bfd_instance: 'lvs-operator runs no BFD sessions',
  static_ipaddress: 'static addresses belong to the node\'s network configuration',
  static_routes: 'static routes belong to the node\'s network configuration',
  static_rules: 'static rules belong to the node\'s network configuration',
  linkbeat_interfaces: 'not in the API',
  SSL: 'the SSL block (client certificates of SSL_GET) is not in the API yet (issue 13)',
};

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
      default: {
        const why = notApplicable[n.keyword];
        if (why) findings.warn(n, `${n.keyword} is not carried: ${why}`);
        else findings.error(n, `unknown keyword '${n.keyword}': keepalived logs it and ignores it; not carried`);
      }
    }
  }
  return drafts;
}
