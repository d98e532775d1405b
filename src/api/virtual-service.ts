import { z } from 'zod';
import { LabelSelector, ObjectMeta, conditionsField, listMapOf, observedGenerationField, setOf } from './common.js';
import {
  type IpFamily,
  addressText,
  dnsLabel,
  dnsSubdomain,
  familyOf,
  ipAddress,
  ipv4NetmaskSource,
  isIPv4Netmask,
  portNumber,
  portNumberOrName,
} from './formats.js';
import { Forwarding, ForwardingOverride } from './forwarding.js';
import { HealthCheck, HealthChecks, healthCheckRules } from './health-check.js';
import { apiVersion } from './group.js';
import { celString, withRules } from './rules.js';

/** IPVS schedulers of Linux (ipvsadm -s), including the later additions ovf, mh and twos. */
export const schedulers = ['rr', 'wrr', 'lc', 'wlc', 'lblc', 'lblcr', 'dh', 'sh', 'sed', 'nq', 'fo', 'ovf', 'mh', 'twos'] as const;
export type Scheduler = (typeof schedulers)[number];
export const schedulerFlags = ['sh-fallback', 'sh-port', 'mh-fallback', 'mh-port'] as const;
export const protocols = ['TCP', 'UDP', 'SCTP'] as const;
export const vrrpStates = ['Init', 'Backup', 'Master', 'Fault'] as const;

const Persistence = z
    .object({
      timeoutSeconds: z
        .int()
        .min(1)
        .max(31536000)
        .default(300)
        .describe('Seconds a client stays on the same real server after its last connection (ipvsadm -p, keepalived persistence_timeout).'),
      netmask: withRules(
        z.union([z.int(), z.string().max(15)]).meta({
          description:
            'Clients in the same network share persistence (ipvsadm -M): a dotted netmask such as 255.255.255.0 for IPv4, a prefix length 1..128 for IPv6. Default: each client address alone.',
          'x-kubernetes-int-or-string': true,
          maxLength: 15,
        }),
        [
          {
            cel: `type(self) == int ? (self >= 1 && self <= 128) : self.matches(${celString(ipv4NetmaskSource)})`,
            holds: (v) => (typeof v === 'number' ? v >= 1 && v <= 128 : isIPv4Netmask(v)),
            message: 'netmask must be a contiguous dotted IPv4 netmask (255.255.255.0) or an IPv6 prefix length 1..128',
          },
        ],
      ).optional(),
    })
    .describe('Client persistence ("sticky" connections); omit for none.');

const ServiceBackend = z
  .object({
    name: dnsLabel('Name of a Service in the same namespace; its ready EndpointSlice addresses become real servers.'),
    port: portNumberOrName(
      'Service port (number or name) whose endpoint port the real servers use; may be omitted when the Service has one port.',
    ).optional(),
    target: z
      .enum(['Endpoints', 'Nodes'])
      .optional()
      .describe(
        'Endpoints (default): each ready endpoint is a real server. Nodes: each node hosting ready endpoints is one real server (its InternalIP, on the virtual service port), weighted by its number of ready endpoints times defaultWeight: externalTrafficPolicy Local, where kube-proxy on the node takes the VIP to its local pods and the client address is kept. Needs forwarding DR or TUN.',
      ),
  })
  .describe('A Kubernetes Service whose EndpointSlices supply real servers.');

const Backends = withRules(
  z
    .object({
      realServerSelector: LabelSelector.optional().describe(
        'Selects RealServer objects in the same namespace by label; an empty selector selects all of them.',
      ),
      service: ServiceBackend.optional(),
      defaultWeight: z
        .int()
        .min(0)
        .max(65535)
        .default(1)
        .describe('Weight of real servers that do not set their own (EndpointSlice backends always use it).'),
    })
    .describe('Where the real servers come from: RealServer objects, a Service, or both.'),
  [
    {
      cel: 'has(self.realServerSelector) || has(self.service)',
      holds: (b) => b.realServerSelector !== undefined || b.service !== undefined,
      message: 'backends needs realServerSelector, service, or both',
      reason: 'FieldValueRequired',
    },
  ],
);

