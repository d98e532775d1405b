// What a lab must hold for one imported configuration, read from the imported objects alone:
// the director's interfaces, the listeners the health checks need, which real servers' checks
// can pass, and how to compare two directors' IPVS tables and addresses.
import type { ImportedObject } from '../../../src/import/index.js';

type Spec = Record<string, unknown>;
type Check = { type?: string; port?: number; http?: { digest?: string; urls?: { digest?: string }[] } };

export interface Listener { kind: 'tcp' | 'http' | 'https' | 'dns' | 'udp'; host: string; port: number }

export interface Plan {
  /** The DirectorGroup's interface first: the director's default routes go through it. */
  interfaces: string[];
  /** Every real server address. */
  hosts: string[];
  listeners: Listener[];
  /** Real server addresses each of whose checks a listener answers (none is Ping or None). */
  checked: string[];
  /** Real server addresses whose check wants a page digest: no lab page has that MD5, so they stay down. */
  digest: string[];
  /** Addresses the DirectorGroups put on the director: service VIPs, fwmark VIPs, gateway addresses. */
  addresses: string[];
}

const spec = (o: ImportedObject): Spec => (o as { spec?: Spec }).spec ?? {};
const kindOf: Record<string, Listener['kind']> = { TCP: 'tcp', SMTP: 'tcp', HTTP: 'http', HTTPS: 'https', DNS: 'dns', UDP: 'udp' };

function checksOf(s: Spec): Check[] | undefined {
  if (Array.isArray(s.healthChecks)) return s.healthChecks as Check[];
  return s.healthCheck ? [s.healthCheck as Check] : undefined;
}

export function planOf(objects: ImportedObject[]): Plan {
  const groups = objects.filter((o) => o.kind === 'DirectorGroup').map(spec);
  const services = objects.filter((o) => o.kind === 'VirtualService').map(spec);
  const reals = objects.filter((o) => o.kind === 'RealServer');
  const interfaces = new Set<string>();
  for (const g of groups) {
    interfaces.add(g.interface as string);
    for (const a of (g.gatewayAddresses as { interface: string }[] | undefined) ?? []) interfaces.add(a.interface);
    const sync = g.sync as { interface?: string } | undefined;
    if (sync?.interface) interfaces.add(sync.interface);
    for (const t of ((g.vrrp as Spec | undefined)?.trackInterfaces as { name: string }[] | undefined) ?? []) interfaces.add(t.name);
  }
  const listeners = new Map<string, Listener>();
  const passes = new Map<string, boolean>();
  const digest = new Set<string>();
  for (const r of reals) {
    const rs = spec(r);
    const address = rs.address as string;
    const label = r.metadata.labels ?? {};
    const selecting = services.filter((v) => Object.entries(((v.backends as Spec).realServerSelector as { matchLabels: Record<string, string> }).matchLabels).every(([k, val]) => label[k] === val));
    for (const v of selecting) {
      const checks = checksOf(rs) ?? checksOf(v) ?? [];
      const live = checks.filter((c) => c.type !== 'None');
      const ok = live.length > 0 && live.every((c) => kindOf[c.type ?? ''] !== undefined);
      passes.set(address, (passes.get(address) ?? true) && ok);
      for (const c of live) {
        if (c.http?.digest !== undefined || c.http?.urls?.some((u) => u.digest !== undefined)) digest.add(address);
        const kind = kindOf[c.type ?? ''];
        const port = c.port ?? (rs.port as number | undefined) ?? (v.port as number | undefined);
        if (!kind || port === undefined) continue;
        const key = `${address} ${port} ${kind === 'udp' || kind === 'dns' ? 'udp' : 'tcp'}`;
        // An HTTP check and a bare connect on one port: the HTTP server answers both.
        if (!listeners.has(key) || kind !== 'tcp') listeners.set(key, { kind, host: address, port });
      }
    }
  }
  const addresses = new Set<string>();
  for (const v of services) {
    if (typeof v.vip === 'string') addresses.add(v.vip);
    for (const a of (v.fwmarkVIPs as string[] | undefined) ?? []) addresses.add(a);
  }
  for (const g of groups) for (const a of (g.gatewayAddresses as { address: string }[] | undefined) ?? []) addresses.add(a.address.replace(/\/\d+$/, ''));
  const checked = [...passes].filter(([a, ok]) => ok && !digest.has(a)).map(([a]) => a);
  return { interfaces: [...interfaces], hosts: [...new Set(reals.map((r) => spec(r).address as string))], listeners: [...listeners.values()], checked, digest: [...digest], addresses: [...addresses] };
}

/** `ipvsadm -S -n` lines, each service followed by its destinations sorted (their order is history, not state). */
export function normaliseTable(dump: string): string[] {
  const groups: string[][] = [];
  for (const l of dump.split('\n').map((x) => x.trim()).filter(Boolean)) {
    if (l.startsWith('-A')) groups.push([l]);
    else groups.at(-1)?.push(l);
  }
  return groups.sort((x, y) => (x[0] as string).localeCompare(y[0] as string)).flatMap(([head, ...dests]) => [head as string, ...dests.sort()]);
}

/** `dev address/prefix` of the addresses a director added (not loopback, link-local or the lab's own). */
export function directorAddresses(ipOAddr: string, labOwn: (address: string) => boolean): string[] {
  const out: string[] = [];
  for (const line of ipOAddr.split('\n')) {
    const m = /^\d+:\s+(\S+)\s+inet6?\s+(\S+)/.exec(line);
    if (!m) continue;
    const [dev, cidr] = [m[1] as string, m[2] as string];
    const address = cidr.replace(/\/\d+$/, '');
    if (dev === 'lo' || address.startsWith('fe80:') || labOwn(address)) continue;
    out.push(`${dev} ${cidr}`);
  }
  return out.sort();
}

/** Whether `address` has a destination line of weight above 0 in a normalised table. */
export function inTable(table: string[], address: string): boolean {
  const r = address.includes(':') ? `[${address}]` : address;
  return table.some((l) => l.startsWith('-a ') && l.includes(` -r ${r}:`) && !/ -w 0\b/.test(l));
}
