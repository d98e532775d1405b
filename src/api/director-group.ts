import { z } from 'zod';
import { LabelSelector, ObjectMeta, conditionsField, listMapOf, observedGenerationField, setOf } from './common.js';
import { addressText, interfaceName, ipAddress, ipAddressWithPrefix } from './formats.js';
import { apiVersion } from './group.js';
import { withRules } from './rules.js';
import { secretKeyRef } from './secret-ref.js';
import { Bgp } from './bgp.js';

const SecretKeyRef = secretKeyRef('Key in the Secret holding the password (at most 8 bytes are used, as in keepalived auth_pass).')
  .describe('VRRPv2 simple password (auth_type PASS) taken from a Secret; only with version 2.');

const TrackInterface = z
  .object({
    name: interfaceName('Interface whose link state is tracked (up means administratively up with carrier, as keepalived).'),
    weight: z
      .int()
      .min(-253)
      .max(253)
      .default(0)
      .describe(
        'keepalived track_interface weight: 0 puts the director in FAULT while the interface is down (no adverts, no VIPs); a positive weight is added to the priority while it is up, a negative one while it is down.',
      ),
  })
  .describe('One tracked interface (keepalived track_interface).');

const RouterIdPin = z
  .object({
    address: ipAddress('A VIP of the group (of one of its VirtualServices) or one of its gateway addresses, without prefix.'),
    vrid: z.int().min(1).max(255).describe('The VRRP router id (keepalived virtual_router_id) this address is carried with.'),
  })
  .describe('A router id pinned to one address instead of allocated, e.g. the one the keepalived pair being replaced uses, so both speak in one virtual router.');

const Vrrp = withRules(
  z
    .object({
      version: z
        .literal([2, 3])
        .default(3)
        .describe('VRRP version: 3 (RFC 5798, IPv4 and IPv6, centisecond adverts) or 2 (RFC 3768, IPv4, whole-second adverts, optional PASS auth).'),
      advertIntervalMs: z
        .int()
        .min(10)
        .max(255000)
        .default(1000)
        .describe('Advertisement interval in milliseconds (keepalived advert_int): v3 takes multiples of 10 up to 40950, v2 whole seconds up to 255000.'),
      election: z
        .enum(['Auto', 'Always'])
        .default('Auto')
        .describe(
          'When VRRP runs. Auto: with two or more directors; a sole director holds the VIPs itself, at once and across agent restarts. Always: on every director even when it is the only one, as keepalived runs every vrrp_instance; needed while directors outside the cluster (a keepalived pair being migrated) speak in the same virtual routers, so the sole director waits for their master instead of taking its VIPs.',
        ),
      priority: z
        .int()
        .min(1)
        .max(254)
        .optional()
        .describe('Base VRRP priority of each director before health adjustments (keepalived priority); omitted: 100. Equal priorities elect the highest address.'),
      preempt: z
        .boolean()
        .default(true)
        .describe('A higher-priority director takes over from a lower-priority master (false is keepalived nopreempt).'),
      preemptDelaySeconds: z
        .int()
        .min(0)
        .max(1000)
        .default(0)
        .describe('Seconds to wait after start before preempting (keepalived preempt_delay); needs preempt.'),
      unicastPeers: setOf(
        ipAddress('A peer director address.'),
        64,
        'Send adverts to these director addresses (keepalived unicast_peer); empty or omitted: multicast 224.0.0.18 / ff02::12.',
      ).optional(),
      authSecretRef: SecretKeyRef.optional(),
      garpRepeat: z
        .int()
        .min(1)
        .max(100)
        .default(5)
        .describe('Gratuitous ARPs / unsolicited neighbour advertisements sent per VIP on becoming master (keepalived garp_master_repeat).'),
      garpIntervalMs: z
        .int()
        .min(0)
        .max(10000)
        .default(0)
        .describe('Milliseconds between those gratuitous ARPs / NAs (keepalived garp_interval).'),
      garpMasterDelaySeconds: z
        .int()
        .min(0)
        .max(3600)
        .default(5)
        .describe('A second round of garpRepeat gratuitous ARPs / NAs this many seconds after becoming master (keepalived garp_master_delay, default 5); 0: none.'),
      garpMasterRefreshSeconds: z
        .int()
        .min(0)
        .max(86400)
        .default(0)
        .describe('While master, announce the VIPs again every this many seconds (keepalived garp_master_refresh); 0: never.'),
      garpMasterRefreshRepeat: z
        .int()
        .min(1)
        .max(100)
        .default(1)
        .describe('Gratuitous ARPs / NAs per VIP at each refresh (keepalived garp_master_refresh_repeat).'),
      routerIds: listMapOf(
        RouterIdPin,
        ['address'],
        64,
        'Router ids pinned per address (keepalived virtual_router_id); the others are allocated. A pin whose id another group holds on the same interface is refused (the address gets no router id, the group says so in Degraded), so our directors never contend with another virtual router.',
      ).optional(),
      trackInterfaces: listMapOf(
        TrackInterface,
        ['name'],
        16,
        'Interfaces tracked by every VRRP instance of the group on each director (keepalived track_interface). The interface carrying an instance is always tracked: while it is down the group is in FAULT.',
      ).optional(),
      unhealthyPriorityDrop: z
        .int()
        .min(0)
        .max(254)
        .default(100)
        .describe(
          'Priority lowered on a director for each VIP of the group whose VirtualServices have no live real server there (all failed checks, or only the sorry server serving), so a director that can serve takes the VIPs over; 0 turns it off. The default beats the 50-point gap of the classic MASTER 150 / BACKUP 100 pair (keepalived users do this with track_script weight).',
        ),
    })
    .describe('VRRP settings shared by all VIPs of the group (keepalived vrrp_instance); router ids are allocated per VIP, and all instances of the group on a director form one keepalived vrrp_sync_group.'),
  [
    {
      cel: 'self.version != 2 || self.advertIntervalMs % 1000 == 0',
      holds: (v) => v.version !== 2 || v.advertIntervalMs % 1000 === 0,
      message: 'VRRP version 2 needs advertIntervalMs in whole seconds (a multiple of 1000)',
      fieldPath: '.advertIntervalMs',
    },
    {
      cel: 'self.version != 3 || (self.advertIntervalMs % 10 == 0 && self.advertIntervalMs <= 40950)',
      holds: (v) => v.version !== 3 || (v.advertIntervalMs % 10 === 0 && v.advertIntervalMs <= 40950),
      message: 'VRRP version 3 needs advertIntervalMs in centiseconds: a multiple of 10 up to 40950',
      fieldPath: '.advertIntervalMs',
    },
    {
      cel: '!has(self.authSecretRef) || self.version == 2',
      holds: (v) => v.authSecretRef === undefined || v.version === 2,
      message: 'authSecretRef is only allowed with VRRP version 2 (RFC 5798 removed authentication)',
      fieldPath: '.authSecretRef',
      reason: 'FieldValueForbidden',
    },
    {
      cel: 'self.preempt || self.preemptDelaySeconds == 0',
      holds: (v) => v.preempt || v.preemptDelaySeconds === 0,
      message: 'preemptDelaySeconds needs preempt',
      fieldPath: '.preemptDelaySeconds',
    },
  ],
);