const SorryServer = z
  .object({
    address: ipAddress('Address of the server that answers when no real server is healthy (keepalived sorry_server).'),
    port: portNumber('Port of the sorry server; defaults to the virtual service port.').optional(),
    forwarding: ForwardingOverride.optional().describe(
      "The sorry server's own forwarding (keepalived sorry_server_lvs_method); the service's forwarding when omitted.",
    ),
    inhibit: z
      .boolean()
      .default(false)
      .describe(
        'Keep the sorry server in the table at weight 0 while quorum holds instead of removing it, so its connections outlive quorum coming back (keepalived sorry_server_inhibit).',
      ),
  })
  .describe('Fallback server that serves alone, with weight 1, while quorum is lost (keepalived sorry_server).');

const Quorum = withRules(
  z
    .object({
      weight: z
        .int()
        .min(1)
        .max(4294967295)
        .default(1)
        .describe(
          'Least sum of the weights of healthy real servers for the service to be up (keepalived quorum). Below it the real servers are taken out, the sorry server (if any) serves alone, and Ready is False.',
        ),
      hysteresis: z
        .int()
        .min(0)
        .max(4294967295)
        .default(0)
        .describe('Quorum is gained at a weight sum of weight + hysteresis and lost below weight - hysteresis (or at 0), so the service does not flap in between (keepalived hysteresis).'),
    })
    .describe('Quorum of healthy real servers, as a sum of their weights (keepalived quorum and hysteresis).'),
  [
    {
      cel: 'self.hysteresis < self.weight',
      holds: (q) => q.hysteresis < q.weight,
      message: 'quorum.hysteresis must be less than quorum.weight',
      fieldPath: '.hysteresis',
    },
  ],
);

/** CEL for the address family of a VirtualService spec (`self` = spec). */
const celFamily =
  "(has(self.vip) ? (self.vip.contains(':') ? 'IPv6' : 'IPv4') : (has(self.addressFamily) ? self.addressFamily : 'IPv4'))";

/** Address family of a VirtualService: from the VIP, or `addressFamily` for fwmark services (IPv4 when omitted). */
export function serviceFamily(spec: { vip?: string | undefined; addressFamily?: IpFamily | undefined }): IpFamily {
  if (spec.vip !== undefined) return familyOf(spec.vip);
  return spec.addressFamily ?? 'IPv4';
}

