import { z } from 'zod';
import { setOf } from './common.js';
import { portNumber } from './formats.js';
import { withRules, type Rule } from './rules.js';

export const forwardingMethods = ['NAT', 'DR', 'TUN'] as const;
export const tunnelTypes = ['ipip', 'gue', 'gre'] as const;
export const tunnelFlags = ['nocsum', 'csum', 'remcsum'] as const;

interface ForwardingShape {
  method: (typeof forwardingMethods)[number];
  tunnelType?: (typeof tunnelTypes)[number] | undefined;
  tunnelPort?: number | undefined;
  tunnelFlags?: (typeof tunnelFlags)[number][] | undefined;
  snat?: boolean | undefined;
}

const fields = {
  tunnelType: z
    .enum(tunnelTypes)
    .optional()
    .describe('Encapsulation for TUN: ipip (the default when omitted), gue (needs tunnelPort) or gre. Only with method TUN.'),
  tunnelPort: portNumber('Destination UDP port of GUE encapsulation; required with tunnelType gue, not allowed otherwise.').optional(),
  tunnelFlags: setOf(
    z.enum(tunnelFlags).describe('A tunnel checksum flag.'),
    3,
    'Tunnel checksum handling, at most one of nocsum, csum, remcsum (ipvsadm --tun-nocsum/--tun-csum/--tun-remcsum); gue and gre only, remcsum gue only.',
  ).optional(),
};

const rules: Rule<ForwardingShape>[] = [
  {
    cel: "!has(self.tunnelType) || self.method == 'TUN'",
    holds: (f) => f.tunnelType === undefined || f.method === 'TUN',
    message: 'tunnelType is only allowed with method TUN',
    fieldPath: '.tunnelType',
    reason: 'FieldValueForbidden',
  },
  {
    cel: "has(self.tunnelPort) == (has(self.tunnelType) && self.tunnelType == 'gue')",
    holds: (f) => (f.tunnelPort !== undefined) === (f.tunnelType === 'gue'),
    message: 'tunnelPort is required with tunnelType gue and not allowed otherwise',
    fieldPath: '.tunnelPort',
  },
  {
    cel: "!has(self.tunnelFlags) || size(self.tunnelFlags) == 0 || (has(self.tunnelType) && self.tunnelType in ['gue', 'gre'])",
    holds: (f) => !f.tunnelFlags?.length || f.tunnelType === 'gue' || f.tunnelType === 'gre',
    message: 'tunnelFlags are only allowed with tunnelType gue or gre',
    fieldPath: '.tunnelFlags',
    reason: 'FieldValueForbidden',
  },
  {
    cel: '!has(self.tunnelFlags) || size(self.tunnelFlags) <= 1',
    holds: (f) => (f.tunnelFlags?.length ?? 0) <= 1,
    message: 'tunnelFlags takes at most one of nocsum, csum, remcsum',
    fieldPath: '.tunnelFlags',
  },
  {
    cel: "!has(self.tunnelFlags) || !('remcsum' in self.tunnelFlags) || (has(self.tunnelType) && self.tunnelType == 'gue')",
    holds: (f) => !f.tunnelFlags?.includes('remcsum') || f.tunnelType === 'gue',
    message: 'tunnelFlag remcsum is only allowed with tunnelType gue',
    fieldPath: '.tunnelFlags',
    reason: 'FieldValueForbidden',
  },
];

// Only the service's forwarding carries snat: it is a property of the service's NAT traffic, so a
// RealServer override (a whole block) neither sets nor clears it.
const snatField = z
  .boolean()
  .optional()
  .describe(
    'Source NAT for method NAT: the director rewrites the source of what it sends to the NAT real servers (nftables, in a table of the agent\'s own), so their replies come back through it whatever their default route (pods on any node). The source is the DirectorGroup\'s gateway address on the real server\'s subnet if there is one (it moves with VRRP, so synced connections survive a failover), else the director\'s own address on the way out (masquerade). Real servers then see that address, not the client\'s. Off when omitted; Service-derived VirtualServices set it. Only with method NAT.',
  );

const snatRule: Rule<ForwardingShape> = {
  cel: "!has(self.snat) || !self.snat || self.method == 'NAT'",
  holds: (f) => f.snat !== true || f.method === 'NAT',
  message: 'snat is only allowed with method NAT (DR and TUN real servers answer clients directly)',
  fieldPath: '.snat',
  reason: 'FieldValueForbidden',
};

const methodDescription =
  'Packet forwarding: NAT (masquerading, the director rewrites addresses, real servers route replies back through it unless the service sets snat), DR (direct routing, same L2 segment, real servers hold the VIP on lo and answer clients directly) or TUN (IP tunneling to the real servers).';

/** Forwarding of a VirtualService: the default for all its real servers; method defaults to NAT. */
export const Forwarding = withRules(
  z
    .object({ method: z.enum(forwardingMethods).default('NAT').describe(methodDescription), ...fields, snat: snatField })
    .describe('How packets reach the real servers (ipvsadm -m/-g/-i).'),
  [...rules, snatRule],
);
export type Forwarding = z.infer<typeof Forwarding>;

/** Forwarding override of one RealServer: method is required, nothing is inherited field by field. */
export const ForwardingOverride = withRules(
  z
    .object({ method: z.enum(forwardingMethods).describe(methodDescription), ...fields })
    .describe("Overrides the VirtualService's forwarding for this real server; the whole block replaces it."),
  rules,
);
export type ForwardingOverride = z.infer<typeof ForwardingOverride>;
