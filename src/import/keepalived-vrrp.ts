import type { Findings } from './finding.js';
import type { ConfNode } from './keepalived-reader.js';
import type { Drafts, GroupDraft } from './drafts.js';
import { addressOf, isAddress, readSeconds, readUnsigned } from './values.js';
import { globalDefs, reportNotCarried, reportUnknown, syncGroup, vrrpInstance } from './not-carried.js';

const scriptKeywords = /^notify(_master|_backup|_fault|_stop|_deleted|_master_rx_lower_pri)?$/;

/** global_defs: what carries over (router_id, vrrp_version, lvs_sync_daemon, lvs_timeouts); the rest is reported. */
export function translateGlobalDefs(block: ConfNode, drafts: Drafts, defaults: Map<string, ConfNode>, findings: Findings): void {
  for (const n of block.children ?? []) {
    switch (n.keyword) {
      case 'router_id':
        drafts.routerId = n.args[0];
        findings.info(n, `router_id ${n.args[0] ?? ''} names the DirectorGroup unless --group is given`);
        break;
      case 'vrrp_version':
      case 'vrrp_garp_master_repeat':
      case 'vrrp_garp_interval':
      case 'vrrp_garp_master_delay':
      case 'vrrp_garp_master_refresh':
      case 'vrrp_garp_master_refresh_repeat':
        // An instance default: read as the instance's own keyword, before the instance's.
        defaults.set(n.keyword.replace(/^vrrp_/, ''), { ...n, keyword: n.keyword.replace(/^vrrp_/, '') });
        break;
      case 'lvs_sync_daemon': {
        const [iface, instance, ...rest] = n.args;
        if (iface === undefined) {
          findings.error(n, 'lvs_sync_daemon without an interface: ignored (keepalived ignores it too)');
          break;
        }
        const idAt = rest.indexOf('id');
        const syncId = idAt >= 0 ? readUnsigned(rest[idAt + 1], 0, 255) : undefined;
        drafts.syncDaemon = { interface: iface, at: n, ...(instance !== undefined ? { instance } : {}), ...(syncId !== undefined ? { syncId } : {}) };
        const extra = rest.filter((_, i) => i !== idAt && i !== idAt + 1);
        if (extra.length > 0) findings.warn(n, `lvs_sync_daemon options ${extra.join(' ')} are not carried: the sync daemon runs with the kernel defaults`);
        break;
      }
      case 'lvs_timeouts': {
        const t: Record<string, number> = {};
        for (let i = 0; i + 1 < n.args.length; i += 2) {
          const key = { tcp: 'tcpSeconds', tcpfin: 'tcpFinSeconds', udp: 'udpSeconds' }[n.args[i] as string];
          const v = readUnsigned(n.args[i + 1], 1, 31536000);
          if (key && v !== undefined) t[key] = v;
          else findings.error(n, `lvs_timeouts ${n.args[i] ?? ''} ${n.args[i + 1] ?? ''} is not carried`);
        }
        drafts.timeouts = t;
        break;
      }
      case 'lvs_flush':
        findings.info(n, 'lvs_flush is not carried: the agent never flushes; it removes only what it created');
        break;
      default:
        if (!reportNotCarried(globalDefs, n, findings)) reportUnknown(n, 'global_defs', findings);
    }
  }
}

function seconds(n: ConfNode, findings: Findings): number | undefined {
  const v = readSeconds(n.args[0]);
  if (v === undefined) findings.error(n, `${n.keyword} '${n.args[0] ?? ''}' is invalid: ignored (keepalived ignores it too)`);
  return v;
}