const specFields = z.object({
  vip: ipAddress('Virtual IP address clients connect to (ipvsadm -t/-u/--sctp-service address). Set vip, port and protocol, or fwmark.').optional(),
  port: portNumber('Virtual port; required with vip.').optional(),
  protocol: z.enum(protocols).optional().describe('Transport protocol of the vip service; required with vip.'),
  fwmark: z
    .int()
    .min(1)
    .max(4294967295)
    .optional()
    .describe('Firewall mark (ipvsadm -f) selecting the packets of this service instead of vip/port/protocol; set by iptables/nftables rules.'),
  fwmarkVIPs: setOf(
    ipAddress('A VIP of the fwmark service.'),
    16,
    'VIPs the VRRP master holds for a fwmark service: the destination addresses your marking rules match (keepalived virtual_ipaddress). Only with fwmark.',
  ).optional(),
  addressFamily: z
    .enum(['IPv4', 'IPv6'])
    .optional()
    .describe('Address family of a fwmark service (ipvsadm -6); IPv4 when omitted. Only with fwmark: a vip carries its own family.'),
  scheduler: z
    .enum(schedulers)
    .optional()
    .describe('IPVS scheduling algorithm (ipvsadm -s, keepalived lb_algo); the agent reports UnsupportedScheduler when the kernel lacks it. When omitted: wlc, or mh with schedulerFlags [mh-port] in a DirectorGroup that announces over BGP (a consistent hash, so every director picks the same real server for a flow); status.scheduler says which.'),
  schedulerFlags: setOf(
    z.enum(schedulerFlags).describe('A scheduler flag.'),
    4,
    'Scheduler flags (ipvsadm -b): sh-fallback and sh-port with scheduler sh, mh-fallback and mh-port with scheduler mh.',
  ).optional(),
  forwarding: Forwarding.prefault({}),
  persistence: Persistence.optional(),
  onePacket: z
    .boolean()
    .default(false)
    .describe('One-packet scheduling (ipvsadm -o): schedule every UDP datagram on its own; UDP or fwmark services only.'),
  backends: Backends,
  healthChecks: HealthChecks.optional(),
  healthCheck: HealthCheck.optional().describe(
    'One health check: shorthand for a healthChecks list of one. Without either, real servers get one check of the service protocol (TCP connect, UDP or SCTP) with the defaults.',
  ),
  sorryServer: SorryServer.optional(),
  inhibitOnFailure: z
    .boolean()
    .default(false)
    .describe('Set the weight of a failed real server to 0 instead of removing it, so established connections survive (keepalived inhibit_on_failure).'),
  adopt: z
    .boolean()
    .default(false)
    .describe(
      'Take over an IPVS service with this key that is already in the kernel (left by keepalived --dont-release-ipvs, ipvsadm, or another tool) instead of leaving it alone as foreign: its settings and destinations are edited to match, only where they differ, and its connections live on. For migrating a live director without dropping a connection.',
    ),
  quorum: Quorum.optional(),
  directorGroup: dnsSubdomain('Name of the DirectorGroup whose directors carry this service.'),
});

type SpecShape = z.output<typeof specFields>;

