import { describe, expect, it } from 'vitest';
import type { AddressPool, VirtualService } from '../../../src/api/index.js';
import type { Service } from '../../../src/kube/types.js';
import { deriveVirtualServices, isDerivedError } from '../../../src/pool/derive.js';
import { addressCondition, derivedCondition, planLoadBalancers } from '../../../src/pool/plan.js';
import { addressRequest, isOurs, serviceOverrides } from '../../../src/pool/service-config.js';

function service(annotations: Record<string, string> = {}, spec: Partial<NonNullable<Service['spec']>> = {}, name = 'web'): Service {
  return {
    metadata: { name, namespace: 'ns', uid: `uid-${name}`, creationTimestamp: '2026-01-01T00:00:00Z', annotations },
    spec: { type: 'LoadBalancer', loadBalancerClass: 'lvs.dev/ipvs', ipFamilies: ['IPv4'], ports: [{ name: 'http', port: 80, protocol: 'TCP' }, { port: 53, protocol: 'UDP' }], ...spec },
  };
}

const v4 = [{ address: '192.0.2.1', family: 'IPv4' as const, directorGroup: 'edge' }];

describe('which Services are ours', () => {
  it('class lvs.dev/ipvs always; class-less only when claimed; never another class or type', () => {
    expect(isOurs(service(), false)).toBe(true);
    expect(isOurs(service({}, { loadBalancerClass: undefined }), false)).toBe(false);
    expect(isOurs(service({}, { loadBalancerClass: undefined }), true)).toBe(true);
    expect(isOurs(service({}, { loadBalancerClass: 'metallb.io/metallb' }), true)).toBe(false);
    expect(isOurs(service({}, { type: 'ClusterIP', loadBalancerClass: undefined }), true)).toBe(false);
  });
});

describe('address annotations', () => {
  it('reads requested addresses (canonical, one per family), the pool and the sharing key', () => {
    const r = addressRequest(service({ 'lvs.dev/load-balancer-ips': '192.0.2.7, 2001:DB8::0007', 'lvs.dev/address-pool': 'public', 'lvs.dev/allow-shared-ip': 'k' }, { ipFamilies: ['IPv4', 'IPv6'] }));
    expect(r).toEqual({ requested: ['192.0.2.7', '2001:db8::7'], pool: 'public', sharingKey: 'k', families: ['IPv4', 'IPv6'] });
  });

  it('falls back to the deprecated spec.loadBalancerIP', () => {
    expect(addressRequest(service({}, { loadBalancerIP: '192.0.2.9' }))).toMatchObject({ requested: ['192.0.2.9'] });
  });

  it.each([
    ['not an address', { 'lvs.dev/load-balancer-ips': '192.0.2.300' }, 'lvs.dev/load-balancer-ips', '"192.0.2.300" is not an IPv4 or IPv6 address'],
    ['two of one family', { 'lvs.dev/load-balancer-ips': '192.0.2.1,192.0.2.2' }, 'lvs.dev/load-balancer-ips', 'more than one IPv4 address'],
    ['a family the Service lacks', { 'lvs.dev/load-balancer-ips': '2001:db8::1' }, 'lvs.dev/load-balancer-ips', "2001:db8::1 is IPv6, but the Service's ipFamilies are IPv4"],
    ['empty', { 'lvs.dev/load-balancer-ips': ' , ' }, 'lvs.dev/load-balancer-ips', 'empty'],
    ['a pool name with capitals', { 'lvs.dev/address-pool': 'Public' }, 'lvs.dev/address-pool', 'is not an AddressPool name'],
    ['an empty sharing key', { 'lvs.dev/allow-shared-ip': ' ' }, 'lvs.dev/allow-shared-ip', 'the sharing key must be 1 to 253 characters'],
  ])('refuses %s', (_n, annotations, annotation, message) => {
    const r = addressRequest(service(annotations));
    expect(r).toMatchObject({ annotation });
    expect((r as { message: string }).message).toContain(message);
  });
});

