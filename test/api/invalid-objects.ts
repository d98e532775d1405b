// Objects the lvs.dev API must refuse, with what each layer says. Shared by
// test/api/crds.test.ts (the real API server, at admission) and
// test/unit/api/invalid-objects.test.ts (the zod parsers), so both layers are held to
// the same list. Cross-field rules carry one message on both layers; plain schema
// checks (enum, range, required) are worded by each layer in its own way.

export const invalidNamespace = 'lvs-invalid';

// Test data is free-form on purpose: these objects are meant to break the types.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Obj = Record<string, any>;

export interface InvalidObject {
  name: string;
  object: Obj;
  /** Substring of the API server's refusal. */
  server: string;
  /** Substring of the zod layer's error (the parse* helpers). */
  zod: string;
}

function base(kind: string, name: string, spec: Obj, namespaced = true): Obj {
  const metadata: Obj = { name };
  if (namespaced) metadata.namespace = invalidNamespace;
  return { apiVersion: 'lvs.dev/v1alpha1', kind, metadata, spec };
}

export function validVirtualService(name = 'valid-vs'): Obj {
  return base('VirtualService', name, {
    vip: '192.0.2.10',
    port: 80,
    protocol: 'TCP',
    scheduler: 'wrr',
    forwarding: { method: 'DR' },
    backends: { realServerSelector: { matchLabels: { app: 'web' } } },
    directorGroup: 'edge',
  });
}

export function validRealServer(name = 'valid-rs'): Obj {
  return base('RealServer', name, { address: '192.0.2.21', port: 8080, weight: 1 });
}

export function validDirectorGroup(name = 'valid-dg'): Obj {
  return base('DirectorGroup', name, { nodeSelector: { matchLabels: { 'lvs.dev/director': 'edge' } }, interface: 'eth0' }, false);
}

export function validAddressPool(name = 'valid-pool'): Obj {
  return base(
    'AddressPool',
    name,
    { addresses: ['192.0.2.0/28', '198.51.100.10-198.51.100.20', '2001:db8:1::/120', '2001:db8:2::10-2001:db8:2::20'], directorGroup: 'edge', namespaces: ['team-a'] },
    false,
  );
}

let counter = 0;
function variant(make: (name: string) => Obj, mutate: (spec: Obj) => void): Obj {
  const obj = make(`invalid-${++counter}`);
  mutate(obj.spec);
  return obj;
}
const vs = (mutate: (spec: Obj) => void) => variant(validVirtualService, mutate);
const rs = (mutate: (spec: Obj) => void) => variant(validRealServer, mutate);
const dg = (mutate: (spec: Obj) => void) => variant(validDirectorGroup, mutate);
const pool = (mutate: (spec: Obj) => void) => variant(validAddressPool, mutate);
const syntax = 'must be a CIDR (192.0.2.0/28, 2001:db8::/120) or a range of two addresses (192.0.2.10-192.0.2.20)';
const poolEntry = (entry: string, message = syntax): Pick<InvalidObject, 'object' | 'server' | 'zod'> => ({
  object: pool((s) => (s.addresses = ['192.0.2.0/28', entry])),
  server: `spec.addresses[1]: Invalid value: ${JSON.stringify(entry)}: ${message}`,
  zod: `spec.addresses[1]: ${message}`,
});

const bgpOk = (): Obj => ({ localASN: 65001, peers: [{ address: '10.0.0.1', asn: 65000 }] });
/** A BGP group whose spec.bgp is changed by `mutate`. */
const bgpDg = (mutate: (bgp: Obj) => void) =>
  dg((s) => {
    s.announce = 'BGP';
    s.bgp = bgpOk();
    mutate(s.bgp);
  });
const asnLimit = 'spec.bgp.localASN: Invalid value: 0: spec.bgp.localASN in body should be greater than or equal to 1';