/** The desired virtual service: what `ipvsadm -A` plus keepalived `virtual_server` expressed. */
export const VirtualServiceSpec = withRules(specFields.describe('Desired state of the virtual service.'), [
  {
    cel: 'has(self.vip) != has(self.fwmark)',
    holds: (s: SpecShape) => (s.vip !== undefined) !== (s.fwmark !== undefined),
    message: 'exactly one of vip (with port and protocol) or fwmark must be set',
  },
  {
    cel: '!has(self.vip) || has(self.port)',
    holds: (s) => s.vip === undefined || s.port !== undefined,
    message: 'port is required with vip',
    fieldPath: '.port',
    reason: 'FieldValueRequired',
  },
  {
    cel: '!has(self.vip) || has(self.protocol)',
    holds: (s) => s.vip === undefined || s.protocol !== undefined,
    message: 'protocol is required with vip',
    fieldPath: '.protocol',
    reason: 'FieldValueRequired',
  },
  {
    cel: '!has(self.fwmark) || (!has(self.port) && !has(self.protocol))',
    holds: (s) => s.fwmark === undefined || (s.port === undefined && s.protocol === undefined),
    message: 'port and protocol are not used with fwmark: the firewall mark selects the packets',
    fieldPath: '.fwmark',
    reason: 'FieldValueForbidden',
  },
  {
    cel: '!has(self.addressFamily) || has(self.fwmark)',
    holds: (s) => s.addressFamily === undefined || s.fwmark !== undefined,
    message: 'addressFamily is only allowed with fwmark; a vip carries its own family',
    fieldPath: '.addressFamily',
    reason: 'FieldValueForbidden',
  },
  {
    cel: '!has(self.fwmarkVIPs) || has(self.fwmark)',
    holds: (s) => s.fwmarkVIPs === undefined || s.fwmark !== undefined,
    message: 'fwmarkVIPs is only allowed with fwmark; a vip service carries its vip',
    fieldPath: '.fwmarkVIPs',
    reason: 'FieldValueForbidden',
  },
  {
    cel: `!has(self.fwmarkVIPs) || self.fwmarkVIPs.all(a, (a.contains(':') ? 'IPv6' : 'IPv4') == ${celFamily})`,
    holds: (s) => (s.fwmarkVIPs ?? []).every((a) => familyOf(a) === serviceFamily(s)),
    message: 'fwmarkVIPs must all have the service address family (addressFamily, IPv4 when omitted)',
    fieldPath: '.fwmarkVIPs',
  },
  {
    cel: "!has(self.schedulerFlags) || (has(self.scheduler) && self.schedulerFlags.all(f, f.startsWith(self.scheduler + '-')))",
    holds: (s) => s.schedulerFlags === undefined || (s.scheduler !== undefined && s.schedulerFlags.every((f) => f.startsWith(`${s.scheduler}-`))),
    message: 'schedulerFlags need the scheduler named: sh-* with scheduler sh, mh-* with scheduler mh',
    fieldPath: '.schedulerFlags',
  },
  {
    cel: "!has(self.backends.service) || !has(self.backends.service.target) || self.backends.service.target != 'Nodes' || self.forwarding.method != 'NAT'",
    holds: (s) => s.backends.service?.target !== 'Nodes' || s.forwarding.method !== 'NAT',
    message: 'backends.service.target Nodes needs forwarding DR or TUN: the packet must reach the node still addressed to the VIP, for kube-proxy there to take it to a local pod',
    fieldPath: '.backends.service.target',
  },
  {
    cel: "!self.onePacket || has(self.fwmark) || self.protocol == 'UDP'",
    holds: (s) => !s.onePacket || s.fwmark !== undefined || s.protocol === 'UDP',
    message: 'onePacket is only allowed with protocol UDP or a fwmark service',
    fieldPath: '.onePacket',
    reason: 'FieldValueForbidden',
  },
  {
    cel: `!has(self.persistence) || !has(self.persistence.netmask) || (${celFamily} == 'IPv6' ? type(self.persistence.netmask) == int : type(self.persistence.netmask) == string)`,
    holds: (s) => {
      const mask = s.persistence?.netmask;
      if (mask === undefined) return true;
      return serviceFamily(s) === 'IPv6' ? typeof mask === 'number' : typeof mask === 'string';
    },
    message: 'persistence.netmask must match the service family: a dotted netmask for IPv4, a prefix length for IPv6',
    fieldPath: '.persistence.netmask',
  },
  {
    cel: `!has(self.sorryServer) || (self.sorryServer.address.contains(':') ? 'IPv6' : 'IPv4') == ${celFamily}`,
    holds: (s) => s.sorryServer === undefined || familyOf(s.sorryServer.address) === serviceFamily(s),
    message: 'sorryServer.address must have the same address family as the service',
    fieldPath: '.sorryServer.address',
  },
  {
    cel: "!has(self.sorryServer) || !has(self.sorryServer.port) || (has(self.sorryServer.forwarding) ? self.sorryServer.forwarding.method : self.forwarding.method) == 'NAT' || (has(self.port) && self.sorryServer.port == self.port)",
    holds: (s) =>
      s.sorryServer?.port === undefined || (s.sorryServer.forwarding ?? s.forwarding).method === 'NAT' || s.sorryServer.port === s.port,
    message: 'DR and TUN cannot map ports: sorryServer.port must equal port (or be omitted) unless the sorry server forwards by NAT',
    fieldPath: '.sorryServer.port',
  },
  ...healthCheckRules<SpecShape>(),
]);
export type VirtualServiceSpec = z.infer<typeof VirtualServiceSpec>;
export type VirtualServiceSpecInput = z.input<typeof VirtualServiceSpec>;

