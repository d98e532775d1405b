import { z } from 'zod';
import { parseV4, v6Bytes } from '../address/index.js';
import { LabelSelector, ObjectMeta, conditionsField, observedGenerationField, setOf } from './common.js';
import { dnsLabel, dnsSubdomain, isIPv4, isIPv6 } from './formats.js';
import { apiVersion } from './group.js';
import { withRules } from './rules.js';

// An AddressPool hands LoadBalancer Services their addresses (MetalLB's IPAddressPool). Each
// entry of spec.addresses is a CIDR or a range; the API server checks them with the Kubernetes
// CEL ip/cidr libraries and the zod layer with src/address, so both refuse the same text.

/** `a.b.c.d` as a 32-bit number for CEL, which has no IP ordering. */
const celV4Value = (s: string) =>
  `(int(${s}.split('.')[0]) * 16777216 + int(${s}.split('.')[1]) * 65536 + int(${s}.split('.')[2]) * 256 + int(${s}.split('.')[3]))`;

/** One side of a range, as bytes (IPv4: 4, IPv6: 16), or undefined. */
function rangeEnd(s: string): Buffer | undefined {
  if (isIPv4(s)) {
    const v = parseV4(s);
    const b = Buffer.alloc(4);
    b.writeUInt32BE(v, 0);
    return b;
  }
  // IPv4-mapped IPv6 text is refused as by the Kubernetes CEL isIP: it would name an IPv4 host.
  if (isIPv6(s) && !s.includes('.')) return v6Bytes(s);
  return undefined;
}

/** A CIDR whose address is the network (no host bits set), or undefined. */
function cidrParts(s: string): { bytes: Buffer; prefix: number } | undefined {
  const slash = s.indexOf('/');
  if (slash < 0 || !/^[0-9]{1,3}$/.test(s.slice(slash + 1))) return undefined;
  const bytes = rangeEnd(s.slice(0, slash));
  const prefix = Number(s.slice(slash + 1));
  if (!bytes || prefix > bytes.length * 8 || (s.slice(slash + 1).length > 1 && s[slash + 1] === '0')) return undefined;
  return { bytes, prefix };
}

function hostBitsClear(c: { bytes: Buffer; prefix: number }): boolean {
  for (let bit = c.prefix; bit < c.bytes.length * 8; bit++) if ((c.bytes[bit >> 3]! >> (7 - (bit & 7))) & 1) return false;
  return true;
}

const isRange = (s: string) => s.includes('-');
const rangeParts = (s: string) => s.split('-');

/** Whether an entry's syntax is a CIDR or a range of two addresses (the family and order rules come after). */
export function poolEntrySyntaxOk(s: string): boolean {
  if (!isRange(s)) return cidrParts(s) !== undefined;
  const p = rangeParts(s);
  return p.length === 2 && rangeEnd(p[0]!) !== undefined && rangeEnd(p[1]!) !== undefined;
}

const syntaxCel =
  "self.contains('-') ? (self.split('-').size() == 2 && isIP(self.split('-')[0]) && isIP(self.split('-')[1])) : isCIDR(self)";

const PoolEntry = withRules(
  z
    .string()
    .min(1)
    .max(100)
    .describe(
      'A CIDR (192.0.2.0/28, 2001:db8:1::/120) or an inclusive range of two addresses of one family (192.0.2.10-192.0.2.20). Every address in it may be handed out, the network and broadcast addresses of an IPv4 CIDR too.',
    ),
  [
    {
      cel: syntaxCel,
      holds: poolEntrySyntaxOk,
      message: 'must be a CIDR (192.0.2.0/28, 2001:db8::/120) or a range of two addresses (192.0.2.10-192.0.2.20)',
    },
    {
      cel: `self.contains('-') || !isCIDR(self) || cidr(self) == cidr(self).masked()`,
      holds: (s) => {
        if (isRange(s)) return true;
        const c = cidrParts(s);
        return !c || hostBitsClear(c);
      },
      message: 'a CIDR must have no bits set after its prefix length (192.0.2.0/24, not 192.0.2.1/24)',
    },
    {
      cel: `!self.contains('-') || self.split('-').size() != 2 || !isIP(self.split('-')[0]) || !isIP(self.split('-')[1]) || ip(self.split('-')[0]).family() == ip(self.split('-')[1]).family()`,
      holds: (s) => {
        if (!poolEntrySyntaxOk(s) || !isRange(s)) return true;
        const [a, b] = rangeParts(s).map(rangeEnd);
        return a!.length === b!.length;
      },
      message: 'a range must start and end in the same address family',
    },
    {
      cel: `!self.contains('-') || self.split('-').size() != 2 || !isIP(self.split('-')[0]) || !isIP(self.split('-')[1]) || ip(self.split('-')[0]).family() != 4 || ip(self.split('-')[1]).family() != 4 || ${celV4Value("self.split('-')[0]")} <= ${celV4Value("self.split('-')[1]")}`,
      holds: (s) => {
        if (!poolEntrySyntaxOk(s) || !isRange(s)) return true;
        const [a, b] = rangeParts(s).map(rangeEnd);
        return a!.length !== b!.length || Buffer.compare(a!, b!) <= 0;
      },
      message: 'a range must not end before it starts',
    },
  ],
);