function bgpCases(): InvalidObject[] {
  return [
    { name: 'announce BGP without spec.bgp', object: dg((s) => (s.announce = 'BGP')), server: 'spec.bgp: Required value: announce BGP needs spec.bgp (localASN and peers)', zod: 'announce BGP needs spec.bgp' },
    { name: 'spec.bgp with announce VRRP', object: dg((s) => (s.bgp = bgpOk())), server: 'spec.bgp: Forbidden: spec.bgp is only used with announce BGP', zod: 'spec.bgp is only used with announce BGP' },
    { name: 'announce by OSPF', object: dg((s) => (s.announce = 'OSPF')), server: 'spec.announce: Unsupported value: "OSPF": supported values: "VRRP", "BGP"', zod: 'spec.announce: Invalid option' },
    {
      name: 'gateway addresses in a BGP group',
      object: dg((s) => Object.assign(s, { announce: 'BGP', bgp: bgpOk(), gatewayAddresses: [{ address: '10.0.1.1/24', interface: 'eth1' }] })),
      server: 'spec.gatewayAddresses: Forbidden: gatewayAddresses move with VRRP and are not used with announce BGP',
      zod: 'gatewayAddresses move with VRRP',
    },
    { name: 'ASN 0', object: bgpDg((b) => (b.localASN = 0)), server: asnLimit, zod: 'spec.bgp.localASN: Too small' },
    {
      name: 'ASN beyond 32 bits',
      object: bgpDg((b) => (b.localASN = 4294967296)),
      server: 'spec.bgp.localASN: Invalid value: 4294967296: spec.bgp.localASN in body should be less than or equal to 4294967295',
      zod: 'spec.bgp.localASN: Too big',
    },
    { name: 'local ASN AS_TRANS', object: bgpDg((b) => (b.localASN = 23456)), server: 'spec.bgp.localASN: Invalid value: 23456: ASN 23456 is AS_TRANS', zod: 'ASN 23456 is AS_TRANS' },
    { name: 'peer ASN AS_TRANS', object: bgpDg((b) => (b.peers[0].asn = 23456)), server: 'spec.bgp.peers[0].asn: Invalid value: 23456: ASN 23456 is AS_TRANS', zod: 'ASN 23456 is AS_TRANS' },
    { name: 'ASN as dotted text', object: bgpDg((b) => (b.localASN = '1.10')), server: 'spec.bgp.localASN: Invalid value: "string": spec.bgp.localASN in body must be of type integer', zod: 'spec.bgp.localASN: Invalid input' },
    { name: 'no peers', object: bgpDg((b) => (b.peers = [])), server: 'spec.bgp.peers: Required value: at least one peer is needed', zod: 'at least one peer is needed' },
    { name: 'peer without an ASN', object: bgpDg((b) => delete b.peers[0].asn), server: 'spec.bgp.peers[0].asn: Required value', zod: 'spec.bgp.peers[0].asn: Invalid input' },
    {
      name: 'peer address a host name',
      object: bgpDg((b) => (b.peers[0].address = 'router-1')),
      server: 'spec.bgp.peers[0].address: Invalid value: "router-1": must be an IPv4 or IPv6 address',
      zod: 'spec.bgp.peers[0].address: must be an IPv4 or IPv6 address',
    },
    {
      name: 'peer address with a prefix',
      object: bgpDg((b) => (b.peers[0].address = '10.0.0.1/24')),
      server: 'spec.bgp.peers[0].address: Invalid value: "10.0.0.1/24": must be an IPv4 or IPv6 address',
      zod: 'spec.bgp.peers[0].address: must be an IPv4 or IPv6 address',
    },
    {
      name: 'link-local IPv6 peer',
      object: bgpDg((b) => (b.peers[0].address = 'fe80::1')),
      server: 'spec.bgp.peers[0].address: Invalid value: a link-local peer address needs an interface scope',
      zod: 'a link-local peer address needs an interface scope',
    },
    {
      name: 'the same peer twice',
      object: bgpDg((b) => b.peers.push({ address: '10.0.0.1', asn: 65002 })),
      server: 'spec.bgp.peers[1]: Duplicate value: {"address":"10.0.0.1"}',
      zod: 'duplicate entry for key ["10.0.0.1"]',
    },
    { name: 'peer port 0', object: bgpDg((b) => (b.peers[0].port = 0)), server: 'spec.bgp.peers[0].port: Invalid value: 0: spec.bgp.peers[0].port in body should be greater than or equal to 1', zod: 'spec.bgp.peers[0].port: Too small' },
    {
      name: 'hold time under 3 keepalives',
      object: bgpDg((b) => Object.assign(b, { holdTimeSeconds: 9, keepaliveSeconds: 4 })),
      server: 'spec.bgp.keepaliveSeconds: Invalid value: holdTimeSeconds must be at least 3 times keepaliveSeconds (RFC 4271)',
      zod: 'holdTimeSeconds must be at least 3 times keepaliveSeconds',
    },
    {
      name: 'hold time under 3 s',
      object: bgpDg((b) => (b.holdTimeSeconds = 2)),
      server: 'spec.bgp.holdTimeSeconds: Invalid value: 2: spec.bgp.holdTimeSeconds in body should be greater than or equal to 3',
      zod: 'spec.bgp.holdTimeSeconds: Too small',
    },
    {
      name: 'keepalive 0',
      object: bgpDg((b) => (b.keepaliveSeconds = 0)),
      server: 'spec.bgp.keepaliveSeconds: Invalid value: 0: spec.bgp.keepaliveSeconds in body should be greater than or equal to 1',
      zod: 'spec.bgp.keepaliveSeconds: Too small',
    },
    {
      name: 'BFD interval under 10 ms',
      object: bgpDg((b) => (b.bfd = { intervalMs: 5 })),
      server: 'spec.bgp.bfd.intervalMs: Invalid value: 5: spec.bgp.bfd.intervalMs in body should be greater than or equal to 10',
      zod: 'spec.bgp.bfd.intervalMs: Too small',
    },
    {
      name: 'BFD multiplier 0',
      object: bgpDg((b) => (b.bfd = { multiplier: 0 })),
      server: 'spec.bgp.bfd.multiplier: Invalid value: 0: spec.bgp.bfd.multiplier in body should be greater than or equal to 1',
      zod: 'spec.bgp.bfd.multiplier: Too small',
    },
    {
      name: 'community beyond 16 bits',
      object: bgpDg((b) => (b.communities = ['65000:65536'])),
      server: 'spec.bgp.communities[0]: Invalid value: "65000:65536": must be a standard BGP community',
      zod: 'must be a standard BGP community',
    },
    {
      name: 'community without a colon',
      object: bgpDg((b) => (b.communities = ['no-export'])),
      server: 'spec.bgp.communities[0]: Invalid value: "no-export": must be a standard BGP community',
      zod: 'must be a standard BGP community',
    },
    {
      name: 'the same community twice',
      object: bgpDg((b) => (b.communities = ['65000:1', '65000:1'])),
      server: 'spec.bgp.communities[1]: Duplicate value: "65000:1"',
      zod: 'duplicate value "65000:1"',
    },
    {
      name: 'MD5 password Secret without a namespace',
      object: bgpDg((b) => (b.peers[0].passwordSecretRef = { name: 'bgp-md5' })),
      server: 'spec.bgp.peers[0].passwordSecretRef.namespace: Required value',
      zod: 'spec.bgp.peers[0].passwordSecretRef.namespace: Invalid input',
    },
    {
      name: 'node override with both nodeName and nodeSelector',
      object: bgpDg((b) => (b.nodes = [{ nodeName: 'd1', nodeSelector: { matchLabels: { rack: 'a' } }, routerId: '10.0.0.11' }])),
      server: 'spec.bgp.nodes[0]: Invalid value: exactly one of nodeName or nodeSelector must be set',
      zod: 'exactly one of nodeName or nodeSelector must be set',
    },
    {
      name: 'node override for no node',
      object: bgpDg((b) => (b.nodes = [{ routerId: '10.0.0.11' }])),
      server: 'spec.bgp.nodes[0]: Invalid value: exactly one of nodeName or nodeSelector must be set',
      zod: 'exactly one of nodeName or nodeSelector must be set',
    },
    {
      name: 'IPv6 router id',
      object: bgpDg((b) => (b.nodes = [{ nodeName: 'd1', routerId: '2001:db8::1' }])),
      server: 'spec.bgp.nodes[0].routerId: Invalid value: "2001:db8::1": a BGP router id is 32 bits written as an IPv4 address',
      zod: 'a BGP router id is 32 bits written as an IPv4 address',
    },
    {
      name: 'drain longer than 300 s',
      object: bgpDg((b) => (b.drainSeconds = 301)),
      server: 'spec.bgp.drainSeconds: Invalid value: 301: spec.bgp.drainSeconds in body should be less than or equal to 300',
      zod: 'spec.bgp.drainSeconds: Too big',
    },
  ];
}

