// LoadBalancer Services on a real kube-apiserver with our controller: addresses from
// AddressPools, status on the Service and the pool, sharing, requested addresses, exhaustion,
// release (reused only after), overlapping pools, a Service switching class, the derived
// VirtualServices and bad annotations. No kube-controller-manager runs here, so no garbage
// collector: the controller deleting derived objects itself is what these tests see.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { AddressPool, AddressPoolSpecInput, VirtualService } from '../../src/api/index.js';
import type { Service } from '../../src/kube/types.js';
import { condition, eventsFor, eventually, installCrds, kit, unique } from './controller-kit.js';

const k = await kit(inject('kubeconfig'), inject('binDir'), 'load-balancer');
const c = k.clients;
const suffix = unique('lb');
const ns = suffix;
const otherNs = `${suffix}-other`;
const pools: string[] = [];
const poolName = (p: string) => `${p}-${suffix}`;
const lbClass = 'lvs.dev/ipvs';

async function createPool(name: string, spec: Partial<AddressPoolSpecInput> & { addresses: string[] }): Promise<void> {
  pools.push(poolName(name));
  await c.addressPools.create({ metadata: { name: poolName(name) }, spec: { directorGroup: 'edge', namespaces: [ns], ...spec } } as unknown as AddressPool);
}

interface SvcOptions {
  ports?: { name?: string; port: number; protocol?: 'TCP' | 'UDP' }[];
  annotations?: Record<string, string>;
  loadBalancerClass?: string | null;
  loadBalancerIP?: string;
  namespace?: string;
  externalTrafficPolicy?: 'Local';
}

async function createService(name: string, o: SvcOptions = {}): Promise<Service> {
  const spec: Record<string, unknown> = {
    type: 'LoadBalancer',
    selector: { app: name },
    ports: (o.ports ?? [{ name: 'http', port: 80 }]).map((p) => ({ protocol: 'TCP', targetPort: p.port, ...p })),
  };
  if (o.loadBalancerClass !== null) spec['loadBalancerClass'] = o.loadBalancerClass ?? lbClass;
  if (o.loadBalancerIP) spec['loadBalancerIP'] = o.loadBalancerIP;
  if (o.externalTrafficPolicy) spec['externalTrafficPolicy'] = o.externalTrafficPolicy;
  return c.services.create({ metadata: { name, namespace: o.namespace ?? ns, annotations: o.annotations ?? {} }, spec } as unknown as Service);
}

const getSvc = async (name: string, namespace = ns) => (await c.services.get(name, namespace)) as Service;
const getPool = async (name: string) => (await c.addressPools.get(poolName(name))) as AddressPool;
const ingressOf = (s: Service) => (s.status?.loadBalancer?.ingress ?? []).map((i) => i.ip);
const derivedOf = async (svc: string, namespace = ns) =>
  (await c.virtualServices.list({ namespace, labelSelector: `lvs.dev/service-name=${svc}` })).items.sort((a, b) => (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''));

/** Waits until the Service has exactly these addresses and our condition says so. */
async function addressesOf(name: string, namespace = ns): Promise<string[]> {
  return eventually(async () => {
    const s = await getSvc(name, namespace);
    const cond = condition(s, 'lvs.dev/AddressAllocated');
    expect(cond?.status, JSON.stringify(s.status)).toBe('True');
    expect(ingressOf(s).length).toBeGreaterThan(0);
    return ingressOf(s) as string[];
  });
}

async function failureOf(name: string, reason: string, namespace = ns) {
  return eventually(async () => {
    const s = await getSvc(name, namespace);
    const cond = condition(s, 'lvs.dev/AddressAllocated');
    expect(cond, JSON.stringify(s.status)).toMatchObject({ status: 'False', reason });
    return { svc: s, cond: cond! };
  });
}

beforeAll(async () => {
  await installCrds(k.api);
  for (const n of [ns, otherNs]) {
    const made = await k.api.kubectl(['create', 'namespace', n]);
    expect(made.code, made.stderr).toBe(0);
  }
  await k.startController({ agentLeaseNamespace: ns });
});

afterAll(async () => {
  await k.stopAll();
  for (const n of [ns, otherNs]) {
    await k.api.kubectl(['delete', 'virtualservices,services', '--all', '-n', n, '--wait=false']);
    await k.api.kubectl(['delete', 'namespace', n, '--wait=false']);
  }
  for (const p of pools) await c.addressPools.delete(p);
  k.close();
});

