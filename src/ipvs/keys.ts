// Stable string identities for services and destinations (map keys, log fields), on canonical
// addresses so that "2001:DB8::1" and "2001:db8::1" are the same service.
import { canonicalAddr } from './codec/addr.js';
import type { DestKey, VirtualServiceKey } from './types.js';

export function serviceId(k: VirtualServiceKey): string {
  return 'fwmark' in k ? `${k.af}/fwmark/${k.fwmark}` : `${k.af}/${k.protocol}/${canonicalAddr(k.addr)}/${k.port}`;
}

export function destId(d: DestKey): string {
  return `${canonicalAddr(d.addr)}/${d.port}`;
}

/** The key as the kernel reports it back: canonical address, and only af+fwmark for fwmark services. */
export function canonicalServiceKey(k: VirtualServiceKey): VirtualServiceKey {
  return 'fwmark' in k ? { af: k.af, fwmark: k.fwmark } : { af: k.af, protocol: k.protocol, addr: canonicalAddr(k.addr), port: k.port };
}
