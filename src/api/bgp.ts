import { z } from 'zod';
import { LabelSelector, listMapOf, setOf } from './common.js';
import { dnsSubdomain, ipAddress, ipv4Source, isIPv4, portNumber } from './formats.js';
import { celString, withRules } from './rules.js';
import { secretKeyRef } from './secret-ref.js';

// DirectorGroup.spec.bgp: active-active directors behind the routers' ECMP. Every director
// announces the VIPs it can serve through a BIRD 2 daemon the agent configures (docs/bgp.md).

/** 4-byte ASN; 0 and 23456 (AS_TRANS, RFC 6793) are reserved. */
const asn = (description: string) =>
  withRules(z.int().min(1).max(4294967295).describe(description), [
    { cel: 'self != 23456', holds: (v) => v !== 23456, message: 'ASN 23456 is AS_TRANS (RFC 6793), reserved for 2-byte speakers' },
  ]);

const routerId = (description: string) =>
  withRules(z.string().max(15).describe(description), [
    { cel: `self.matches(${celString(ipv4Source)})`, holds: (s) => isIPv4(s), message: 'a BGP router id is 32 bits written as an IPv4 address (for example 192.0.2.1)' },
  ]);

const u16 = '(6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[0-9]{1,4})';
/** A standard community (RFC 1997): two 16-bit numbers. */
export const communitySource = `^${u16}:${u16}$`;
const communityRe = new RegExp(communitySource);

/** IPv6 link-local, fe80::/10. */
const linkLocalSource = '^[fF][eE][89aAbB][0-9a-fA-F]:';
const linkLocalRe = new RegExp(linkLocalSource);

const PasswordSecretRef = secretKeyRef('Key in the Secret holding the TCP MD5 password (RFC 2385).')
  .describe('TCP MD5 password of the session, taken from a Secret; the peer must use the same.');

const Peer = withRules(
  z
    .object({
      address: ipAddress('Address of the router (BGP neighbor). It announces the VIPs of its own family.'),
      asn: asn('The router\'s ASN; equal to localASN makes an iBGP session.'),
      port: portNumber('TCP port of the router\'s BGP (179).').default(179),
      passwordSecretRef: PasswordSecretRef.optional(),
    })
    .describe('One BGP router the directors peer with.'),
  [
    {
      cel: `!self.address.matches(${celString(linkLocalSource)})`,
      holds: (p) => !linkLocalRe.test(p.address),
      message: 'a link-local peer address needs an interface scope, which is not supported: use a global address',
      fieldPath: '.address',
    },
  ],
);

const peersOf = (description: string) => listMapOf(Peer, ['address'], 16, description);

const Bfd = z
  .object({
    enabled: z.boolean().default(true).describe('Run BFD on every session, so a dead director\'s route is withdrawn in intervalMs x multiplier instead of the hold time.'),
    intervalMs: z.int().min(10).max(10000).default(100).describe('BFD transmit and receive interval in milliseconds.'),
    multiplier: z.int().min(1).max(255).default(3).describe('BFD detection multiplier: missed packets before the session is down.'),
  })
  .describe('Bidirectional Forwarding Detection (RFC 5880) on the BGP sessions.');

const NodeOverride = withRules(
  z
    .object({
      nodeName: dnsSubdomain('The node this entry applies to.').optional(),
      nodeSelector: LabelSelector.optional().describe('Nodes this entry applies to (a rack, a site).'),
      routerId: routerId('BGP router id of these directors (default: chosen by BIRD from the node\'s IPv4 addresses).').optional(),
      localASN: asn('ASN of these directors instead of localASN.').optional(),
      peers: peersOf('Routers these directors peer with instead of the group\'s peers.').optional(),
    })
    .describe('Settings for some directors only; the first entry that matches a node applies to it.'),
  [
    {
      cel: 'has(self.nodeName) != has(self.nodeSelector)',
      holds: (o) => (o.nodeName === undefined) !== (o.nodeSelector === undefined),
      message: 'exactly one of nodeName or nodeSelector must be set',
    },
  ],
);

export const Bgp = withRules(
  z
    .object({
      localASN: asn('ASN of the directors (BIRD local as).'),
      peers: peersOf('Routers every director peers with (unless a node override gives its own).'),
      holdTimeSeconds: z.int().min(3).max(65535).default(9).describe('BGP hold time in seconds proposed to the routers.'),
      keepaliveSeconds: z.int().min(1).max(21845).default(3).describe('BGP keepalive interval in seconds; at most a third of the hold time.'),
      bfd: Bfd.prefault({}),
      communities: setOf(
        withRules(z.string().max(11).describe('A standard community, ASN:value (for example 65000:100).'), [
          { cel: `self.matches(${celString(communitySource)})`, holds: (s) => communityRe.test(s), message: 'must be a standard BGP community: two numbers 0..65535 as ASN:value (for example 65000:100)' },
        ]),
        32,
        'Standard communities (RFC 1997) attached to every announced VIP route.',
      ).optional(),
      nodes: z.array(NodeOverride).max(64).optional().describe('Per-node settings for racks or sites that differ: router id, ASN, peers. The first matching entry applies.'),
      drainSeconds: z
        .int()
        .min(0)
        .max(300)
        .default(3)
        .describe('On a graceful stop the director withdraws its routes, keeps serving this many seconds while the routers move its flows to the other directors, then stops. Keep it below the pod\'s terminationGracePeriodSeconds.'),
      allowNonConsistentScheduler: z
        .boolean()
        .default(false)
        .describe('Accept VirtualServices whose scheduler is not mh or sh. Off by default: when the routers move a flow to another director (any next-hop change rehashes), only a consistent hash picks the same real server there; any other scheduler breaks those connections.'),
    })
    .describe('Announce the group\'s VIPs over BGP from every director (active-active behind the routers\' ECMP), through a BIRD 2 daemon the agent configures.'),
  [
    {
      cel: 'self.holdTimeSeconds >= 3 * self.keepaliveSeconds',
      holds: (b) => b.holdTimeSeconds >= 3 * b.keepaliveSeconds,
      message: 'holdTimeSeconds must be at least 3 times keepaliveSeconds (RFC 4271)',
      fieldPath: '.keepaliveSeconds',
    },
    {
      cel: 'size(self.peers) > 0',
      holds: (b) => b.peers.length > 0,
      message: 'at least one peer is needed',
      fieldPath: '.peers',
      reason: 'FieldValueRequired',
    },
  ],
);
export type Bgp = z.infer<typeof Bgp>;
export type BgpPeer = z.infer<typeof Peer>;