describe('allocation', () => {
  it('gives a Service the first free address with ipMode VIP, a condition, and one derived VirtualService per port', async () => {
    await createPool('alloc', { addresses: ['198.18.1.0/30'] });
    await createService('web', { ports: [{ name: 'http', port: 80 }, { name: 'dns', port: 53, protocol: 'UDP' }] });
    expect(await addressesOf('web')).toEqual(['198.18.1.0']);
    const svc = await getSvc('web');
    expect(svc.status?.loadBalancer?.ingress).toEqual([{ ip: '198.18.1.0', ipMode: 'VIP' }]);
    expect(condition(svc, 'lvs.dev/AddressAllocated')?.message).toBe(`198.18.1.0 from AddressPool ${poolName('alloc')}`);

    const derived = await eventually(async () => {
      const d = await derivedOf('web');
      expect(d.map((v) => v.metadata.name)).toEqual(['web-53-udp', 'web-80-tcp']);
      return d;
    });
    const tcp = derived[1]!;
    expect(tcp.metadata.labels).toMatchObject({ 'lvs.dev/service-name': 'web', 'lvs.dev/derived': 'true' });
    expect((tcp.metadata as { ownerReferences?: unknown }).ownerReferences).toEqual([
      { apiVersion: 'v1', kind: 'Service', name: 'web', uid: svc.metadata.uid, controller: true },
    ]);
    expect(tcp.spec).toMatchObject({
      vip: '198.18.1.0',
      port: 80,
      protocol: 'TCP',
      directorGroup: 'edge',
      backends: { service: { name: 'web', port: 'http' } },
      forwarding: { method: 'NAT', snat: true },
    });
    // No scheduler annotation: the spec leaves it to the group's default.
    expect(tcp.spec.scheduler).toBeUndefined();
    expect(condition(await getSvc('web'), 'lvs.dev/VirtualServices')).toMatchObject({ status: 'True', reason: 'Derived', message: 'VirtualService web-80-tcp, web-53-udp' });

    // kubectl users see them like any other VirtualService
    const got = await k.api.kubectl(['get', 'lvsvs', '-n', ns, '-l', 'lvs.dev/service-name=web', '-o', 'name']);
    expect(got.stdout.trim().split('\n').sort()).toEqual(['virtualservice.lvs.dev/web-53-udp', 'virtualservice.lvs.dev/web-80-tcp']);

    const pool = await eventually(async () => {
      const p = await getPool('alloc');
      expect(p.status?.allocated).toBe(1);
      return p;
    });
    expect(pool.status).toMatchObject({ free: '3', observedGeneration: 1, conflicts: [] });
    expect(condition(pool, 'Ready')).toMatchObject({ status: 'True', reason: 'Ready' });
    // pool usage is exported for alerting
    const metrics = await k.controllers[0]!.metrics.registry.getSingleMetricAsString('lvs_controller_pool_addresses');
    expect(metrics).toContain(`lvs_controller_pool_addresses{pool="${poolName('alloc')}",state="allocated"} 1`);
    expect(metrics).toContain(`lvs_controller_pool_addresses{pool="${poolName('alloc')}",state="free"} 3`);
    const explain = await k.api.kubectl(['explain', 'lvspool.spec.autoAssign']);
    expect(explain.stdout).toContain('Hand addresses out to any Service that may use this pool');
    const columns = await k.api.kubectl(['get', 'lvspool', poolName('alloc')]);
    expect(columns.stdout).toMatch(/NAME\s+ADDRESSES\s+GROUP\s+AUTO\s+ALLOCATED\s+FREE\s+READY\s+AGE/);
    expect(columns.stdout).toMatch(/\["198\.18\.1\.0\/30"\]\s+edge\s+true\s+1\s+3\s+True/);
  });

  it('honours a requested address (annotation) and the deprecated spec.loadBalancerIP', async () => {
    await createPool('req', { addresses: ['198.18.2.0/29'] });
    await createService('asks', { annotations: { 'lvs.dev/load-balancer-ips': '198.18.2.5' } });
    await createService('legacy', { loadBalancerIP: '198.18.2.6' });
    expect(await addressesOf('asks')).toEqual(['198.18.2.5']);
    expect(await addressesOf('legacy')).toEqual(['198.18.2.6']);
    // the same address again cannot be had: the message names who holds it
    await createService('asks-too', { annotations: { 'lvs.dev/load-balancer-ips': '198.18.2.5' } });
    const { cond } = await failureOf('asks-too', 'RequestedAddressInUse');
    expect(cond.message).toContain(`by Service ${ns}/asks`);
    // and one outside every pool neither
    await createService('asks-outside', { annotations: { 'lvs.dev/load-balancer-ips': '203.0.113.77' } });
    expect((await failureOf('asks-outside', 'RequestedAddressNotInPool')).cond.message).toBe('requested address 203.0.113.77 is in no usable AddressPool');
  });

  it('shares one address between Services with one sharing key and different ports, and only then', async () => {
    await createPool('share', { addresses: ['198.18.3.0/29'], autoAssign: false });
    const shared = { 'lvs.dev/allow-shared-ip': 'front', 'lvs.dev/address-pool': poolName('share') };
    await createService('front-http', { annotations: shared, ports: [{ port: 80 }] });
    await createService('front-dns', { annotations: shared, ports: [{ port: 53, protocol: 'UDP' }] });
    await createService('front-http2', { annotations: shared, ports: [{ port: 80 }] });
    await createService('other-key', { annotations: { ...shared, 'lvs.dev/allow-shared-ip': 'back' }, ports: [{ port: 443 }] });
    const [a] = await addressesOf('front-http');
    expect(await addressesOf('front-dns')).toEqual([a]);
    const [b] = await addressesOf('front-http2');
    const [d] = await addressesOf('other-key');
    expect(new Set([a, b, d]).size).toBe(3);
    // a shared address counts once
    await eventually(async () => expect((await getPool('share')).status?.allocated).toBe(3));
  });

  it('a pool asked for that does not exist is reported by name', async () => {
    await createService('no-pool', { namespace: otherNs, annotations: { 'lvs.dev/address-pool': 'no-such-pool' } });
    expect((await failureOf('no-pool', 'UnknownPool', otherNs)).cond.message).toBe('AddressPool no-such-pool does not exist or is not usable');
  });
});