describe('VirtualService annotations', () => {
  it('derive one VirtualService per port, NAT by default, owned by and labelled with the Service', () => {
    const d = deriveVirtualServices(service({ 'lvs.dev/scheduler': 'rr', 'lvs.dev/persistence-timeout': '600', 'lvs.dev/health-check': 'http:/healthz' }), v4);
    expect(isDerivedError(d)).toBe(false);
    if (isDerivedError(d)) return;
    expect(d.map((x) => x.name)).toEqual(['web-80-tcp', 'web-53-udp']);
    expect(d[0]).toMatchObject({
      namespace: 'ns',
      labels: { 'lvs.dev/service-name': 'web', 'lvs.dev/derived': 'true' },
      ownerReferences: [{ apiVersion: 'v1', kind: 'Service', name: 'web', uid: 'uid-web', controller: true }],
      spec: { vip: '192.0.2.1', port: 80, protocol: 'TCP', directorGroup: 'edge', backends: { service: { name: 'web', port: 'http' } }, forwarding: { method: 'NAT', snat: true }, scheduler: 'rr', persistence: { timeoutSeconds: 600 }, healthCheck: { type: 'HTTP', http: { path: '/healthz' } } },
    });
    expect(d[1]?.spec.backends).toEqual({ service: { name: 'web', port: 53 } });
  });

  it('a dual-stack Service gets a -v6 object per port for its IPv6 address', () => {
    const d = deriveVirtualServices(service(), [...v4, { address: '2001:db8::1', family: 'IPv6', directorGroup: 'edge' }]);
    expect(isDerivedError(d) ? [] : d.map((x) => x.name)).toEqual(['web-80-tcp', 'web-53-udp', 'web-80-tcp-v6', 'web-53-udp-v6']);
  });

  it.each([
    ['an unknown scheduler', { 'lvs.dev/scheduler': 'fastest' }, 'lvs.dev/scheduler', 'scheduler: Invalid option'],
    ['a persistence that is not a number', { 'lvs.dev/persistence-timeout': '5m' }, 'lvs.dev/persistence-timeout', '"5m" is not a number of seconds'],
    ['a persistence beyond a year', { 'lvs.dev/persistence-timeout': '99999999' }, 'lvs.dev/persistence-timeout', 'persistence.timeoutSeconds: Too big'],
    ['an unknown health check', { 'lvs.dev/health-check': 'icmp' }, 'lvs.dev/health-check', 'expected tcp, udp, sctp, ping, none, http[:/path] or https[:/path]'],
    ['a path on a tcp check', { 'lvs.dev/health-check': 'tcp:/x' }, 'lvs.dev/health-check', 'only http and https checks take a path'],
    ['a relative http path', { 'lvs.dev/health-check': 'http:healthz' }, 'lvs.dev/health-check', 'the path must start with "/"'],
    ['an unknown forwarding method', { 'lvs.dev/forwarding': 'bridge' }, 'lvs.dev/forwarding', 'forwarding.method: Invalid option'],
  ])('refuses %s, naming the annotation, with no object at all', (_n, annotations, annotation, message) => {
    const d = deriveVirtualServices(service(annotations), v4);
    expect(isDerivedError(d)).toBe(true);
    expect(d[0]).toMatchObject({ annotation });
    expect((d[0] as { message: string }).message).toContain(message);
  });

  it('DR or TUN forwarding carries no snat', () => {
    const d = deriveVirtualServices(service({ 'lvs.dev/forwarding': 'dr' }), v4);
    expect(isDerivedError(d) ? d : d[0]?.spec.forwarding).toEqual({ method: 'DR' });
  });

  it('externalTrafficPolicy Local: the nodes by DR, checked on the health check node port; NAT refused', () => {
    const local = { externalTrafficPolicy: 'Local' as const, healthCheckNodePort: 31999 };
    const d = deriveVirtualServices(service({}, local), v4);
    if (isDerivedError(d)) throw new Error(JSON.stringify(d));
    expect(d[0]?.spec).toMatchObject({
      forwarding: { method: 'DR' },
      backends: { service: { name: 'web', port: 'http', target: 'Nodes' } },
      healthCheck: { type: 'HTTP', port: 31999, http: { path: '/healthz' } },
    });
    expect(d[0]?.parsed.forwarding.snat).toBeUndefined();
    // TUN is kept; a health-check annotation replaces the node-port check
    const tun = deriveVirtualServices(service({ 'lvs.dev/forwarding': 'tun', 'lvs.dev/health-check': 'tcp' }, local), v4);
    expect(isDerivedError(tun) ? tun : tun[0]?.spec).toMatchObject({ forwarding: { method: 'TUN' }, healthCheck: { type: 'TCP' } });
    expect(deriveVirtualServices(service({ 'lvs.dev/forwarding': 'nat' }, local), v4)).toEqual([
      { annotation: 'lvs.dev/forwarding', message: expect.stringContaining('externalTrafficPolicy Local is served by DR or TUN') },
    ]);
  });

  it('persistence 0 means none', () => {
    expect(serviceOverrides(service({ 'lvs.dev/persistence-timeout': '0' }))).toEqual({});
  });
});

