// The one key of an IPVS service and of a destination: map keys in the diff, the fake kernel and
// the ownership record on disk (so the text format is stable), and the one label people read
// (status, conflicts, errors). Keys are built on canonical addresses, so "2001:DB8::1" and the
// kernel's "2001:db8::1" are the same service.
import { canonicalIp, formatHostPort, type IpFamily } from '../address/index.js';
import type { DestKey, Protocol, VirtualServiceKey } from './types.js';

const keyTexts = new WeakMap<VirtualServiceKey, string>();

/**
 * The ownership record's family words: fwmark keys are written `fwmark/inet6/7` as by every
 * version before the one family vocabulary, so records on disk and their readers stay compatible.
 */
const recordFamily = { IPv4: 'inet', IPv6: 'inet6' } as const satisfies Record<IpFamily, string>;

/** `tcp/192.0.2.10:80`, `tcp/[2001:db8::1]:80`, `fwmark/inet6/7`. Memoised by key object: the agent keys the same desired services on every pass. */
export function serviceKeyString(k: VirtualServiceKey): string {
  let text = keyTexts.get(k);
  if (text === undefined) {
    text = 'fwmark' in k ? `fwmark/${recordFamily[k.af]}/${k.fwmark}` : `${k.protocol}/${formatHostPort(canonicalIp(k.addr), k.port)}`;
    keyTexts.set(k, text);
  }
  return text;
}

/** `192.0.2.11:8080`, `[2001:db8::a]:8080`: unique within one service. */
export function destKeyString(d: DestKey): string {
  return formatHostPort(canonicalIp(d.addr), d.port);
}

/** Inverse of serviceKeyString (the ownership record stores these). */
export function parseServiceKey(text: string): VirtualServiceKey {
  const fw = /^fwmark\/(inet6?)\/(\d+)$/.exec(text);
  // The record's family words (recordFamily), not the program's.
  if (fw) return { af: fw[1] === 'inet6' ? 'IPv6' : 'IPv4', fwmark: Number(fw[2]) };
  const m = /^(tcp|udp|sctp)\/(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(text);
  if (!m) throw new Error(`not a service key: ${text}`);
  const protocol = m[1] as Protocol;
  return m[2] !== undefined
    ? { af: 'IPv6', protocol, addr: m[2], port: Number(m[4]) }
    : { af: 'IPv4', protocol, addr: m[3]!, port: Number(m[4]) };
}

/** The key as the kernel reports it back: canonical address, and only af+fwmark for fwmark services. */
export function canonicalServiceKey(k: VirtualServiceKey): VirtualServiceKey {
  return 'fwmark' in k ? { af: k.af, fwmark: k.fwmark } : { af: k.af, protocol: k.protocol, addr: canonicalIp(k.addr), port: k.port };
}

/** What people read, the way `ipvsadm -Ln` names services: `TCP 192.0.2.10:80`, `FWM 7 IPv6`. */
export function serviceKeyLabel(k: VirtualServiceKey): string {
  if ('fwmark' in k) return `FWM ${k.fwmark} ${k.af}`;
  return `${k.protocol.toUpperCase()} ${formatHostPort(k.addr, k.port)}`;
}