/** One vrrp_instance to a DirectorGroup draft (the group is named later). */
export function translateVrrpInstance(block: ConfNode, defaults: Map<string, ConfNode>, findings: Findings): GroupDraft | undefined {
  const kids = block.children ?? [];
  let iface: string | undefined;
  let version = 2; // keepalived's default; ours is 3, so it is written out.
  let versionNode: ConfNode | undefined = defaults.get('version');
  let advertSeconds = 1;
  let priority = 100;
  let preempt = true;
  let preemptDelay: ConfNode | undefined;
  let garpRepeat = 5;
  let garpInterval = 0;
  const garp: Record<string, number> = {};
  const tracked: { name: string; weight: number }[] = [];
  let auth: { type?: string; pass?: string; at: ConfNode } | undefined;
  let vrid: number | undefined;
  const vips: GroupDraft['vips'] = [];
  const peers: string[] = [];
  let syncInterface: string | undefined;
  const inherited = ['garp_master_repeat', 'garp_interval', 'garp_master_delay', 'garp_master_refresh', 'garp_master_refresh_repeat'];
  const globalDefaults = inherited.map((k) => defaults.get(k)).filter((d) => d !== undefined);
  for (const n of [...globalDefaults, ...kids]) {
    switch (n.keyword) {
      case 'interface':
        iface = n.args[0];
        break;
      case 'state':
        findings.info(n, `state ${n.args[0] ?? ''} is not carried: the election decides, as it does for keepalived after start (higher priority wins, equal priorities elect the higher address)`);
        break;
      case 'virtual_router_id':
        vrid = readUnsigned(n.args[0], 1, 255);
        if (vrid === undefined) findings.error(n, `virtual_router_id '${n.args[0] ?? ''}' must be 1..255`);
        break;
      case 'priority': {
        const p = readUnsigned(n.args[0], 1, 255);
        if (p === undefined) findings.error(n, `priority '${n.args[0] ?? ''}' must be 1..255: 100 is used`);
        else {
          priority = Math.min(p, 254);
          if (p === 255) findings.warn(n, 'priority 255 (address owner) is 254 here: the API has no address owner');
          findings.info(n, `priority ${priority} is this director's; the group's spec.vrrp.priority is every director's base: give another director its own with the Node annotation lvs.dev/vrrp-priority`);
        }
        break;
      }
      case 'advert_int': {
        const v = seconds(n, findings);
        if (v !== undefined) advertSeconds = v;
        break;
      }
      case 'version':
        versionNode = n;
        break;
      case 'nopreempt':
        preempt = false;
        break;
      case 'preempt':
        preempt = true;
        break;
      case 'preempt_delay':
        preemptDelay = n;
        break;
      case 'authentication':
        auth = { at: n };
        for (const a of n.children ?? []) {
          if (a.keyword === 'auth_type') auth.type = a.args[0];
          else if (a.keyword === 'auth_pass') auth.pass = a.args[0];
          else reportUnknown(a, 'authentication', findings);
        }
        break;
      case 'virtual_ipaddress':
      case 'virtual_ipaddress_excluded':
        for (const v of n.children ?? []) {
          const address = addressOf(v.keyword);
          if (!isAddress(address)) {
            findings.error(v, `'${v.keyword}' is not an address: not carried`);
            continue;
          }
          // keepalived ignores a virtual_ipaddress of another family than the instance's first.
          const firstVip = n.keyword === 'virtual_ipaddress' ? vips.find((x) => !x.excluded) : undefined;
          if (firstVip && firstVip.address.includes(':') !== address.includes(':')) {
            findings.warn(v, `${address} is ignored by keepalived (address family must match VRRP instance: its first address ${firstVip.address} is ${firstVip.address.includes(':') ? 'IPv6' : 'IPv4'}); not carried as an address of ${block.args[0] ?? 'the instance'}`);
            continue;
          }
          const dev = v.args.indexOf('dev');
          vips.push({ address, text: v.keyword, dev: dev >= 0 ? v.args[dev + 1] : undefined, at: v, ...(n.keyword === 'virtual_ipaddress_excluded' ? { excluded: true } : {}) });
          const rest = v.args.filter((_, i) => i !== dev && i !== dev + 1);
          if (rest.length > 0) findings.warn(v, `${rest.join(' ')} is not carried: the API has no such address option`);
        }
        if (n.keyword === 'virtual_ipaddress_excluded')
          findings.warn(n, 'virtual_ipaddress_excluded addresses are carried like virtual_ipaddress: the API has no addresses left out of adverts');
        break;
      case 'unicast_peer':
        for (const p of n.children ?? []) {
          if (isAddress(p.keyword)) peers.push(p.keyword);
          else findings.error(p, `unicast_peer '${p.keyword}' is not an address: not carried`);
          if (p.args.length > 0) findings.warn(p, `${p.args.join(' ')} is not carried: the API has no per-peer TTL limits`);
        }
        break;
      case 'garp_master_repeat': {
        const v = readUnsigned(n.args[0], 1, 100);
        if (v === undefined) findings.error(n, `garp_master_repeat '${n.args[0] ?? ''}' must be 1..100 here: 5 is used`);
        else garpRepeat = v;
        break;
      }
      case 'garp_interval': {
        const v = seconds(n, findings);
        if (v !== undefined) garpInterval = Math.min(Math.round(v * 1000), 10000);
        break;
      }
      case 'lvs_sync_daemon_interface':
        syncInterface = n.args[0];
        findings.info(n, 'lvs_sync_daemon_interface (deprecated: keepalived 2 reads global_defs lvs_sync_daemon) turns on spec.sync, the sync id being the router id as keepalived does');
        break;
      case 'garp_master_delay':
      case 'garp_master_refresh':
      case 'garp_master_refresh_repeat': {
        const field = { garp_master_delay: 'garpMasterDelaySeconds', garp_master_refresh: 'garpMasterRefreshSeconds', garp_master_refresh_repeat: 'garpMasterRefreshRepeat' }[n.keyword] as string;
        const max = n.keyword === 'garp_master_delay' ? 3600 : n.keyword === 'garp_master_refresh' ? 86400 : 100;
        const v = readUnsigned(n.args[0], n.keyword === 'garp_master_refresh_repeat' ? 1 : 0, max);
        if (v === undefined) findings.error(n, `${n.keyword} '${n.args[0] ?? ''}' must be a whole number up to ${max} here: keepalived's default is used`);
        else garp[field] = v;
        break;
      }
      case 'unicast_src_ip':
      case 'mcast_src_ip':
        findings.warn(
          n,
          `${n.keyword} ${n.args[0] ?? ''} is this director's own: set the Node annotation lvs.dev/vrrp-unicast-src-ip: "${n.args[0] ?? ''}" on it (without it adverts leave from the interface's first address that is not a VIP)`,
        );
        break;
      case 'track_interface':
        for (const t of n.children ?? []) {
          const w = t.args[0] === 'weight' ? Number(t.args[1]) : 0;
          if (t.args.length > 0 && !(t.args[0] === 'weight' && Number.isInteger(w) && w >= -253 && w <= 253))
            findings.error(t, `'${[t.keyword, ...t.args].join(' ')}' is not an interface with an optional weight -253..253: not carried`);
          else if (!tracked.some((x) => x.name === t.keyword)) tracked.push({ name: t.keyword, weight: w });
        }
        break;
      default:
        if (scriptKeywords.test(n.keyword)) findings.error(n, `${n.keyword} is not carried: directors run no user scripts; VRRP transitions are Events and conditions`);
        else if (!reportNotCarried(vrrpInstance, n, findings)) reportUnknown(n, 'vrrp_instance', findings);
    }
  }
  if (versionNode) {
    const v = readUnsigned(versionNode.args[0], 2, 3);
    if (v === undefined) findings.error(versionNode, `${versionNode.keyword} '${versionNode.args[0] ?? ''}' must be 2 or 3: 2 is used`);
    else version = v;
  }
  if (iface === undefined) {
    findings.error(block, `vrrp_instance ${block.args[0] ?? ''} has no interface: keepalived refuses it; not carried`);
    return undefined;
  }
  let advertMs = Math.round(advertSeconds * 1000);
  if (version === 2 && advertMs % 1000 !== 0) {
    const rounded = Math.max(1000, Math.round(advertMs / 1000) * 1000);
    findings.warn(block, `advert_int ${advertSeconds} with VRRP version 2 is ${rounded / 1000} s: version 2 adverts are whole seconds`);
    advertMs = rounded;
  }
  // keepalived runs VRRP for a vrrp_instance even on a lone director (election Always); its priority
  // follows no health unless a track_script says so: ours drops it by default.
  const vrrp: Record<string, unknown> = { election: 'Always', version, advertIntervalMs: advertMs, priority, preempt, garpRepeat, garpIntervalMs: garpInterval, ...garp, unhealthyPriorityDrop: 0 };
  if (tracked.length > 0) vrrp.trackInterfaces = tracked.slice(0, 16);
  if (tracked.length > 16) findings.error(block, 'track_interface: 16 interfaces at most here; the rest are not tracked');
  if (preemptDelay) {
    const v = seconds(preemptDelay, findings);
    if (v !== undefined && !preempt) findings.warn(preemptDelay, 'preempt_delay with nopreempt is not carried: keepalived ignores it, and the API refuses the pair');
    else if (v !== undefined) vrrp.preemptDelaySeconds = Math.min(Math.ceil(v), 1000);
  }
  if (peers.length > 0) vrrp.unicastPeers = [...new Set(peers)];
  const draft: GroupDraft = { at: block, instance: block.args[0] ?? 'VI', interface: iface, vrrp, vips };
  if (auth) {
    if (version !== 2) findings.warn(auth.at, 'authentication with VRRP version 3 is not carried: RFC 5798 has none and keepalived ignores it');
    else if ((auth.type ?? 'PASS') !== 'PASS') findings.error(auth.at, `auth_type ${auth.type ?? ''} is not carried: only PASS is supported; this group advertises without authentication`);
    else if (auth.pass === undefined) findings.error(auth.at, 'auth_pass missing: advertising without authentication');
    else {
      draft.password = auth.pass.slice(0, 8);
      if (auth.pass.length > 8) findings.warn(auth.at, 'auth_pass is longer than 8 characters: only the first 8 are used, as by keepalived');
    }
  }
  if (syncInterface !== undefined) draft.sync = { enabled: true, interface: syncInterface, syncId: vrid ?? 0 };
  draft.vrid = vrid;
  // keepalived carries all of an instance's addresses in one virtual router; here each address is
  // its own, so the router id is pinned to the first (the one keepalived's peers elect with).
  const first = vips.find((v) => (v.dev ?? iface) === iface);
  if (vrid !== undefined && first) {
    vrrp.routerIds = [{ address: first.address, vrid }];
    findings.info(first.at, `virtual_router_id ${vrid} is pinned to ${first.address} (spec.vrrp.routerIds), so these directors and the keepalived pair speak in one virtual router while you migrate`);
    for (const v of vips) {
      if (v !== first && (v.dev ?? iface) === iface)
        findings.warn(v.at, `${v.address} gets a router id of its own here (one per address), not ${vrid}: keepalived directors of this instance do not see it in their virtual router`);
    }
  } else if (vrid !== undefined) findings.warn(block, `virtual_router_id ${vrid} is not carried: the instance has no address on ${iface} to pin it to`);
  return draft;
}

/** vrrp_sync_group: not in the API yet; the findings say what it held. */
export function reportSyncGroup(block: ConfNode, drafts: Drafts, findings: Findings): void {
  const members = (block.children ?? []).find((c) => c.keyword === 'group')?.children?.map((c) => c.keyword) ?? [];
  drafts.syncGroups.push({ at: block, name: block.args[0] ?? '', members });
  for (const n of block.children ?? []) {
    if (n.keyword === 'group') continue;
    if (scriptKeywords.test(n.keyword) && n.keyword !== 'notify_deleted' && n.keyword !== 'notify_master_rx_lower_pri')
      findings.error(n, `${n.keyword} is not carried: directors run no user scripts`);
    else if (!reportNotCarried(syncGroup, n, findings)) reportUnknown(n, 'vrrp_sync_group', findings);
  }
}
