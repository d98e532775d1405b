// Stable string keys for IPVS services and destinations: used in the ownership record and in maps.
import type { DestKey, VirtualServiceKey } from '../ipvs/types.js';

export function serviceKeyString(k: VirtualServiceKey): string {
  if ('fwmark' in k) return `fwmark/${k.af}/${k.fwmark}`;
  return `${k.protocol}/${k.addr.includes(':') ? `[${k.addr}]` : k.addr}:${k.port}`;
}

export function destKeyString(d: DestKey): string {
  return `${d.addr.includes(':') ? `[${d.addr}]` : d.addr}:${d.port}`;
}

/** Inverse of serviceKeyString. */
export function parseServiceKey(text: string): VirtualServiceKey {
  const fw = /^fwmark\/(inet6?)\/(\d+)$/.exec(text);
  if (fw) return { af: fw[1] as 'inet' | 'inet6', fwmark: Number(fw[2]) };
  const m = /^(tcp|udp|sctp)\/(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(text);
  if (!m) throw new Error(`not a service key: ${text}`);
  return m[2] !== undefined
    ? { af: 'inet6', protocol: m[1] as 'tcp' | 'udp' | 'sctp', addr: m[2], port: Number(m[4]) }
    : { af: 'inet', protocol: m[1] as 'tcp' | 'udp' | 'sctp', addr: m[3]!, port: Number(m[4]) };
}
