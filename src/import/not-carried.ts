import type { Findings, Place } from './finding.js';

// keepalived 2.2.7 keywords (keepalived-keywords.ts) the translators do not carry, by block, with
// why. Keywords the translators read themselves are not here; docs/keepalived-keywords.md lists
// every keyword's fate.

/** How a keyword that is not carried is reported: not applicable here (no effect), or dropped. */
export interface NotCarried {
  level: 'error' | 'warning' | 'info';
  /** info findings say "is not applicable", the others "is not carried". */
  why: string;
}

type Table = Record<string, NotCarried>;

function each(keywords: string[], level: NotCarried['level'], why: string): Table {
  return Object.fromEntries(keywords.map((k) => [k, { level, why }]));
}

const noMail = 'no mail is sent; transitions are Events and conditions';
const noSnmp = 'there is no SNMP agent; the agent exports Prometheus metrics';
const processTuning = "it tunes keepalived's own processes; the agent's are set by its pod (resources, priority class)";
const noVmac = 'VMAC and ipvlan interfaces are not in the API; VIPs are added to the group interface';
const noVrrpSetting = 'the API has no such VRRP setting';
const noFirewall = 'the agent adds no iptables or nftables rules (keepalived uses them to drop traffic to addresses it does not own)';
const noTracking = "the API tracks interfaces only (trackInterfaces); this group's priority does not follow it";

export const topLevel: Table = {
  vrrp_script: { level: 'warning', why: 'directors run no user scripts (track_script has nothing to run)' },
  vrrp_track_process: { level: 'warning', why: 'process tracking is not in the API' },
  ...each(['track_file', 'vrrp_track_file'], 'warning', 'file tracking is not in the API'),
  track_group: { level: 'warning', why: 'track groups are not in the API (the API tracks interfaces only)' },
  bfd_instance: { level: 'warning', why: 'lvs-operator runs no BFD sessions' },
  static_ipaddress: { level: 'warning', why: "static addresses belong to the node's network configuration" },
  static_routes: { level: 'warning', why: "static routes belong to the node's network configuration" },
  static_rules: { level: 'warning', why: "static rules belong to the node's network configuration" },
  linkbeat_interfaces: { level: 'info', why: 'the agent follows link state by netlink on every interface' },
  linkbeat_use_polling: { level: 'info', why: 'the agent follows link state by netlink' },
  SSL: { level: 'warning', why: 'the SSL block (client certificates of SSL_GET) is not in the API yet (issue 13)' },
  net_namespace: { level: 'error', why: "the agent runs IPVS and VRRP in the node's network namespace" },
  net_namespace_ipvs: { level: 'error', why: "the agent programs IPVS in the node's network namespace" },
  namespace_with_ipsets: { level: 'info', why: 'there are no ipsets or namespaces of keepalived here' },
  ...each(['use_pid_dir', 'instance', 'child_wait_time'], 'info', "it concerns keepalived's processes and pid files; the agent is a pod"),
  garp_group: { level: 'warning', why: 'gratuitous ARP groups are not in the API: each DirectorGroup sends its own (garpRepeat, garpIntervalMs)' },
  interface_up_down_delays: { level: 'warning', why: 'interface up/down delays are not in the API: a tracked interface counts as soon as it changes' },
};