export const AddressPoolSpec = withRules(
  z
    .object({
      addresses: setOf(
        PoolEntry,
        64,
        'The addresses of the pool: CIDRs and ranges, IPv4 and IPv6 mixed as needed. Two pools must not overlap: the younger of two overlapping pools is not used (status says which).',
      ),
      directorGroup: dnsSubdomain(
        "Name of the DirectorGroup whose directors announce (VRRP) and serve this pool's addresses: the directorGroup of every VirtualService derived from a Service that got an address here.",
      ),
      autoAssign: z
        .boolean()
        .default(true)
        .describe(
          'Hand addresses out to any Service that may use this pool. False: only to Services that ask for this pool (annotation lvs.dev/address-pool) or for one of its addresses (lvs.dev/load-balancer-ips, spec.loadBalancerIP).',
        ),
      namespaces: setOf(
        dnsLabel('A namespace name.'),
        64,
        'Namespaces whose Services may take addresses from this pool. With namespaceSelector too, a namespace in either qualifies. Neither: every namespace.',
      ).optional(),
      namespaceSelector: LabelSelector.optional().describe(
        'Namespaces, by their labels, whose Services may take addresses from this pool. With namespaces too, a namespace in either qualifies. Neither: every namespace.',
      ),
    })
    .describe('Desired state of the address pool.'),
  [
    {
      cel: 'self.addresses.size() >= 1',
      holds: (s) => s.addresses.length >= 1,
      message: 'addresses needs at least one CIDR or range',
      fieldPath: '.addresses',
      reason: 'FieldValueRequired',
    },
  ],
);
export type AddressPoolSpec = z.infer<typeof AddressPoolSpec>;
export type AddressPoolSpecInput = z.input<typeof AddressPoolSpec>;

const PoolConflict = z
  .object({
    pool: z.string().max(253).describe('The other pool.'),
    addresses: z.string().max(100).describe('The entry of this pool that overlaps it.'),
  })
  .describe('An overlap with another pool.');

export const AddressPoolStatus = z
  .object({
    observedGeneration: observedGenerationField(),
    conditions: conditionsField(),
    allocated: z.int().min(0).optional().describe('Addresses of this pool held by Services (a shared address counts once).'),
    free: z
      .string()
      .max(40)
      .optional()
      .describe('Addresses of this pool free to hand out, as a decimal number (an IPv6 pool can hold more than an integer field does).'),
    conflicts: z
      .array(PoolConflict)
      .max(64)
      .optional()
      .describe('Overlaps with older pools; while there are any, this pool hands out nothing (Ready is False, reason Conflict).'),
  })
  .describe('Observed state of the address pool.');
export type AddressPoolStatus = z.infer<typeof AddressPoolStatus>;

export const AddressPool = z
  .object({
    apiVersion: z.literal(apiVersion).describe('lvs.dev/v1alpha1'),
    kind: z.literal('AddressPool').describe('AddressPool'),
    metadata: ObjectMeta,
    spec: AddressPoolSpec,
    status: AddressPoolStatus.optional(),
  })
  .describe(
    'Addresses the controller hands to Services of type LoadBalancer (loadBalancerClass lvs.dev/ipvs), each announced by the directors of one DirectorGroup, like a MetalLB IPAddressPool.',
  );
export type AddressPool = z.infer<typeof AddressPool>;
export type AddressPoolInput = z.input<typeof AddressPool>;
