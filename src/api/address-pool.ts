import { z } from 'zod';
import { v4Bytes, v6Bytes } from '../address/index.js';
import { LabelSelector, ObjectMeta, conditionsField, observedGenerationField, setOf } from './common.js';
import { dnsLabel, dnsSubdomain, ipv4Source, ipv6Source, isIPv4, isIPv6 } from './formats.js';
import { apiVersion } from './group.js';
import { celString, withRules } from './rules.js';

// An AddressPool hands LoadBalancer Services their addresses (MetalLB's IPAddressPool). Each
// entry of spec.addresses is a CIDR or a range, checked by the same regular expressions on both
// layers (src/api/formats.ts).
//
// Only the CEL of Kubernetes 1.29 (regular expressions, strings, arithmetic): the ip() and
// cidr() libraries need 1.31 for a new CRD, and the other kinds install on 1.29. So two checks
// run in the zod layer and the controller only (an IPv6 CIDR's host bits, an IPv6 range's
// order): such a pool is accepted by the API server and reported InvalidAddresses in status.

const ipv4Body = ipv4Source.slice(1, -1);
const ipv6Body = ipv6Source.slice(1, -1);
const ipv4CidrSource = `^${ipv4Body}/(3[0-2]|[12][0-9]|[0-9])$`;
const ipv6CidrSource = `^${ipv6Body}/(12[0-8]|1[01][0-9]|[1-9]?[0-9])$`;
const ipv4CidrRe = new RegExp(ipv4CidrSource);
const ipv6CidrRe = new RegExp(ipv6CidrSource);

/** `a.b.c.d` (a CEL string expression) as a 32-bit number: CEL has no IP ordering before 1.31. */
const celV4Value = (s: string) =>
  `(int(${s}.split('.')[0]) * 16777216 + int(${s}.split('.')[1]) * 65536 + int(${s}.split('.')[2]) * 256 + int(${s}.split('.')[3]))`;
/** 2^(32-p) for p = 0..32, indexed by the prefix length. */
const celV4BlockSizes = `[${Array.from({ length: 33 }, (_, p) => 2 ** (32 - p)).join(', ')}]`;

const isAddress = (s: string) => isIPv4(s) || isIPv6(s);
const isRange = (s: string) => s.includes('-');
const rangeParts = (s: string) => s.split('-');

/** Whether an entry's syntax is a CIDR or a range of two addresses (the family and order rules come after). */
export function poolEntrySyntaxOk(s: string): boolean {
  if (!isRange(s)) return ipv4CidrRe.test(s) || ipv6CidrRe.test(s);
  const p = rangeParts(s);
  return p.length === 2 && isAddress(p[0]!) && isAddress(p[1]!);
}

const celIsAddress = (e: string) => `(${e}.matches(${celString(ipv4Source)}) || ${e}.matches(${celString(ipv6Source)}))`;
const celLo = "self.split('-')[0]";
const celHi = "self.split('-')[1]";
const celRangeOk = `self.split('-').size() == 2 && ${celIsAddress(celLo)} && ${celIsAddress(celHi)}`;

/** The bytes of an address that passed the syntax check. */
const bytesOf = (s: string) => (isIPv4(s) ? v4Bytes(s)! : v6Bytes(s)!);

/** A valid CIDR's host bits are clear (both families; CEL checks IPv4 only). */
function hostBitsClear(s: string): boolean {
  const [addr = '', len = ''] = s.split('/');
  const b = bytesOf(addr);
  for (let bit = Number(len); bit < b.length * 8; bit++) if ((b[bit >> 3]! >> (7 - (bit & 7))) & 1) return false;
  return true;
}

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
      cel: `self.contains('-') ? (${celRangeOk}) : (self.matches(${celString(ipv4CidrSource)}) || self.matches(${celString(ipv6CidrSource)}))`,
      holds: poolEntrySyntaxOk,
      message: 'must be a CIDR (192.0.2.0/28, 2001:db8::/120) or a range of two addresses (192.0.2.10-192.0.2.20)',
    },
    {
      cel: `!self.matches(${celString(ipv4CidrSource)}) || ${celV4Value("self.split('/')[0]")} % ${celV4BlockSizes}[int(self.split('/')[1])] == 0`,
      holds: (s) => isRange(s) || !poolEntrySyntaxOk(s) || hostBitsClear(s),
      message: 'a CIDR must have no bits set after its prefix length (192.0.2.0/24, not 192.0.2.1/24)',
    },
    {
      cel: `!self.contains('-') || !(${celRangeOk}) || ${celLo}.contains(':') == ${celHi}.contains(':')`,
      holds: (s) => !isRange(s) || !poolEntrySyntaxOk(s) || isIPv6(rangeParts(s)[0]!) === isIPv6(rangeParts(s)[1]!),
      message: 'a range must start and end in the same address family',
    },
    {
      cel: `!self.contains('-') || !(${celRangeOk}) || ${celLo}.contains(':') || ${celHi}.contains(':') || ${celV4Value(celLo)} <= ${celV4Value(celHi)}`,
      holds: (s) => {
        if (!isRange(s) || !poolEntrySyntaxOk(s)) return true;
        const [a, b] = rangeParts(s).map(bytesOf);
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