export const globalDefs: Table = {
  ...each(['process_names', 'process_name', 'vrrp_process_name', 'checker_process_name', 'lvs_process_name', 'bfd_process_name'], 'info', "it names keepalived's processes"),
  ...each(['notification_email_from', 'smtp_server', 'smtp_helo_name', 'smtp_connect_timeout', 'notification_email', 'smtp_alert', 'smtp_alert_vrrp', 'smtp_alert_checker', 'no_email_faults', 'no_checker_emails'], 'info', noMail),
  ...each(['startup_script', 'startup_script_timeout', 'shutdown_script', 'shutdown_script_timeout'], 'error', 'directors run no user scripts'),
  ...each(['notify_fifo', 'notify_fifo_script', 'vrrp_notify_fifo', 'vrrp_notify_fifo_script', 'lvs_notify_fifo', 'lvs_notify_fifo_script'], 'error', 'directors write no notify FIFO and run no user scripts; transitions are Events and conditions'),
  ...each(['vrrp_notify_priority_changes', 'fifo_write_vrrp_states_on_reload', 'rs_init_notifies'], 'info', 'there are no notify FIFOs or scripts; transitions are Events and conditions'),
  ...each(['script_user', 'enable_script_security'], 'info', 'directors run no user scripts'),
  ...each(['snmp_socket', 'enable_traps', 'enable_snmp_vrrp', 'enable_snmp_keepalived', 'enable_snmp_rfc', 'enable_snmp_rfcv2', 'enable_snmp_rfcv3', 'enable_snmp_checker'], 'info', noSnmp),
  ...each(['enable_dbus', 'dbus_service_name'], 'info', 'there is no DBus interface; the objects are the interface'),
  ...each(
    ['max_auto_priority', 'min_auto_priority_delay', 'vrrp_priority', 'vrrp_no_swap', 'vrrp_rt_priority', 'vrrp_cpu_affinity', 'vrrp_rlimit_rttime', 'vrrp_rlimit_rtime',
      'checker_priority', 'checker_no_swap', 'checker_rt_priority', 'checker_cpu_affinity', 'checker_rlimit_rttime', 'checker_rlimit_rtime',
      'bfd_priority', 'bfd_no_swap', 'bfd_rt_priority', 'bfd_cpu_affinity', 'bfd_rlimit_rttime', 'bfd_rlimit_rtime'],
    'info',
    processTuning,
  ),
  ...each(
    ['vrrp_netlink_cmd_rcv_bufs', 'vrrp_netlink_cmd_rcv_bufs_force', 'vrrp_netlink_monitor_rcv_bufs', 'vrrp_netlink_monitor_rcv_bufs_force', 'process_monitor_rcv_bufs', 'process_monitor_rcv_bufs_force',
      'lvs_netlink_cmd_rcv_bufs', 'lvs_netlink_cmd_rcv_bufs_force', 'lvs_netlink_monitor_rcv_bufs', 'lvs_netlink_monitor_rcv_bufs_force', 'vrrp_rx_bufs_policy', 'vrrp_rx_bufs_multiplier'],
    'info',
    "it sizes keepalived's socket buffers",
  ),
  ...each(['checker_log_all_failures', 'log_unknown_vrids'], 'info', "it sets keepalived's logging"),
  random_seed: { level: 'info', why: "it seeds keepalived's random numbers (a test aid)" },
  ...each(['umask', 'reload_check_config', 'reload_time_file', 'reload_repeat', 'reload_file', 'include_check', 'config_save_dir', 'tmp_config_directory', 'data_use_instance'], 'info', "it concerns keepalived's files and reloads; objects are applied, not reloaded"),
  ...each(['lvs_flush_on_stop', 'lvs_flush_onstop'], 'info', 'the agent removes only what it created, when its objects go'),
  dynamic_interfaces: { level: 'warning', why: 'the API has no setting for interfaces that come and go' },
  default_interface: { level: 'warning', why: 'it serves static addresses and instances without an interface, neither of which is carried' },
  disable_local_igmp: { level: 'warning', why: 'the agent does not change IGMP sysctls' },
  ...each(['vrrp_mcast_group4', 'vrrp_mcast_group6'], 'warning', 'adverts go to the VRRP groups 224.0.0.18 and ff02::12; use unicast peers for any other path'),
  ...each(['vrrp_garp_lower_prio_delay', 'vrrp_garp_lower_prio_repeat', 'vrrp_down_timer_adverts', 'vrrp_gna_interval', 'vrrp_min_garp', 'vrrp_lower_prio_no_advert', 'vrrp_higher_prio_send_advert', 'vrrp_check_unicast_src', 'vrrp_skip_check_adv_addr'], 'warning', noVrrpSetting),
  ...each(['vrrp_garp_extra_if', 'vrrp_vmac_garp_intvl', 'vmac_prefix', 'vmac_addr_prefix'], 'info', noVmac),
  vrrp_strict: { level: 'warning', why: "RFC-strict mode is not in the API (keepalived's refuses unicast and authentication, and drops traffic to VIPs it does not own)" },
  ...each(['vrrp_iptables', 'vrrp_ipsets', 'nftables', 'nftables_priority', 'nftables_ifindex', 'nftables_counters'], 'warning', noFirewall),
  ...each(['nftables_ipvs', 'nftables_ipvs_priority', 'nftables_ipvs_start_fwmark'], 'info', 'keepalived marks IPv6 address ranges of a virtual_server_group with nftables; here each address is its own VirtualService'),
  vrrp_startup_delay: { level: 'warning', why: 'the agent starts VRRP as soon as its objects are read' },
};

