// Stable string keys for IPVS services and destinations: used in the ownership record and in maps.
import type { DestKey, VirtualServiceKey } from '../ipvs/types.js';

export function serviceKeyString(k: VirtualServiceKey): string {
  if ('fwmark' in k) return `fwmark/${k.af}/${k.fwmark}`;
  return `${k.protocol}/${k.addr.includes(':') ? `[${k.addr}]` : k.addr}:${k.port}`;
}

export function destKeyString(d: DestKey): string {
  return `${d.addr.includes(':') ? `[${d.addr}]` : d.addr}:${d.port}`;
}
