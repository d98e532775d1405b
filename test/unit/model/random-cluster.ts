// A small random cluster kept the way the agent's informers keep it: raw objects in Maps
// (insertion order; an update replaces the object in place, an add appends, a delete removes),
// turned into a snapshot by buildSnapshot. Pools are small so that claims collide, selectors
// overlap and objects come and go often.
import type { Snapshot } from '../../../src/model/types.js';
import { buildSnapshot } from '../../../src/model/snapshot.js';

/** mulberry32: a tiny seeded PRNG, so a failing run can be repeated from its seed. */
export class Rand {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)] as T;
  }
}

type Raw = Record<string, unknown> & { metadata: Record<string, unknown> };

const namespaces = ['a', 'b', 'c'];
const groupNames = ['g1', 'g2', 'g3'];
const apps = ['web', 'api', 'db'];
const tiers = ['front', 'back'];
const created = ['2024-01-01T00:00:00Z', '2024-01-02T00:00:00Z', '2024-01-03T00:00:00Z'];
const vips4 = ['192.0.2.1', '192.0.2.2', '192.0.2.3'];
// Two text forms of one address: they must collide.
const vips6 = ['2001:db8::1', '2001:DB8:0::1', '2001:db8::2'];
const rsAddresses = ['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4', '10.0.0.5', '10.0.0.6', '2001:db8::a', '2001:db8::b'];
const serviceNames = ['svc-1', 'svc-2'];

const key = (o: Raw): string => `${(o.metadata.namespace as string | undefined) ?? ''}/${o.metadata.name as string}`;

export class RandomCluster {
  readonly directorGroups = new Map<string, Raw>();
  readonly virtualServices = new Map<string, Raw>();
  readonly realServers = new Map<string, Raw>();
  readonly services = new Map<string, Raw>();
  readonly endpointSlices = new Map<string, Raw>();
  readonly nodes = new Map<string, Raw>();
  secrets: ReadonlySet<string> | undefined;
  unsupportedSchedulers: string[] | undefined;
  private serial = 0;

  constructor(private readonly r: Rand) {
    for (const g of groupNames) this.put(this.directorGroups, this.group(g));
    for (let i = 0; i < 4; i++) this.put(this.nodes, this.node(`node-${i}`));
    for (const ns of namespaces) for (const name of serviceNames) this.put(this.services, this.service(ns, name));
    for (let i = 0; i < 4; i++) this.put(this.endpointSlices, this.slice(r.pick(namespaces), `slice-${i}`));
    for (let i = 0; i < 16; i++) this.put(this.virtualServices, this.virtualService(r.pick(namespaces), `vs-${i}`));
    for (let i = 0; i < 20; i++) this.put(this.realServers, this.realServer(r.pick(namespaces), `rs-${i}`));
  }

  snapshot(): Snapshot {
    return buildSnapshot({
      directorGroups: [...this.directorGroups.values()],
      virtualServices: [...this.virtualServices.values()],
      realServers: [...this.realServers.values()],
      services: [...this.services.values()] as never,
      endpointSlices: [...this.endpointSlices.values()] as never,
      nodes: [...this.nodes.values()] as never,
      secrets: this.secrets,
      unsupportedSchedulers: this.unsupportedSchedulers,
    });
  }

  /** Applies one random change; returns what it did, for failure messages. */
  step(winners: readonly string[]): string {
    const r = this.r;
    const roll = r.int(100);
    if (roll < 30) return this.change(this.realServers, (ns, name) => this.realServer(ns, name), 'RealServer', (o) => this.tweakRealServer(o));
    if (roll < 48) return this.change(this.virtualServices, (ns, name) => this.virtualService(ns, name), 'VirtualService', (o) => this.tweakVirtualService(o));
    if (roll < 53 && winners.length > 0) {
      const k = r.pick(winners);
      this.virtualServices.delete(k);
      return `delete conflict winner ${k}`;
    }
    if (roll < 60) return this.change(this.services, (ns, name) => this.service(ns, name), 'Service');
    if (roll < 69) return this.change(this.endpointSlices, (ns, name) => this.slice(ns, name), 'EndpointSlice');
    if (roll < 75) return this.change(this.directorGroups, (_, name) => this.group(name), 'DirectorGroup', (o) => this.withVrids(o));
    if (roll < 80) return this.change(this.nodes, (_, name) => this.node(name), 'Node');
    if (roll < 83) {
      this.secrets = r.pick([undefined, new Set<string>(), new Set(['lvs-system/vrrp'])]);
      return `secrets ${this.secrets ? [...this.secrets].join(',') || '(none)' : 'unknown'}`;
    }
    if (roll < 86) {
      this.unsupportedSchedulers = r.pick([undefined, ['mh'], ['mh', 'rr']]);
      return `unsupported schedulers ${String(this.unsupportedSchedulers)}`;
    }
    if (roll < 90) return this.beingDeleted();
    if (roll < 92) return this.relist();
    return 'nothing';
  }