const GatewayAddress = z
  .object({
    address: ipAddressWithPrefix(
      'The address with its prefix length, e.g. 10.0.1.1/24, so the connected route comes with it (keepalived virtual_ipaddress { 10.0.1.1/24 dev eth1 }); omitted prefix: a host address.',
    ),
    interface: interfaceName('Interface on each director the address lives on (and whose VRRP instance moves it).'),
    unicastPeers: setOf(
      ipAddress('A peer director address on this interface.'),
      16,
      'Send this address\'s adverts to these director addresses (keepalived unicast_peer of the gateway instance); omitted: multicast on the interface.',
    ).optional(),
  })
  .describe('An address that moves with the group\'s service VIPs, typically the real servers\' default gateway on an inner network (LVS-NAT).');

const Sync = z
  .object({
    enabled: z
      .boolean()
      .default(false)
      .describe('Run the IPVS connection synchronisation daemon: the master sends, backups receive, so connections survive failover.'),
    syncId: z.int().min(0).max(255).default(0).describe('Sync id (ipvsadm --syncid) shared by the directors of this group.'),
    interface: interfaceName('Interface for sync traffic (keepalived lvs_sync_daemon_interface); defaults to the group interface.').optional(),
  })
  .describe('IPVS connection synchronisation between directors.');

const Timeouts = z
  .object({
    tcpSeconds: z.int().min(1).max(31536000).optional().describe('IPVS TCP established timeout (ipvsadm --set tcp); omitted: kernel value.'),
    tcpFinSeconds: z.int().min(1).max(31536000).optional().describe('IPVS TCP FIN_WAIT timeout (ipvsadm --set tcpfin); omitted: kernel value.'),
    udpSeconds: z.int().min(1).max(31536000).optional().describe('IPVS UDP timeout (ipvsadm --set udp); omitted: kernel value.'),
  })
  .describe('IPVS connection timeouts set on the directors.');