export const invalidObjects: InvalidObject[] = [
  // VirtualService: which packets
  {
    name: 'vip and fwmark together',
    object: vs((s) => (s.fwmark = 7)),
    server: 'spec: Invalid value: exactly one of vip (with port and protocol) or fwmark must be set',
    zod: 'exactly one of vip (with port and protocol) or fwmark must be set',
  },
  {
    name: 'neither vip nor fwmark',
    object: vs((s) => {
      delete s.vip;
      delete s.port;
      delete s.protocol;
    }),
    server: 'spec: Invalid value: exactly one of vip (with port and protocol) or fwmark must be set',
    zod: 'exactly one of vip (with port and protocol) or fwmark must be set',
  },
  {
    name: 'vip without port',
    object: vs((s) => delete s.port),
    server: 'spec.port: Required value: port is required with vip',
    zod: 'port is required with vip',
  },
  {
    name: 'vip without protocol',
    object: vs((s) => delete s.protocol),
    server: 'spec.protocol: Required value: protocol is required with vip',
    zod: 'protocol is required with vip',
  },
  {
    name: 'port 0',
    object: vs((s) => (s.port = 0)),
    server: 'spec.port: Invalid value: 0: spec.port in body should be greater than or equal to 1',
    zod: 'spec.port: Too small',
  },
  {
    name: 'port 65536',
    object: vs((s) => (s.port = 65536)),
    server: 'spec.port: Invalid value: 65536: spec.port in body should be less than or equal to 65535',
    zod: 'spec.port: Too big',
  },
  {
    name: 'fwmark with port and protocol',
    object: vs((s) => {
      delete s.vip;
      s.fwmark = 1;
    }),
    server: 'spec.fwmark: Forbidden: port and protocol are not used with fwmark: the firewall mark selects the packets',
    zod: 'port and protocol are not used with fwmark',
  },
  {
    name: 'addressFamily with vip',
    object: vs((s) => (s.addressFamily = 'IPv4')),
    server: 'spec.addressFamily: Forbidden: addressFamily is only allowed with fwmark; a vip carries its own family',
    zod: 'addressFamily is only allowed with fwmark',
  },
  {
    name: 'fwmarkVIPs with vip',
    object: vs((s) => (s.fwmarkVIPs = ['192.0.2.11'])),
    server: 'spec.fwmarkVIPs: Forbidden: fwmarkVIPs is only allowed with fwmark; a vip service carries its vip',
    zod: 'fwmarkVIPs is only allowed with fwmark',
  },
  {
    name: 'IPv6 fwmarkVIP on an IPv4 fwmark service',
    object: vs((s) => {
      delete s.vip;
      delete s.port;
      delete s.protocol;
      s.fwmark = 2;
      s.fwmarkVIPs = ['2001:db8::80'];
    }),
    server: 'spec.fwmarkVIPs: Invalid value: fwmarkVIPs must all have the service address family (addressFamily, IPv4 when omitted)',
    zod: 'fwmarkVIPs must all have the service address family',
  },
  {
    name: 'vip not an address',
    object: vs((s) => (s.vip = '192.0.2.300')),
    server: 'spec.vip: Invalid value: "192.0.2.300": must be an IPv4 or IPv6 address (for example 192.0.2.10 or 2001:db8::10)',
    zod: 'spec.vip: must be an IPv4 or IPv6 address',
  },
  {
    name: 'unknown protocol',
    object: vs((s) => (s.protocol = 'ICMP')),
    server: 'spec.protocol: Unsupported value: "ICMP": supported values: "TCP", "UDP", "SCTP"',
    zod: 'spec.protocol: Invalid option',
  },
  // scheduling
  {
    name: 'unknown scheduler',
    object: vs((s) => (s.scheduler = 'random')),
    server: 'spec.scheduler: Unsupported value: "random": supported values: "rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh", "sed", "nq", "fo", "ovf", "mh", "twos"',
    zod: 'spec.scheduler: Invalid option',
  },
  {
    name: 'sh flag with wrr',
    object: vs((s) => (s.schedulerFlags = ['sh-port'])),
    server: 'spec.schedulerFlags: Invalid value: schedulerFlags need the scheduler named: sh-* with scheduler sh, mh-* with scheduler mh',
    zod: 'schedulerFlags need the scheduler named: sh-* with scheduler sh, mh-* with scheduler mh',
  },
  {
    // The default scheduler depends on the group (mh in a BGP group): flags name theirs.
    name: 'mh flag without a scheduler',
    object: vs((s) => {
      delete s.scheduler;
      s.schedulerFlags = ['mh-port'];
    }),
    server: 'spec.schedulerFlags: Invalid value: schedulerFlags need the scheduler named: sh-* with scheduler sh, mh-* with scheduler mh',
    zod: 'schedulerFlags need the scheduler named: sh-* with scheduler sh, mh-* with scheduler mh',
  },
  {
    name: 'mh flag with sh',
    object: vs((s) => {
      s.scheduler = 'sh';
      s.schedulerFlags = ['sh-fallback', 'mh-port'];
    }),
    server: 'spec.schedulerFlags: Invalid value: schedulerFlags need the scheduler named: sh-* with scheduler sh, mh-* with scheduler mh',
    zod: 'schedulerFlags need the scheduler named: sh-* with scheduler sh, mh-* with scheduler mh',
  },
  {
    name: 'onePacket on TCP',
    object: vs((s) => (s.onePacket = true)),
    server: 'spec.onePacket: Forbidden: onePacket is only allowed with protocol UDP or a fwmark service',
    zod: 'onePacket is only allowed with protocol UDP or a fwmark service',
  },
  // forwarding
  {
    name: 'tunnelType with DR',
    object: vs((s) => (s.forwarding = { method: 'DR', tunnelType: 'gre' })),
    server: 'spec.forwarding.tunnelType: Forbidden: tunnelType is only allowed with method TUN',
    zod: 'tunnelType is only allowed with method TUN',
  },
  {
    name: 'gue without tunnelPort',
    object: vs((s) => (s.forwarding = { method: 'TUN', tunnelType: 'gue' })),
    server: 'spec.forwarding.tunnelPort: Invalid value: tunnelPort is required with tunnelType gue and not allowed otherwise',
    zod: 'tunnelPort is required with tunnelType gue',
  },
  {
    name: 'remcsum with gre',
    object: vs((s) => (s.forwarding = { method: 'TUN', tunnelType: 'gre', tunnelFlags: ['remcsum'] })),
    server: 'spec.forwarding.tunnelFlags: Forbidden: tunnelFlag remcsum is only allowed with tunnelType gue',
    zod: 'tunnelFlag remcsum is only allowed with tunnelType gue',
  },
  {
    name: 'two tunnel checksum flags',
    object: vs((s) => (s.forwarding = { method: 'TUN', tunnelType: 'gue', tunnelPort: 6080, tunnelFlags: ['csum', 'nocsum'] })),
    server: 'spec.forwarding.tunnelFlags: Invalid value: tunnelFlags takes at most one of nocsum, csum, remcsum',
    zod: 'tunnelFlags takes at most one of nocsum, csum, remcsum',
  },
  {
    name: 'snat with DR',
    object: vs((s) => (s.forwarding = { method: 'DR', snat: true })),
    server: 'spec.forwarding.snat: Forbidden: snat is only allowed with method NAT (DR and TUN real servers answer clients directly)',
    zod: 'snat is only allowed with method NAT',
  },
  {
    name: 'DR sorry server on another port',
    object: vs((s) => (s.sorryServer = { address: '192.0.2.99', port: 8080 })),
    server: 'spec.sorryServer.port: Invalid value: DR and TUN cannot map ports: sorryServer.port must equal port (or be omitted)',
    zod: 'DR and TUN cannot map ports: sorryServer.port must equal port',
  },
  {
    name: 'sorry server forwarding by DR on another port of a NAT service',
    object: vs((s) => {
      s.forwarding = { method: 'NAT' };
      s.sorryServer = { address: '192.0.2.99', port: 8080, forwarding: { method: 'DR' } };
    }),
    server: 'spec.sorryServer.port: Invalid value: DR and TUN cannot map ports: sorryServer.port must equal port',
    zod: 'DR and TUN cannot map ports: sorryServer.port must equal port',
  },
  {
    name: 'sorry server forwarding by TUN with a tunnel port but no gue',
    object: vs((s) => (s.sorryServer = { address: '192.0.2.99', forwarding: { method: 'TUN', tunnelPort: 6080 } })),
    server: 'spec.sorryServer.forwarding.tunnelPort: Invalid value: tunnelPort is required with tunnelType gue and not allowed otherwise',
    zod: 'tunnelPort is required with tunnelType gue and not allowed otherwise',
  },
  {
    name: 'sorry server forwarding without a method',
    object: vs((s) => (s.sorryServer = { address: '192.0.2.99', forwarding: { tunnelType: 'gre' } })),
    server: 'spec.sorryServer.forwarding.method: Required value',
    zod: 'method',
  },
  {
    name: 'IPv6 sorry server for an IPv4 VIP',
    object: vs((s) => (s.sorryServer = { address: '2001:db8::99' })),
    server: 'spec.sorryServer.address: Invalid value: sorryServer.address must have the same address family as the service',
    zod: 'sorryServer.address must have the same address family as the service',
  },
  // persistence
  {
    name: 'IPv6 prefix length as netmask of an IPv4 service',
    object: vs((s) => (s.persistence = { timeoutSeconds: 600, netmask: 24 })),
    server: 'spec.persistence.netmask: Invalid value: persistence.netmask must match the service family: a dotted netmask for IPv4, a prefix length for IPv6',
    zod: 'persistence.netmask must match the service family',
  },
  {
    name: 'non-contiguous netmask',
    object: vs((s) => (s.persistence = { netmask: '255.0.255.0' })),
    server: 'spec.persistence.netmask: Invalid value: "255.0.255.0": netmask must be a contiguous dotted IPv4 netmask (255.255.255.0) or an IPv6 prefix length 1..128',
    zod: 'netmask must be a contiguous dotted IPv4 netmask',
  },
  {
    name: 'persistence timeout 0',
    object: vs((s) => (s.persistence = { timeoutSeconds: 0 })),
    server: 'spec.persistence.timeoutSeconds: Invalid value: 0: spec.persistence.timeoutSeconds in body should be greater than or equal to 1',
    zod: 'spec.persistence.timeoutSeconds: Too small',
  },
  {
    name: 'persistence timeout over a year',
    object: vs((s) => (s.persistence = { timeoutSeconds: 31536001 })),
    server: 'spec.persistence.timeoutSeconds: Invalid value: 31536001: spec.persistence.timeoutSeconds in body should be less than or equal to 31536000',
    zod: 'spec.persistence.timeoutSeconds: Too big',
  },
  // backends
  {
    name: 'backends without a source',
    object: vs((s) => (s.backends = { defaultWeight: 3 })),
    server: 'spec.backends: Required value: backends needs realServerSelector, service, or both',
    zod: 'backends needs realServerSelector, service, or both',
  },
  {
    name: 'service port out of range',
    object: vs((s) => (s.backends = { service: { name: 'web', port: 70000 } })),
    server: 'spec.backends.service.port: Invalid value: 70000: must be a port number 1..65535 or a port name (lower case letters, digits and "-", at most 15)',
    zod: 'must be a port number 1..65535 or a port name',
  },
  {
    name: 'In selector without values',
    object: vs((s) => (s.backends = { realServerSelector: { matchExpressions: [{ key: 'app', operator: 'In' }] } })),
    server: 'spec.backends.realServerSelector.matchExpressions[0].values: Invalid value: values must be non-empty for In and NotIn, and empty for Exists and DoesNotExist',
    zod: 'values must be non-empty for In and NotIn',
  },
  {
    name: 'missing directorGroup',
    object: vs((s) => delete s.directorGroup),
    server: 'spec.directorGroup: Required value',
    zod: 'spec.directorGroup: Invalid input',
  },
  // health checks
  {
    name: 'rise 0',
    object: vs((s) => (s.healthCheck = { rise: 0 })),
    server: 'spec.healthCheck.rise: Invalid value: 0: spec.healthCheck.rise in body should be greater than or equal to 1',
    zod: 'spec.healthCheck.rise: Too small',
  },
  {
    name: 'fall 0',
    object: vs((s) => (s.healthCheck = { fall: 0 })),
    server: 'spec.healthCheck.fall: Invalid value: 0: spec.healthCheck.fall in body should be greater than or equal to 1',
    zod: 'spec.healthCheck.fall: Too small',
  },
  {
    name: 'timeout not below interval',
    object: vs((s) => (s.healthCheck = { intervalSeconds: 5, timeoutSeconds: 5 })),
    server: 'spec.healthCheck.timeoutSeconds: Invalid value: timeoutSeconds must be less than intervalSeconds',
    zod: 'timeoutSeconds must be less than intervalSeconds',
  },
  {
    name: 'http settings on a TCP check',
    object: vs((s) => (s.healthCheck = { type: 'TCP', http: { path: '/healthz' } })),
    server: 'spec.healthCheck.http: Forbidden: http settings are only allowed with type HTTP or HTTPS',
    zod: 'http settings are only allowed with type HTTP or HTTPS',
  },
  {
    name: 'tlsVerify on plain HTTP',
    object: vs((s) => (s.healthCheck = { type: 'HTTP', http: { tlsVerify: true } })),
    server: 'spec.healthCheck.http: Forbidden: http.tlsVerify, http.enableSNI and http.clientCertificateSecret are only allowed with type HTTPS',
    zod: 'http.tlsVerify, http.enableSNI and http.clientCertificateSecret are only allowed with type HTTPS',
  },
  {
    name: 'a client certificate on plain HTTP',
    object: vs((s) => (s.healthCheck = { type: 'HTTP', http: { clientCertificateSecret: 'probe-cert' } })),
    server: 'spec.healthCheck.http: Forbidden: http.tlsVerify, http.enableSNI and http.clientCertificateSecret are only allowed with type HTTPS',
    zod: 'http.tlsVerify, http.enableSNI and http.clientCertificateSecret are only allowed with type HTTPS',
  },
  {
    name: 'healthCheck and healthChecks both set',
    object: vs((s) => {
      s.healthCheck = { type: 'TCP' };
      s.healthChecks = [{ type: 'TCP' }];
    }),
    server: 'spec.healthChecks: Forbidden: set healthChecks or healthCheck (a one-check shorthand), not both',
    zod: 'set healthChecks or healthCheck (a one-check shorthand), not both',
  },
  {
    name: 'None among other checks',
    object: vs((s) => (s.healthChecks = [{ type: 'TCP' }, { type: 'None' }])),
    server: 'spec.healthChecks: Invalid value: type None (no checking) cannot be combined with other checks',
    zod: 'type None (no checking) cannot be combined with other checks',
  },
  {
    name: 'nine health checks',
    object: vs((s) => (s.healthChecks = Array.from({ length: 9 }, () => ({ type: 'TCP' })))),
    server: 'spec.healthChecks: Too many: 9: must have at most 8 items',
    zod: 'spec.healthChecks: Too big',
  },
  {
    name: 'urls beside a single-URL path',
    object: vs((s) => (s.healthCheck = { type: 'HTTP', http: { path: '/a', urls: [{ path: '/b' }] } })),
    server: 'spec.healthCheck.http.urls: Forbidden: set urls, or path/expectedStatus/digest/regex for a single URL, not both',
    zod: 'set urls, or path/expectedStatus/digest/regex for a single URL, not both',
  },
  {
    name: 'regexNoMatch without regex',
    object: vs((s) => (s.healthCheck = { type: 'HTTP', http: { urls: [{ path: '/', regexNoMatch: true }] } })),
    server: 'spec.healthCheck.http.urls[0].regexNoMatch: Forbidden: regexNoMatch needs regex',
    zod: 'regexNoMatch needs regex',
  },
  {
    name: 'status range upside down',
    object: vs((s) => (s.healthCheck = { type: 'HTTP', http: { expectedStatus: ['299-200'] } })),
    server: 'a status code is 100-599, a range is "low-high" with low <= high (e.g. "200-299")',
    zod: 'a status code is 100-599, a range is "low-high" with low <= high (e.g. "200-299")',
  },
  {
    name: 'dns settings on a TCP check',
    object: vs((s) => (s.healthCheck = { type: 'TCP', dns: { queryName: 'example.org' } })),
    server: 'spec.healthCheck.dns: Forbidden: dns settings are only allowed with type DNS',
    zod: 'dns settings are only allowed with type DNS',
  },
  {
    name: 'smtp settings without a type',
    object: vs((s) => (s.healthCheck = { smtp: { helo: 'lb.example.org' } })),
    server: 'spec.healthCheck.smtp: Forbidden: smtp settings are only allowed with type SMTP',
    zod: 'smtp settings are only allowed with type SMTP',
  },
  {
    name: 'connectAddress and bindAddress of different families',
    object: vs((s) => (s.healthCheck = { connectAddress: '10.0.0.1', bindAddress: '2001:db8::1' })),
    server: 'spec.healthCheck.bindAddress: Invalid value: connectAddress and bindAddress must have the same address family',
    zod: 'connectAddress and bindAddress must have the same address family',
  },
  {
    name: 'digest not md5 hex',
    object: vs((s) => (s.healthCheck = { type: 'HTTP', http: { digest: 'not-a-digest' } })),
    server: 'spec.healthCheck.http.digest in body should match',
    zod: 'spec.healthCheck.http.digest: Invalid string',
  },
  {
    name: 'status code 700',
    object: vs((s) => (s.healthCheck = { type: 'HTTP', http: { expectedStatus: [200, 700] } })),
    server: 'spec.healthCheck.http.expectedStatus[1]: Invalid value: 700: a status code is 100-599, a range is "low-high" with low <= high (e.g. "200-299")',
    zod: 'a status code is 100-599, a range is "low-high" with low <= high (e.g. "200-299")',
  },
  {
    name: 'udp settings on an HTTP check',
    object: vs((s) => (s.healthCheck = { type: 'HTTP', udp: { payload: 'ping' } })),
    server: 'spec.healthCheck.udp: Forbidden: udp settings are only allowed with type UDP',
    zod: 'udp settings are only allowed with type UDP',
  },
  {
    name: 'invalid base64 UDP payload',
    object: vs((s) => {
      s.protocol = 'UDP';
      s.healthCheck = { type: 'UDP', udp: { encoding: 'Base64', payload: 'not base64!' } };
    }),
    server: 'spec.healthCheck.udp: Invalid value: payload and expect must be valid base64 with encoding Base64',
    zod: 'payload and expect must be valid base64 with encoding Base64',
  },
  {
    name: 'quorum hysteresis not below the quorum weight',
    object: vs((s) => (s.quorum = { weight: 2, hysteresis: 2 })),
    server: 'spec.quorum.hysteresis: Invalid value: quorum.hysteresis must be less than quorum.weight',
    zod: 'quorum.hysteresis must be less than quorum.weight',
  },
  // RealServer
  {
    name: 'weight 65536',
    object: rs((s) => (s.weight = 65536)),
    server: 'spec.weight: Invalid value: 65536: spec.weight in body should be less than or equal to 65535',
    zod: 'spec.weight: Too big',
  },
  {
    name: 'negative weight',
    object: rs((s) => (s.weight = -1)),
    server: 'spec.weight: Invalid value: -1: spec.weight in body should be greater than or equal to 0',
    zod: 'spec.weight: Too small',
  },
  {
    name: 'real server address not an IP',
    object: rs((s) => (s.address = 'web-1.example.com')),
    server: 'spec.address: Invalid value: "web-1.example.com": must be an IPv4 or IPv6 address (for example 192.0.2.10 or 2001:db8::10)',
    zod: 'spec.address: must be an IPv4 or IPv6 address',
  },
  {
    name: 'DR override with a mapped port',
    object: rs((s) => (s.forwarding = { method: 'DR' })),
    server: 'spec.port: Forbidden: DR and TUN cannot map ports: omit port (or set 0) so the real server receives the virtual service port',
    zod: 'DR and TUN cannot map ports: omit port',
  },
  {
    name: 'lowerThreshold above upperThreshold',
    object: rs((s) => {
      s.upperThreshold = 100;
      s.lowerThreshold = 200;
    }),
    server: 'spec.lowerThreshold: Invalid value: lowerThreshold must not exceed upperThreshold',
    zod: 'lowerThreshold must not exceed upperThreshold',
  },
  {
    name: 'lowerThreshold without upperThreshold',
    object: rs((s) => (s.lowerThreshold = 10)),
    server: 'spec.lowerThreshold: Forbidden: lowerThreshold needs upperThreshold',
    zod: 'lowerThreshold needs upperThreshold',
  },
  {
    name: 'tunnelType in an override without TUN',
    object: rs((s) => {
      delete s.port;
      s.forwarding = { method: 'NAT', tunnelType: 'ipip' };
    }),
    server: 'spec.forwarding.tunnelType: Forbidden: tunnelType is only allowed with method TUN',
    zod: 'tunnelType is only allowed with method TUN',
  },
  // DirectorGroup
  {
    name: 'VRRP v2 with a fractional advert interval',
    object: dg((s) => (s.vrrp = { version: 2, advertIntervalMs: 1500 })),
    server: 'spec.vrrp.advertIntervalMs: Invalid value: VRRP version 2 needs advertIntervalMs in whole seconds (a multiple of 1000)',
    zod: 'VRRP version 2 needs advertIntervalMs in whole seconds',
  },
  {
    name: 'VRRP v3 interval beyond 40950 ms',
    object: dg((s) => (s.vrrp = { advertIntervalMs: 50000 })),
    server: 'spec.vrrp.advertIntervalMs: Invalid value: VRRP version 3 needs advertIntervalMs in centiseconds: a multiple of 10 up to 40950',
    zod: 'VRRP version 3 needs advertIntervalMs in centiseconds',
  },
  {
    name: 'auth with VRRP v3',
    object: dg((s) => (s.vrrp = { version: 3, authSecretRef: { name: 'vrrp', namespace: 'lvs-system' } })),
    server: 'spec.vrrp.authSecretRef: Forbidden: authSecretRef is only allowed with VRRP version 2 (RFC 5798 removed authentication)',
    zod: 'authSecretRef is only allowed with VRRP version 2',
  },
  {
    name: 'VRRP version 4',
    object: dg((s) => (s.vrrp = { version: 4 })),
    server: 'spec.vrrp.version: Unsupported value: 4: supported values: "2", "3"',
    zod: 'spec.vrrp.version: Invalid option',
  },
  {
    name: 'priority 255 (reserved for the address owner)',
    object: dg((s) => (s.vrrp = { priority: 255 })),
    server: 'spec.vrrp.priority: Invalid value: 255: spec.vrrp.priority in body should be less than or equal to 254',
    zod: 'spec.vrrp.priority: Too big',
  },
  {
    name: 'track_interface weight beyond keepalived\'s 253',
    object: dg((s) => (s.vrrp = { trackInterfaces: [{ name: 'eth1', weight: -254 }] })),
    server: 'spec.vrrp.trackInterfaces[0].weight: Invalid value: -254: spec.vrrp.trackInterfaces[0].weight in body should be greater than or equal to -253',
    zod: 'spec.vrrp.trackInterfaces[0].weight: Too small',
  },
  {
    name: 'the same tracked interface twice',
    object: dg((s) => (s.vrrp = { trackInterfaces: [{ name: 'eth1' }, { name: 'eth1', weight: 10 }] })),
    server: 'spec.vrrp.trackInterfaces[1]: Duplicate value: {"name":"eth1"}',
    zod: 'duplicate entry for key ["eth1"]',
  },
  {
    name: 'preempt delay without preempt',
    object: dg((s) => (s.vrrp = { preempt: false, preemptDelaySeconds: 10 })),
    server: 'spec.vrrp.preemptDelaySeconds: Invalid value: preemptDelaySeconds needs preempt',
    zod: 'preemptDelaySeconds needs preempt',
  },
  {
    name: 'unicast peer not an address',
    object: dg((s) => (s.vrrp = { unicastPeers: ['10.0.0.1', 'peer-b'] })),
    server: 'spec.vrrp.unicastPeers[1]: Invalid value: "peer-b": must be an IPv4 or IPv6 address (for example 192.0.2.10 or 2001:db8::10)',
    zod: 'spec.vrrp.unicastPeers[1]: must be an IPv4 or IPv6 address',
  },
  {
    name: 'interface name longer than IFNAMSIZ',
    object: dg((s) => (s.interface = 'averyveryverylongif0')),
    server: 'spec.interface: Too long: may not be more than 15 bytes',
    zod: 'spec.interface: Too big',
  },
  {
    name: 'sync id 256',
    object: dg((s) => (s.sync = { enabled: true, syncId: 256 })),
    server: 'spec.sync.syncId: Invalid value: 256: spec.sync.syncId in body should be less than or equal to 255',
    zod: 'spec.sync.syncId: Too big',
  },

  // DirectorGroup: announce BGP
  ...bgpCases(),

  // AddressPool
  { name: 'pool entry: a bare address', ...poolEntry('192.0.2.50') },
  { name: 'pool entry: IPv4 prefix 33', ...poolEntry('192.0.2.0/33') },
  { name: 'pool entry: IPv6 prefix 129', ...poolEntry('2001:db8::/129') },
  { name: 'pool entry: octet 256', ...poolEntry('10.0.0.256/24') },
  { name: 'pool entry: a name', ...poolEntry('public') },
  { name: 'pool entry: three range ends', ...poolEntry('192.0.2.1-192.0.2.2-192.0.2.3') },
  { name: 'pool entry: a zone in a range', ...poolEntry('fe80::1%eth0-fe80::2') },
  { name: 'pool entry: an open range', ...poolEntry('192.0.2.10-') },
  { name: 'pool entry: a leading-zero prefix length', ...poolEntry('192.0.2.0/024') },
  { name: 'pool entry: IPv4 host bits after the prefix', ...poolEntry('192.0.2.1/24', 'a CIDR must have no bits set after its prefix length (192.0.2.0/24, not 192.0.2.1/24)') },
  { name: 'pool entry: host bits in the last octet only', ...poolEntry('10.9.8.7/31', 'a CIDR must have no bits set after its prefix length (192.0.2.0/24, not 192.0.2.1/24)') },
  { name: 'pool entry: a range across families', ...poolEntry('192.0.2.10-2001:db8::1', 'a range must start and end in the same address family') },
  { name: 'pool entry: an IPv4 range that ends before it starts', ...poolEntry('192.0.2.20-192.0.2.10', 'a range must not end before it starts') },
  { name: 'pool entry: a range reversed in the last octet only', ...poolEntry('10.1.2.9-10.1.2.8', 'a range must not end before it starts') },
  {
    name: 'pool without addresses',
    object: pool((s) => (s.addresses = [])),
    server: 'spec.addresses: Required value: addresses needs at least one CIDR or range',
    zod: 'spec.addresses: addresses needs at least one CIDR or range',
  },
  {
    name: 'pool listing one CIDR twice',
    object: pool((s) => (s.addresses = ['192.0.2.0/28', '192.0.2.0/28'])),
    server: 'spec.addresses[1]: Duplicate value: "192.0.2.0/28"',
    zod: 'duplicate value "192.0.2.0/28"',
  },
  {
    name: 'pool of more than 64 entries',
    object: pool((s) => (s.addresses = Array.from({ length: 65 }, (_, i) => `10.${i}.0.0/24`))),
    server: 'spec.addresses: Too many: 65: must have at most 64 items',
    zod: 'spec.addresses: Too big',
  },
  {
    name: 'pool without a directorGroup',
    object: pool((s) => delete s.directorGroup),
    server: 'spec.directorGroup: Required value',
    zod: 'spec.directorGroup: Invalid input',
  },
  {
    name: 'pool directorGroup not a DNS name',
    object: pool((s) => (s.directorGroup = 'Edge_1')),
    server: 'spec.directorGroup: Invalid value: "Edge_1": spec.directorGroup in body should match',
    zod: 'spec.directorGroup: Invalid string',
  },
  {
    name: 'pool namespace not a DNS label',
    object: pool((s) => (s.namespaces = ['Team A'])),
    server: 'spec.namespaces[0]: Invalid value: "Team A": spec.namespaces[0] in body should match',
    zod: 'spec.namespaces[0]: Invalid string',
  },
  {
    name: 'pool namespaceSelector In without values',
    object: pool((s) => (s.namespaceSelector = { matchExpressions: [{ key: 'team', operator: 'In' }] })),
    server: 'spec.namespaceSelector.matchExpressions[0].values: Invalid value: values must be non-empty for In and NotIn, and empty for Exists and DoesNotExist',
    zod: 'values must be non-empty for In and NotIn',
  },
  {
    name: 'pool autoAssign not a boolean',
    object: pool((s) => (s.autoAssign = 'yes')),
    server: 'spec.autoAssign: Invalid value: "string": spec.autoAssign in body must be of type boolean',
    zod: 'spec.autoAssign: Invalid input: expected boolean',
  },
];