  /** Adds, replaces (new object, same place) or removes one object of `map`. */
  private change(map: Map<string, Raw>, make: (ns: string, name: string) => Raw, kind: string, tweak?: (o: Raw) => Raw): string {
    const r = this.r;
    const keys = [...map.keys()];
    const roll = r.int(10);
    // Groups and nodes are few and mostly stay: delete them rarely.
    const deletes = kind === 'DirectorGroup' || kind === 'Node' ? 4 : 5;
    if (roll < 3 || keys.length === 0) {
      const o = make(r.pick(namespaces), `${kind.toLowerCase()}-${++this.serial}`);
      if (kind === 'DirectorGroup' || kind === 'Node') delete o.metadata.namespace;
      // Cluster-scoped kinds come back under their old names too, so groups reappear.
      const name = kind === 'DirectorGroup' ? r.pick([...groupNames, 'g4']) : (o.metadata.name as string);
      o.metadata.name = name;
      this.put(map, o);
      return `add ${kind} ${key(o)}`;
    }
    const k = r.pick(keys);
    const old = map.get(k) as Raw;
    if (roll < deletes) {
      map.delete(k);
      return `delete ${kind} ${k}`;
    }
    const ns = old.metadata.namespace as string;
    const name = old.metadata.name as string;
    const next = tweak && r.chance(0.5) ? tweak(old) : make(ns, name);
    if (!old.metadata.namespace) delete next.metadata.namespace;
    next.metadata.generation = ((old.metadata.generation as number | undefined) ?? 1) + 1;
    map.set(k, next);
    return `update ${kind} ${k}`;
  }

  private put(map: Map<string, Raw>, o: Raw): void {
    map.set(key(o), o);
  }

  private beingDeleted(): string {
    const map = this.r.pick([this.virtualServices, this.realServers, this.directorGroups]);
    const keys = [...map.keys()];
    if (keys.length === 0) return 'nothing to delete';
    const k = this.r.pick(keys);
    const o = map.get(k) as Raw;
    map.set(k, { ...o, metadata: { ...o.metadata, deletionTimestamp: '2024-06-01T00:00:00Z' } });
    return `deletionTimestamp on ${k}`;
  }

  /** A relist: every object anew (same content, new identity), in another order. */
  private relist(): string {
    for (const map of [this.directorGroups, this.virtualServices, this.realServers, this.services, this.endpointSlices, this.nodes]) {
      const entries = [...map.entries()];
      map.clear();
      while (entries.length > 0) {
        const [k, o] = entries.splice(this.r.int(entries.length), 1)[0] as [string, Raw];
        map.set(k, structuredClone(o));
      }
    }
    return 'relist';
  }

  private meta(ns: string, name: string, extra: Record<string, unknown> = {}): Raw['metadata'] {
    return { name, namespace: ns, generation: 1, creationTimestamp: this.r.pick(created), ...extra };
  }

  private group(name: string): Raw {
    const r = this.r;
    const version = r.pick([3, 3, 3, 2]);
    const vrrp: Record<string, unknown> = { version };
    if (version === 2) vrrp.advertIntervalMs = r.chance(0.1) ? 1500 /* invalid for v2 */ : 1000;
    if (version === 2 && r.chance(0.5)) vrrp.authSecretRef = { name: 'vrrp', namespace: 'lvs-system' };
    const o: Raw = {
      apiVersion: 'lvs.dev/v1alpha1',
      kind: 'DirectorGroup',
      metadata: { name, generation: 1, creationTimestamp: r.pick(created) },
      spec: { nodeSelector: { matchLabels: { 'lvs.dev/director': name } }, interface: r.pick(['eth0', 'eth0', 'bond1']), vrrp },
    };
    return r.chance(0.5) ? this.withVrids(o) : o;
  }

  /** Router ids as a status write records them, sometimes stale or clashing. */
  private withVrids(o: Raw): Raw {
    const r = this.r;
    const spec = o.spec as { interface: string };
    const vrids = Array.from({ length: r.int(4) }, () => ({
      vip: r.pick([...vips4, ...vips6]),
      interface: r.chance(0.8) ? spec.interface : 'eth9',
      vrid: 1 + r.int(4),
    }));
    const unique = [...new Map(vrids.map((v) => [`${v.vip}|${v.interface}`, v])).values()];
    return { ...o, status: { vrids: unique } };
  }

  private node(name: string): Raw {
    const labels: Record<string, string> = this.r.chance(0.8) ? { 'lvs.dev/director': this.r.pick([...groupNames, 'g4']) } : {};
    return { apiVersion: 'v1', kind: 'Node', metadata: { name, labels } };
  }