describe('exhaustion, release and reuse', () => {
  it('reports exhaustion on the Service (condition + Warning Event) and the pool, and serves the Service once an address is released', async () => {
    await createPool('tiny', { addresses: ['198.18.4.0-198.18.4.1'], namespaces: [otherNs] });
    const tiny = { 'lvs.dev/address-pool': poolName('tiny') };
    await createService('one', { namespace: otherNs, annotations: tiny });
    await createService('two', { namespace: otherNs, annotations: tiny });
    const held = [...(await addressesOf('one', otherNs)), ...(await addressesOf('two', otherNs))].sort();
    expect(held).toEqual(['198.18.4.0', '198.18.4.1']);
    await createService('three', { namespace: otherNs, annotations: tiny });
    const { cond } = await failureOf('three', 'PoolExhausted', otherNs);
    expect(cond.message).toBe(`no free IPv4 address in AddressPool ${poolName('tiny')}`);
    expect(ingressOf(await getSvc('three', otherNs))).toEqual([]);
    await eventually(async () => {
      const events = await eventsFor(c, otherNs, 'three');
      expect(events.find((e) => e.reason === 'PoolExhausted')).toMatchObject({ type: 'Warning', regarding: { kind: 'Service', name: 'three' } });
    });
    const pool = await eventually(async () => {
      const p = await getPool('tiny');
      expect(condition(p, 'Degraded')).toMatchObject({ status: 'True', reason: 'Exhausted' });
      return p;
    });
    expect(pool.status).toMatchObject({ allocated: 2, free: '0' });
    expect(await derivedOf('three', otherNs)).toEqual([]);

    // Deleting "one" releases its address; "three" gets exactly that one, and one's derived objects go.
    const freed = ingressOf(await getSvc('one', otherNs))[0];
    expect((await derivedOf('one', otherNs)).length).toBe(1);
    await c.services.delete('one', otherNs);
    expect(await addressesOf('three', otherNs)).toEqual([freed]);
    await eventually(async () => expect(await derivedOf('one', otherNs)).toEqual([]));
    await eventually(async () => expect((await derivedOf('three', otherNs)).map((v) => v.spec.vip)).toEqual([freed]));
  });

  it('a Service switching class loses its address and derived objects; the address is reused only after', async () => {
    await createPool('switch', { addresses: ['198.18.5.0/32'] });
    await createService('mover', { annotations: { 'lvs.dev/address-pool': poolName('switch') } });
    expect(await addressesOf('mover')).toEqual(['198.18.5.0']);
    await eventually(async () => expect((await derivedOf('mover')).length).toBe(1));
    await createService('waiter', { annotations: { 'lvs.dev/address-pool': poolName('switch') } });
    await failureOf('waiter', 'PoolExhausted');

    // loadBalancerClass is immutable once set, so "switching class" is the move to type ClusterIP
    // and back with another class, or (as here) a class-less type change.
    const mover = await getSvc('mover');
    await c.services.replace({ ...mover, spec: { ...mover.spec, type: 'ClusterIP', loadBalancerClass: undefined } } as Service);
    const released = await eventually(async () => {
      const s = await getSvc('mover');
      expect(ingressOf(s)).toEqual([]);
      expect((s.status?.conditions ?? []).filter((x) => x.type.startsWith('lvs.dev/'))).toEqual([]);
      return s;
    });
    expect(released.spec?.type).toBe('ClusterIP');
    await eventually(async () => expect(await derivedOf('mover')).toEqual([]));
    expect(await addressesOf('waiter')).toEqual(['198.18.5.0']);
    await eventually(async () => {
      const events = await eventsFor(c, ns, 'mover');
      expect(events.some((e) => e.reason === 'AddressReleased' && e.type === 'Normal')).toBe(true);
    });
  });

  it('a restarted controller keeps every address where it is (state rebuilt from the Services)', async () => {
    const before = Object.fromEntries(await Promise.all(['web', 'asks', 'legacy', 'front-http', 'front-dns'].map(async (n) => [n, ingressOf(await getSvc(n))] as const)));
    await k.stopAll();
    // a newer Service arrives while no controller runs; it must not displace anyone
    await createService('late', { annotations: { 'lvs.dev/address-pool': poolName('alloc') } });
    await k.startController({ agentLeaseNamespace: ns });
    expect(await addressesOf('late')).toEqual(['198.18.1.1']);
    for (const [n, ips] of Object.entries(before)) expect(ingressOf(await getSvc(n))).toEqual(ips);
  });
});