describe('plan', () => {
  const pools = [{ apiVersion: 'lvs.dev/v1alpha1', kind: 'AddressPool', metadata: { name: 'p', creationTimestamp: '2026-01-01T00:00:00Z', generation: 1 }, spec: { addresses: ['192.0.2.0/31'], directorGroup: 'edge', autoAssign: true } } as AddressPool];
  const derivedVS = (name: string, owner: string): VirtualService => ({ metadata: { name, namespace: 'ns', labels: { 'lvs.dev/service-name': owner } } }) as unknown as VirtualService;

  it('a bad annotation keeps the held address and the derived objects as they are', () => {
    const svc = service({ 'lvs.dev/scheduler': 'fastest' });
    svc.status = { loadBalancer: { ingress: [{ ip: '192.0.2.1', ipMode: 'VIP' }] } };
    const p = planLoadBalancers({ services: [svc], pools, namespaces: [], virtualServices: [derivedVS('web-80-tcp', 'web')], claimClassless: false }).services.get('ns/web');
    expect(p?.derived).toBe('keep');
    expect(p?.status).toMatchObject({ ingress: [{ ip: '192.0.2.1' }], conditions: [{ type: addressCondition, status: 'True' }, { type: derivedCondition, status: 'False', reason: 'InvalidAnnotation' }] });
  });

  it('a Service that left the class is released and its derived objects go; so do those of a deleted Service', () => {
    const left = service({}, { loadBalancerClass: 'other' });
    left.status = { loadBalancer: { ingress: [{ ip: '192.0.2.0' }] }, conditions: [{ type: addressCondition, status: 'True', reason: 'Allocated', message: '', lastTransitionTime: '2026-01-01T00:00:00Z' }] };
    const newcomer = service({}, {}, 'new');
    const plan = planLoadBalancers({ services: [left, newcomer], pools, namespaces: [], virtualServices: [derivedVS('web-80-tcp', 'web'), derivedVS('gone-80-tcp', 'gone')], claimClassless: false });
    expect(plan.services.get('ns/web')).toMatchObject({ status: 'release', derived: [] });
    expect(plan.services.get('ns/web')?.existing).toHaveLength(1);
    expect(plan.services.get('ns/gone')).toMatchObject({ service: undefined, derived: [] });
    // the released address is not handed out before the release is written
    expect(plan.services.get('ns/new')?.status).toMatchObject({ ingress: [{ ip: '192.0.2.1' }] });
  });

  it('never takes over a hand-written VirtualService of the derived name', () => {
    const handWritten = { metadata: { name: 'web-80-tcp', namespace: 'ns' } } as unknown as VirtualService;
    const p = planLoadBalancers({ services: [service()], pools, namespaces: [], virtualServices: [handWritten], claimClassless: false }).services.get('ns/web');
    expect(p?.status).toMatchObject({ conditions: [{ status: 'True' }, { status: 'False', reason: 'NameConflict' }] });
    expect(p?.derived === 'keep' ? [] : p?.derived.map((d) => d.name)).toEqual(['web-53-udp']);
  });

  it('writes ipMode Proxy when told to', () => {
    const p = planLoadBalancers({ services: [service()], pools, namespaces: [], virtualServices: [], claimClassless: false, ipMode: 'Proxy' }).services.get('ns/web');
    expect(p?.status).toMatchObject({ ingress: [{ ip: '192.0.2.0', ipMode: 'Proxy' }] });
  });

  it('writes ipMode VIP for externalTrafficPolicy Local even when told Proxy: kube-proxy on the nodes must take the VIP', () => {
    const p = planLoadBalancers({ services: [service({}, { externalTrafficPolicy: 'Local' })], pools, namespaces: [], virtualServices: [], claimClassless: false, ipMode: 'Proxy' }).services.get('ns/web');
    expect(p?.status).toMatchObject({ ingress: [{ ip: '192.0.2.0', ipMode: 'VIP' }] });
  });

  it('pool status counts and flags exhaustion', () => {
    const plan = planLoadBalancers({ services: [service({}, {}, 'a'), service({}, {}, 'b')], pools, namespaces: [], virtualServices: [], claimClassless: false });
    expect(plan.pools.get('p')).toMatchObject({ allocated: 2, free: '0', conditions: [{ type: 'Ready', status: 'True' }, { type: 'Degraded', status: 'True', reason: 'Exhausted' }] });
  });
});