  private virtualService(ns: string, name: string): Raw {
    const r = this.r;
    const spec: Record<string, unknown> = {
      directorGroup: r.pick(['g1', 'g1', 'g2', 'g3', 'missing']),
      scheduler: r.pick(['wrr', 'rr', 'mh']),
      forwarding: { method: r.pick(['NAT', 'DR', 'TUN']) },
      healthCheck: { type: 'None' },
      backends: this.backends(),
    };
    const shape = r.int(10);
    if (shape < 6) Object.assign(spec, { vip: r.pick(vips4), port: r.pick([80, 80, 443]), protocol: r.pick(['TCP', 'TCP', 'UDP']) });
    else if (shape < 8) Object.assign(spec, { vip: r.pick(vips6), port: 80, protocol: 'TCP' });
    else if (shape < 9) Object.assign(spec, { fwmark: r.pick([5, 7]), fwmarkVIPs: [r.pick(vips4)] });
    else Object.assign(spec, { fwmark: 5, addressFamily: 'IPv6', fwmarkVIPs: [r.pick(vips6)] });
    if (r.chance(0.05)) delete spec.port; // invalid: vip without port
    return { apiVersion: 'lvs.dev/v1alpha1', kind: 'VirtualService', metadata: this.meta(ns, name), spec };
  }

  /** A change that keeps the claim: scheduler, weight, selector, Service. */
  private tweakVirtualService(o: Raw): Raw {
    const spec = { ...(o.spec as Record<string, unknown>) };
    if (this.r.chance(0.5)) spec.scheduler = this.r.pick(['wrr', 'rr', 'mh']);
    else spec.backends = this.backends();
    return { ...o, metadata: { ...o.metadata }, spec };
  }

  private backends(): Record<string, unknown> {
    const r = this.r;
    const selector = r.pick<Record<string, unknown>>([
      { matchLabels: { app: r.pick(apps) } },
      { matchLabels: { app: r.pick(apps), tier: r.pick(tiers) } },
      { matchExpressions: [{ key: 'tier', operator: 'In', values: [r.pick(tiers)] }] },
      { matchExpressions: [{ key: 'app', operator: 'NotIn', values: ['db'] }] },
      {},
    ]);
    const service = { name: r.pick(serviceNames), ...(r.chance(0.6) ? { port: r.pick<string | number>(['http', 80, 'nope']) } : {}) };
    const roll = r.int(10);
    const b: Record<string, unknown> = roll < 6 ? { realServerSelector: selector } : roll < 8 ? { service } : { realServerSelector: selector, service };
    if (r.chance(0.3)) b.defaultWeight = r.int(4);
    return b;
  }

  private realServer(ns: string, name: string): Raw {
    const r = this.r;
    const labels: Record<string, string> = { app: r.pick(apps) };
    if (r.chance(0.5)) labels.tier = r.pick(tiers);
    const spec: Record<string, unknown> = { address: r.chance(0.04) ? 'nope' : r.pick(rsAddresses), weight: r.int(5) };
    if (r.chance(0.3)) spec.port = r.pick([0, 80, 8080]);
    if (r.chance(0.2)) spec.forwarding = { method: r.pick(['NAT', 'DR']) };
    if (r.chance(0.2)) spec.nodeName = r.pick(['node-0', 'node-1']);
    return { apiVersion: 'lvs.dev/v1alpha1', kind: 'RealServer', metadata: this.meta(ns, name, { labels }), spec };
  }

  /** A weight or label change, the usual events. */
  private tweakRealServer(o: Raw): Raw {
    const r = this.r;
    const metadata = { ...o.metadata };
    const spec = { ...(o.spec as Record<string, unknown>) };
    if (r.chance(0.5)) spec.weight = r.int(5);
    else metadata.labels = { app: r.pick(apps), ...(r.chance(0.5) ? { tier: r.pick(tiers) } : {}) };
    return { ...o, metadata, spec };
  }

  private service(ns: string, name: string): Raw {
    const r = this.r;
    const ports = r.chance(0.7)
      ? [{ name: 'http', port: 80, targetPort: r.pick([80, 8080]) }]
      : [{ name: 'http', port: 80 }, { name: 'https', port: 443 }];
    return { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: ns }, spec: { ports } };
  }

  private slice(ns: string, name: string): Raw {
    const r = this.r;
    const v6 = r.chance(0.2);
    const endpoints = Array.from({ length: 1 + r.int(3) }, () => ({
      addresses: [v6 ? r.pick(['2001:db8::c', '2001:db8::d']) : r.pick(['10.1.0.1', '10.1.0.2', '10.1.0.3', '10.0.0.1'])],
      conditions: { ready: r.chance(0.8), ...(r.chance(0.1) ? { terminating: true } : {}) },
      ...(r.chance(0.3) ? { nodeName: 'node-2' } : {}),
    }));
    return {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name, namespace: ns, labels: { 'kubernetes.io/service-name': r.pick(serviceNames) } },
      addressType: v6 ? 'IPv6' : 'IPv4',
      ports: [{ name: r.pick(['http', 'http', 'https']), port: r.pick([80, 8080]) }],
      endpoints,
    };
  }
}
