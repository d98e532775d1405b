// The benchmark's table: N services x M destinations, as our operations and as the `ipvsadm -R`
// rules for the same table; and our read-back written the way `ipvsadm -S -n` prints it, so that
// the two programmings can be compared line for line.
import type { IpvsDest, IpvsOp, IpvsService, IpvsServiceWithDests, ServiceAddressKey } from '../src/ipvs/types.js';

export interface BenchTable {
  services: { service: IpvsService; dests: IpvsDest[] }[];
}

/** VIPs 10.100.0.0/14, real servers 10.200.0.0/16 (ports vary so that every destination is distinct). */
export function makeTable(n: number, m: number): BenchTable {
  const services: BenchTable['services'] = [];
  for (let i = 0; i < n; i++) {
    const key: ServiceAddressKey = { af: 'IPv4', protocol: 'tcp', addr: `10.${100 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`, port: 80 };
    const dests: IpvsDest[] = [];
    for (let j = 0; j < m; j++) {
      dests.push({ addr: `10.200.${(i * m + j) >> 8 & 255}.${(i * m + j) & 255}`, port: 8000 + ((i * m + j) >> 16), fwd: 'masq', weight: 1 + (j % 10), upperThreshold: 0, lowerThreshold: 0 });
    }
    services.push({ service: { key, scheduler: 'wrr', flags: [], timeout: 0, netmask: 32 }, dests });
  }
  return { services };
}

export function tableOps(t: BenchTable): IpvsOp[] {
  const ops: IpvsOp[] = [];
  for (const { service, dests } of t.services) {
    ops.push({ op: 'add-service', service });
    for (const dest of dests) ops.push({ op: 'add-dest', key: service.key, dest });
  }
  return ops;
}

const hostPort = (addr: string, port: number): string => (addr.includes(':') ? `[${addr}]:${port}` : `${addr}:${port}`);
const FWD = { masq: '-m', route: '-g', tunnel: '-i', local: '-g' } as const;

function serviceArg(s: IpvsService): string {
  const k = s.key;
  if ('fwmark' in k) return `-f ${k.fwmark}`;
  const opt = k.protocol === 'tcp' ? '-t' : k.protocol === 'udp' ? '-u' : '--sctp-service';
  return `${opt} ${hostPort(k.addr, k.port)}`;
}

/**
 * `ipvsadm -S -n` lines for a table of the benchmark's shape (address services, no persistence,
 * no scheduler flags, no tunnels): what `ipvsadm -R` reads and what `ipvsadm -S` prints.
 */
export function ipvsadmLines(services: readonly (IpvsService & { dests: readonly IpvsDest[] })[]): string[] {
  const lines: string[] = [];
  for (const s of services) {
    if (s.flags.some((f) => f !== 'hashed') || s.peName || s.dests.some((d) => d.tunnel || d.upperThreshold || d.lowerThreshold)) {
      throw new Error('ipvsadmLines only writes the benchmark table shape');
    }
    lines.push(`-A ${serviceArg(s)} -s ${s.scheduler}`);
    for (const d of s.dests) lines.push(`-a ${serviceArg(s)} -r ${hostPort(d.addr, d.port)} ${FWD[d.fwd]} -w ${d.weight}`);
  }
  return lines;
}

export const flatTable = (t: BenchTable): IpvsServiceWithDests[] => t.services.map(({ service, dests }) => ({ ...service, dests }));