describe('pools', () => {
  it('of two overlapping pools the younger hands out nothing and says which pool it overlaps', async () => {
    await createPool('older', { addresses: ['198.18.6.0/29'] });
    await eventually(async () => expect(condition(await getPool('older'), 'Ready')?.status).toBe('True'));
    await createPool('younger', { addresses: ['198.18.6.4/30', '198.18.7.0/30'] });
    const y = await eventually(async () => {
      const p = await getPool('younger');
      expect(condition(p, 'Ready')).toMatchObject({ status: 'False', reason: 'Conflict' });
      return p;
    });
    expect(y.status?.conflicts).toEqual([{ pool: poolName('older'), addresses: '198.18.6.4/30' }]);
    expect(condition(y, 'Ready')?.message).toContain(`198.18.6.4/30 overlaps AddressPool ${poolName('older')}`);
    expect(y.status).toMatchObject({ allocated: 0, free: '0' });
    expect(condition(await getPool('older'), 'Ready')?.status).toBe('True');
    await createService('in-younger', { annotations: { 'lvs.dev/address-pool': poolName('younger') } });
    await failureOf('in-younger', 'UnknownPool');
    await eventually(async () => {
      const events = await eventsFor(c, 'default', poolName('younger'));
      expect(events.find((e) => e.reason === 'Conflict')).toMatchObject({ type: 'Warning', regarding: { kind: 'AddressPool' } });
    });
  });

  it('namespaces restrict who may take an address, even one asked for by name', async () => {
    await createPool('private', { addresses: ['198.18.8.0/30'], namespaces: [otherNs] });
    await createService('intruder', { annotations: { 'lvs.dev/load-balancer-ips': '198.18.8.1' } });
    const { cond } = await failureOf('intruder', 'NotAllowed');
    expect(cond.message).toBe(`requested address 198.18.8.1 is in AddressPool ${poolName('private')}, which namespace ${ns} may not use`);
  });
});

