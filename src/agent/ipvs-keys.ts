// Stable string keys for IPVS services and destinations: used in the ownership record and in maps.
import type { DestKey, VirtualServiceKey } from '../ipvs/types.js';

const keyTexts = new WeakMap<VirtualServiceKey, string>();

/** Memoised by key object: the agent keys the same desired services on every pass. */
export function serviceKeyString(k: VirtualServiceKey): string {
  let text = keyTexts.get(k);
  if (text === undefined) {
    text = 'fwmark' in k ? `fwmark/${k.af}/${k.fwmark}` : `${k.protocol}/${k.addr.includes(':') ? `[${k.addr}]` : k.addr}:${k.port}`;
    keyTexts.set(k, text);
  }
  return text;
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