export const vrrpInstance: Table = {
  ...each(['use_vmac', 'use_vmac_addr', 'vmac_xmit_base', 'use_ipvlan', 'garp_extra_if', 'vmac_garp_intvl'], 'warning', noVmac),
  vrf: { level: 'error', why: 'VRFs are not in the API' },
  ...each(
    ['dont_track_primary', 'native_ipv6', 'accept', 'no_accept', 'strict_mode', 'unicast_fault_no_peer', 'check_unicast_src', 'old_unicast_checksum', 'mcast_dst_ip', 'track_src_ip', 'unicast_ttl',
      'promote_secondaries', 'skip_check_adv_addr', 'garp_lower_prio_repeat', 'garp_lower_prio_delay', 'down_timer_adverts', 'lower_prio_no_advert', 'higher_prio_send_advert', 'virtual_routes', 'virtual_rules'],
    'warning',
    noVrrpSetting,
  ),
  debug: { level: 'info', why: "it sets keepalived's logging" },
  kernel_rx_buf_size: { level: 'info', why: "it sizes keepalived's socket buffers" },
  linkbeat_use_polling: { level: 'info', why: 'the agent follows link state by netlink' },
  smtp_alert: { level: 'info', why: noMail },
  notify_priority_changes: { level: 'info', why: 'there are no notify scripts; transitions are Events and conditions' },
  ...each(['track_script', 'track_process', 'track_file', 'track_bfd'], 'warning', noTracking),
};

export const syncGroup: Table = {
  ...each(['track_interface', 'track_script', 'track_file', 'track_process', 'track_bfd', 'global_tracking', 'sync_group_tracking_weight'], 'warning', 'tracking is per DirectorGroup here (trackInterfaces); the sync group tracks nothing'),
  smtp_alert: { level: 'info', why: noMail },
  notify_priority_changes: { level: 'info', why: 'there are no notify scripts; transitions are Events and conditions' },
};

/** Keywords of every checker block (install_checker_common_keywords) and of some; SMTP's host block. */
export const checker: Table = {
  log_all_failures: { level: 'info', why: "it sets keepalived's logging" },
  ...each(['bind_port', 'bind_if', 'fwmark', 'http_protocol', 'fast_recovery', 'min_reply_length', 'max_reply_length'], 'warning', 'the API has no such setting'),
  host: { level: 'warning', why: 'the deprecated SMTP_CHECK host block is not read: give each host its own SMTP_CHECK' },
};

export const url: Table = each(['regex_options', 'regex_min_offset', 'regex_max_offset', 'regex_stack'], 'warning', 'the API has no such URL setting (the regex searches the first 1 MiB of the body)');

/**
 * Reports `n` if keepalived knows it in this block; false for a keyword keepalived does not know,
 * which the caller reports as keepalived does (logged and ignored).
 */
export function reportNotCarried(table: Table, n: Place & { keyword: string }, findings: Findings): boolean {
  const f = Object.hasOwn(table, n.keyword) ? table[n.keyword] : undefined;
  if (!f) return false;
  if (f.level === 'info') findings.info(n, `${n.keyword} is not applicable: ${f.why}`);
  else if (f.level === 'warning') findings.warn(n, `${n.keyword} is not carried: ${f.why}`);
  else findings.error(n, `${n.keyword} is not carried: ${f.why}`);
  return true;
}

/** keepalived's own answer to a keyword it does not know in a block: a log line, nothing else. */
export function reportUnknown(n: Place & { keyword: string }, block: string | undefined, findings: Findings): void {
  findings.error(n, `unknown keyword '${n.keyword}'${block ? ` in ${block}` : ''}: keepalived logs it and ignores it; not carried`);
}
