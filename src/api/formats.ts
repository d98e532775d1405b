import { z } from 'zod';
import type { IpFamily } from '../address/index.js';
import { celString, withRules } from './rules.js';

// Regular expressions shared by the zod layer (JavaScript RegExp) and CEL (RE2 via
// `matches`). They avoid lookarounds and backslash escapes ("[.]" instead of "\."),
// so the same source means the same thing in both engines and in a CEL string literal.

const octet = '(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])';
export const ipv4Source = `^(${octet}[.]){3}${octet}$`;

const h = '[0-9a-fA-F]{1,4}';
const v4tail = `(${octet}[.]){3}${octet}`;
/** RFC 4291 text forms, including `::` compression and an embedded IPv4 tail; no zone ids. */
export const ipv6Source =
  '^(' +
  [
    `(${h}:){7}${h}`,
    `(${h}:){1,7}:`,
    `(${h}:){1,6}:${h}`,
    `(${h}:){1,5}(:${h}){1,2}`,
    `(${h}:){1,4}(:${h}){1,3}`,
    `(${h}:){1,3}(:${h}){1,4}`,
    `(${h}:){1,2}(:${h}){1,5}`,
    `${h}:(:${h}){1,6}`,
    `:((:${h}){1,7}|:)`,
    `(${h}:){6}${v4tail}`,
    `(${h}:){1,5}:${v4tail}`,
    `(${h}:){1,4}(:${h}){1}:${v4tail}`,
    `(${h}:){1,3}(:${h}){1,2}:${v4tail}`,
    `(${h}:){1,2}(:${h}){1,3}:${v4tail}`,
    `${h}:(:${h}){1,4}:${v4tail}`,
    `::(${h}:){0,5}${v4tail}`,
  ].join('|') +
  ')$';

/** Dotted IPv4 netmasks with a contiguous prefix of 1..32 bits. */
export const ipv4NetmaskSource = (() => {
  const masks: string[] = [];
  for (let bits = 1; bits <= 32; bits++) {
    const n = bits === 32 ? 0xffffffff : (0xffffffff << (32 - bits)) >>> 0;
    masks.push([24, 16, 8, 0].map((s) => String((n >>> s) & 0xff)).join('[.]'));
  }
  return `^(${masks.join('|')})$`;
})();

const ipv4Re = new RegExp(ipv4Source);
const ipv6Re = new RegExp(ipv6Source);
const ipv4NetmaskRe = new RegExp(ipv4NetmaskSource);

/** The program's one family vocabulary (src/address), which is also the API's. */
export type { IpFamily } from '../address/index.js';

export function isIPv4(s: string): boolean {
  return ipv4Re.test(s);
}
export function isIPv6(s: string): boolean {
  return ipv6Re.test(s);
}
export function isIPv4Netmask(s: string): boolean {
  return ipv4NetmaskRe.test(s);
}
/** Family of a textual address that already passed validation: IPv6 text always holds a colon. */
export function familyOf(address: string): IpFamily {
  return address.includes(':') ? 'IPv6' : 'IPv4';
}

/** The longest textual IPv6 address (IPv4-mapped, uncompressed) is 45 characters. */
export const maxAddressLength = 45;

/** An IPv4 or IPv6 address, checked by the same regular expressions on both layers. */
export function ipAddress(description: string) {
  return withRules(z.string().max(maxAddressLength).describe(description), [
    {
      cel: `self.matches(${celString(ipv4Source)}) || self.matches(${celString(ipv6Source)})`,
      holds: (s) => isIPv4(s) || isIPv6(s),
      message: 'must be an IPv4 or IPv6 address (for example 192.0.2.10 or 2001:db8::10)',
    },
  ]);
}

/**
 * An address in status, written by our own agents: length-bounded text without the
 * regex rule, which multiplied by the list sizes of status would exceed the CRD's CEL
 * cost budget.
 */
export function addressText(description: string) {
  return z.string().min(1).max(maxAddressLength).describe(description);
}

const ipv4Body = `(${octet}[.]){3}${octet}`;
/** An address with an optional prefix length: `10.0.1.1/24`, `2001:db8::1/64` (keepalived virtual_ipaddress). */
export const ipv4PrefixSource = `^${ipv4Body}(/(3[0-2]|[12][0-9]|[0-9]))?$`;
export const ipv6PrefixSource = `${ipv6Source.slice(0, -1)}(/(12[0-8]|1[01][0-9]|[1-9]?[0-9]))?$`;
const ipv4PrefixRe = new RegExp(ipv4PrefixSource);
const ipv6PrefixRe = new RegExp(ipv6PrefixSource);

/** An IPv4 or IPv6 address with an optional prefix length (omitted: a host address, /32 or /128). */
export function ipAddressWithPrefix(description: string) {
  return withRules(z.string().max(maxAddressLength + 4).describe(description), [
    {
      cel: `self.matches(${celString(ipv4PrefixSource)}) || self.matches(${celString(ipv6PrefixSource)})`,
      holds: (s) => ipv4PrefixRe.test(s) || ipv6PrefixRe.test(s),
      message: 'must be an IPv4 or IPv6 address with an optional prefix length (for example 10.0.1.1/24 or 2001:db8:1::1/64)',
    },
  ]);
}

/** A TCP/UDP/SCTP port number. */
export function portNumber(description: string) {
  return z.int().min(1).max(65535).describe(description);
}

/** RFC 1123 DNS subdomain, the syntax of most Kubernetes object names (Secrets, Nodes, DirectorGroups). */
export function dnsSubdomain(description: string) {
  return z
    .string()
    .min(1)
    .max(253)
    .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/)
    .describe(description);
}

/** RFC 1035 DNS label, the syntax of Service names. */
export function dnsLabel(description: string) {
  return z
    .string()
    .min(1)
    .max(63)
    .regex(/^[a-z]([-a-z0-9]*[a-z0-9])?$/)
    .describe(description);
}

/** A Linux network interface name (IFNAMSIZ is 16 including the terminating NUL). */
export function interfaceName(description: string) {
  return z
    .string()
    .min(1)
    .max(15)
    .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/)
    .describe(description);
}

/** A port given by number or by name (IANA_SVC_NAME), like `targetPort` of a Service. */
export function portNumberOrName(description: string) {
  const name = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$';
  return withRules(
    z.union([z.int(), z.string().max(15)]).meta({ description, 'x-kubernetes-int-or-string': true, maxLength: 15 }),
    [
      {
        cel: `type(self) == int ? (self >= 1 && self <= 65535) : self.matches(${celString(name)}) && self.matches('[a-z]')`,
        holds: (v) =>
          typeof v === 'number' ? v >= 1 && v <= 65535 : new RegExp(name).test(v) && /[a-z]/.test(v),
        message: 'must be a port number 1..65535 or a port name (lower case letters, digits and "-", at most 15)',
      },
    ],
  );
}