const BackendStatus = z
  .object({
    address: addressText('Real server address.'),
    port: z.int().min(0).max(65535).describe('Real server port (0 for fwmark services with ports left to the packet).'),
    healthy: z.boolean().describe('Whether the last health check result of this director says healthy.'),
    weight: z.int().min(0).max(65535).describe('Weight currently programmed in the kernel (0 while inhibited).'),
    message: z.string().max(512).optional().describe('Why the health check fails on this director (absent while it passes). The controller copies it into the RealServer\'s status.directors[].'),
  })
  .describe('One real server as one director sees it.');

export const DirectorView = z
  .object({
    node: z.string().min(1).max(253).describe('Name of the director node that wrote this entry (the list key).'),
    programmedGeneration: z
      .int()
      .min(0)
      .optional()
      .describe('The .metadata.generation this director last programmed into its kernel.'),
    vrrpState: z.enum(vrrpStates).optional().describe('VRRP state of this director for the service VIP.'),
    announced: z
      .boolean()
      .optional()
      .describe('BGP groups only: this director gives the routers a route to the service VIP. False while it has no live real server, its health checks have not all answered since it started, the kernel refused the service, or it drains before stopping.'),
    healthy: z.int().min(0).optional().describe('Healthy real servers seen by this director.'),
    total: z.int().min(0).optional().describe('Real servers known to this director.'),
    liveWeight: z.int().min(0).optional().describe('Sum of the weights of the healthy real servers seen by this director (what quorum is compared with).'),
    quorumLost: z
      .boolean()
      .optional()
      .describe('Quorum is lost on this director: its real servers are out and the sorry server, if any, serves alone.'),
    backends: z.array(BackendStatus).max(1024).optional().describe('Per real server health and weight as programmed here.'),
    message: z.string().max(4096).optional().describe('Last error or note from this director, empty when all is well.'),
    reason: z
      .string()
      .max(128)
      .optional()
      .describe('Set when this director cannot program the service until the service or its kernel changes (UnsupportedScheduler, KernelRejected); the message says why.'),
    lastTransitionTime: z.iso
      .datetime({ offset: true })
      .optional()
      .describe('Last time vrrpState or health of this entry changed (RFC 3339).'),
  })
  .describe("One director's view of the service, written by that node's agent with server-side apply.");
export type DirectorView = z.infer<typeof DirectorView>;

export const VirtualServiceStatus = z
  .object({
    observedGeneration: observedGenerationField(),
    conditions: conditionsField(),
    master: z.string().max(253).optional().describe('Node that is VRRP master for the VIP, empty when none.'),
    scheduler: z.enum(schedulers).optional().describe('The scheduler in effect: spec.scheduler, or the default the controller chose (wlc; mh with mh-port in a BGP group).'),
    vrrpState: z
      .enum(['Master', 'NoMaster', 'SplitBrain', 'Unknown'])
      .optional()
      .describe('Summary over directors: Master (exactly one), NoMaster, SplitBrain (more than one master) or Unknown.'),
    backends: z
      .object({
        healthy: z.int().min(0).describe('Real servers healthy on the master director.'),
        total: z.int().min(0).describe('Real servers resolved for this service.'),
      })
      .optional()
      .describe('Healthy and total real servers.'),
    directors: listMapOf(DirectorView, ['node'], 64, 'Per-director views, one entry per director node, keyed by node.').optional(),
  })
  .describe('Observed state of the virtual service.');
export type VirtualServiceStatus = z.infer<typeof VirtualServiceStatus>;

export const VirtualService = z
  .object({
    apiVersion: z.literal(apiVersion).describe('lvs.dev/v1alpha1'),
    kind: z.literal('VirtualService').describe('VirtualService'),
    metadata: ObjectMeta,
    spec: VirtualServiceSpec,
    status: VirtualServiceStatus.optional(),
  })
  .describe(
    'A virtual service: a VIP:port:protocol (or firewall mark) that the directors of a DirectorGroup balance over real servers with IPVS, like one ipvsadm -A service or a keepalived virtual_server.',
  );
export type VirtualService = z.infer<typeof VirtualService>;
export type VirtualServiceInput = z.input<typeof VirtualService>;