export const DirectorGroupSpec = withRules(
  z
  .object({
    nodeSelector: LabelSelector.describe('Nodes that act as directors (run IPVS and VRRP for the group).'),
    interface: interfaceName('Interface on each director that carries the VIPs and VRRP (keepalived interface).'),
    announce: z
      .enum(['VRRP', 'BGP'])
      .default('VRRP')
      .describe(
        'How the VIPs reach the network. VRRP: one director (the master) holds each VIP and answers ARP/ND for it. BGP: every director holds every VIP (on lo) and announces the ones it can serve over BGP (spec.bgp), and the routers spread flows across them with ECMP (docs/bgp.md).',
      ),
    bgp: Bgp.optional(),
    vrrp: Vrrp.prefault({}),
    sync: Sync.prefault({}),
    gatewayAddresses: listMapOf(
      GatewayAddress,
      ['address'],
      16,
      'Extra addresses held by the master together with the service VIPs (keepalived vrrp_sync_group members with virtual_ipaddress on other interfaces): one VRRP instance per address on its interface, router ids allocated like the VIPs\'.',
    ).optional(),
    timeouts: Timeouts.optional(),
    realServerNodeSelector: LabelSelector.optional().describe(
      'Nodes allowed to act as DR/TUN real servers of this group (RealServer.nodeName must match); omitted: any node.',
    ),
  })
  .describe('Desired state of the director group.'),
  [
    {
      cel: "self.announce != 'BGP' || has(self.bgp)",
      holds: (s) => s.announce !== 'BGP' || s.bgp !== undefined,
      message: 'announce BGP needs spec.bgp (localASN and peers)',
      fieldPath: '.bgp',
      reason: 'FieldValueRequired',
    },
    {
      cel: "self.announce == 'BGP' || !has(self.bgp)",
      holds: (s) => s.announce === 'BGP' || s.bgp === undefined,
      message: 'spec.bgp is only used with announce BGP',
      fieldPath: '.bgp',
      reason: 'FieldValueForbidden',
    },
    {
      cel: "self.announce != 'BGP' || !has(self.gatewayAddresses)",
      holds: (s) => s.announce !== 'BGP' || s.gatewayAddresses === undefined,
      message: 'gatewayAddresses move with VRRP and are not used with announce BGP (use DR or TUN real servers)',
      fieldPath: '.gatewayAddresses',
      reason: 'FieldValueForbidden',
    },
  ],
);
export type DirectorGroupSpec = z.infer<typeof DirectorGroupSpec>;
export type DirectorGroupSpecInput = z.input<typeof DirectorGroupSpec>;

const VridAllocation = z
  .object({
    vip: addressText('A VIP carried by this group.'),
    interface: interfaceName('Interface the VIP lives on.'),
    vrid: z.int().min(1).max(255).describe('VRRP virtual router id allocated to the VIP.'),
  })
  .describe('One VRRP router id allocation.');

const BgpSessionView = z
  .object({
    peer: addressText('The peer (router) address: the list key.'),
    state: z.string().max(32).describe("The routing daemon's protocol state: up, start, down, flush; absent when it does not list the session; conflict when another BGP group of this director peers with the router with other settings (info says which)."),
    info: z.string().max(256).describe('BGP state or last error as the routing daemon gives it: Established, Active, Connect, "Error: ...".'),
    established: z.boolean().describe('The session is up and Established.'),
  })
  .describe('One BGP session of one director.');

export const BgpDirectorView = z
  .object({
    node: z.string().min(1).max(253).describe('Name of the director node that wrote this entry (the list key).'),
    sessions: listMapOf(BgpSessionView, ['peer'], 64, "This director's BGP sessions, one per peer."),
    announced: setOf(addressText('A VIP.'), 1024, 'The VIP routes this director gives its routing daemon to announce.'),
    draining: z.boolean().optional().describe('Every route withdrawn: the agent is stopping and serves on while the routers move its flows.'),
  })
  .describe("One director's BGP speaker, written by that node's agent with server-side apply.");
export type BgpDirectorView = z.infer<typeof BgpDirectorView>;

export const DirectorGroupStatus = z
  .object({
    observedGeneration: observedGenerationField(),
    conditions: conditionsField(),
    directors: setOf(z.string().max(253).describe('A node name.'), 256, 'Nodes currently selected as directors.').optional(),
    vrids: listMapOf(VridAllocation, ['vip', 'interface'], 1024, 'VRRP router ids allocated by the controller, one per VIP and interface.').optional(),
    bgp: listMapOf(BgpDirectorView, ['node'], 256, 'announce BGP only: per director, its BGP sessions and the routes it announces, one entry per director node, keyed by node.').optional(),
  })
  .describe('Observed state of the director group.');
export type DirectorGroupStatus = z.infer<typeof DirectorGroupStatus>;

export const DirectorGroup = z
  .object({
    apiVersion: z.literal(apiVersion).describe('lvs.dev/v1alpha1'),
    kind: z.literal('DirectorGroup').describe('DirectorGroup'),
    metadata: ObjectMeta,
    spec: DirectorGroupSpec,
    status: DirectorGroupStatus.optional(),
  })
  .describe(
    'A group of director nodes that carry VIPs with IPVS and elect a VRRP master per VIP, like a pair of keepalived LVS directors. Cluster-scoped, owned by the cluster admin.',
  );
export type DirectorGroup = z.infer<typeof DirectorGroup>;
export type DirectorGroupInput = z.input<typeof DirectorGroup>;