describe('annotations and class', () => {
  it('a bad annotation keeps the last good derived objects, sets a condition and a Warning Event; fixing it applies the change', async () => {
    await createPool('annot', { addresses: ['198.18.9.0/30'] });
    await createService('tuned', { annotations: { 'lvs.dev/address-pool': poolName('annot'), 'lvs.dev/scheduler': 'rr' } });
    await eventually(async () => expect((await derivedOf('tuned')).map((v) => v.spec.scheduler)).toEqual(['rr']));

    const s = await getSvc('tuned');
    await c.services.mergePatch('tuned', ns, { metadata: { annotations: { 'lvs.dev/scheduler': 'fastest', 'lvs.dev/persistence-timeout': '5m' } } });
    const bad = await eventually(async () => {
      const got = await getSvc('tuned');
      expect(condition(got, 'lvs.dev/VirtualServices')).toMatchObject({ status: 'False', reason: 'InvalidAnnotation' });
      return got;
    });
    expect(condition(bad, 'lvs.dev/VirtualServices')?.message).toBe(
      'annotation lvs.dev/persistence-timeout: "5m" is not a number of seconds; the VirtualServices are left as they were',
    );
    expect(ingressOf(bad)).toEqual(ingressOf(s));
    await eventually(async () => {
      const events = await eventsFor(c, ns, 'tuned');
      expect(events.find((e) => e.reason === 'InvalidAnnotation')).toMatchObject({ type: 'Warning' });
    });
    const kept = await derivedOf('tuned');
    expect(kept.map((v) => [v.spec.scheduler, v.metadata.generation])).toEqual([['rr', 1]]);

    await c.services.mergePatch('tuned', ns, { metadata: { annotations: { 'lvs.dev/persistence-timeout': '600' } } });
    await eventually(async () => {
      const got = await getSvc('tuned');
      expect(condition(got, 'lvs.dev/VirtualServices')?.message).toContain('annotation lvs.dev/scheduler: scheduler: Invalid option');
    });
    await c.services.mergePatch('tuned', ns, { metadata: { annotations: { 'lvs.dev/scheduler': 'sh', 'lvs.dev/health-check': 'http:/healthz', 'lvs.dev/forwarding': 'nat' } } });
    const fixed = await eventually(async () => {
      const d = await derivedOf('tuned');
      expect(d[0]?.spec.scheduler).toBe('sh');
      return d[0]!;
    });
    expect(fixed.spec).toMatchObject({ persistence: { timeoutSeconds: 600 }, healthCheck: { type: 'HTTP', http: { path: '/healthz' } }, forwarding: { method: 'NAT', snat: true } });
    await eventually(async () => expect(condition(await getSvc('tuned'), 'lvs.dev/VirtualServices')?.status).toBe('True'));
  });

  it.each([
    ['lvs.dev/load-balancer-ips', 'not-an-ip', 'annotation lvs.dev/load-balancer-ips: "not-an-ip" is not an IPv4 or IPv6 address'],
    ['lvs.dev/load-balancer-ips', '198.18.9.1,198.18.9.2', 'annotation lvs.dev/load-balancer-ips: more than one IPv4 address: a Service gets one address per family'],
    ['lvs.dev/address-pool', 'Not_A_Name', 'annotation lvs.dev/address-pool: "Not_A_Name" is not an AddressPool name'],
  ])('refuses %s=%s with a clear message and no address', async (annotation, value, message) => {
    const name = unique('bad');
    await createService(name, { annotations: { [annotation]: value } });
    const { cond } = await failureOf(name, 'InvalidAnnotation');
    expect(cond.message).toBe(message);
    expect(await derivedOf(name)).toEqual([]);
  });

  it('leaves Services of another class and class-less ones alone by default', async () => {
    await createPool('classes', { addresses: ['198.18.10.0/30'] });
    await createService('classless', { loadBalancerClass: null, annotations: { 'lvs.dev/address-pool': poolName('classes') } });
    await createService('foreign', { loadBalancerClass: 'example.com/other', annotations: { 'lvs.dev/address-pool': poolName('classes') } });
    // created after them, so served in the same pass or a later one than they would have been
    await createService('ours', { annotations: { 'lvs.dev/address-pool': poolName('classes') } });
    expect(await addressesOf('ours')).toEqual(['198.18.10.0']);
    for (const n of ['classless', 'foreign']) {
      const s = await getSvc(n);
      expect(ingressOf(s)).toEqual([]);
      expect(s.status?.conditions ?? []).toEqual([]);
    }
  });

  it('claims class-less LoadBalancer Services when told to (--claim-default-load-balancers)', async () => {
    await k.stopAll();
    await k.startController({ agentLeaseNamespace: ns, claimClasslessLoadBalancers: true });
    expect(await addressesOf('classless')).toEqual(['198.18.10.1']);
    expect(ingressOf(await getSvc('foreign'))).toEqual([]);
  });

  it('never takes over a hand-written VirtualService with a derived name', async () => {
    await c.virtualServices.create({
      metadata: { name: 'taken-80-tcp', namespace: ns },
      spec: { vip: '198.51.100.99', port: 80, protocol: 'TCP', directorGroup: 'edge', backends: { service: { name: 'taken' } } },
    } as unknown as VirtualService);
    await createService('taken', { annotations: { 'lvs.dev/address-pool': poolName('classes') } });
    const s = await eventually(async () => {
      const got = await getSvc('taken');
      expect(condition(got, 'lvs.dev/VirtualServices')).toMatchObject({ status: 'False', reason: 'NameConflict' });
      return got;
    });
    expect(condition(s, 'lvs.dev/VirtualServices')?.message).toBe('VirtualService taken-80-tcp exists and was not derived from this Service; rename one of them');
    const hand = (await c.virtualServices.get('taken-80-tcp', ns)) as VirtualService;
    expect(hand.spec.vip).toBe('198.51.100.99');
    expect(hand.metadata.labels).toBeUndefined();
  });
});

describe('externalTrafficPolicy Local', () => {
  it('externalTrafficPolicy Local: DR to the nodes, checked on the health check node port the API server gave; NAT refused', async () => {
    await createPool('local', { addresses: ['198.18.12.0/30'], autoAssign: false });
    const fromPool = { 'lvs.dev/address-pool': poolName('local') };
    await createService('local', { externalTrafficPolicy: 'Local', annotations: fromPool });
    expect(await addressesOf('local')).toEqual(['198.18.12.0']);
    const svc = await getSvc('local');
    expect(svc.status?.loadBalancer?.ingress).toEqual([{ ip: '198.18.12.0', ipMode: 'VIP' }]);
    const hcnp = svc.spec?.healthCheckNodePort;
    expect(hcnp).toBeGreaterThan(0);
    const [vs] = await eventually(async () => {
      const d = await derivedOf('local');
      expect(d.map((v) => v.metadata.name)).toEqual(['local-80-tcp']);
      return d;
    });
    expect(vs!.spec).toMatchObject({
      forwarding: { method: 'DR' },
      backends: { service: { name: 'local', port: 'http', target: 'Nodes' } },
      healthCheck: { type: 'HTTP', port: hcnp, http: { path: '/healthz' } },
    });
    expect(vs!.spec.forwarding.snat).toBeUndefined();
    // the API server itself refuses target Nodes with NAT, with the reason
    const bad = await k.api.kubectl(['apply', '-f', '-'], { input: JSON.stringify({
      apiVersion: 'lvs.dev/v1alpha1', kind: 'VirtualService', metadata: { name: 'nodes-nat', namespace: ns },
      spec: { vip: '198.18.12.3', port: 80, protocol: 'TCP', directorGroup: 'edge', forwarding: { method: 'NAT' }, backends: { service: { name: 'local', target: 'Nodes' } } },
    }) });
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('backends.service.target Nodes needs forwarding DR or TUN');
    // and a Service asking for NAT with Local gets a condition naming the annotation, not a half-made object
    await createService('local-nat', { externalTrafficPolicy: 'Local', annotations: { ...fromPool, 'lvs.dev/forwarding': 'nat' } });
    await eventually(async () => {
      expect(condition(await getSvc('local-nat'), 'lvs.dev/VirtualServices')).toMatchObject({ status: 'False', reason: 'InvalidAnnotation', message: expect.stringContaining('annotation lvs.dev/forwarding: NAT: externalTrafficPolicy Local is served by DR or TUN') });
    });
    expect(await derivedOf('local-nat')).toEqual([]);
  });
});
