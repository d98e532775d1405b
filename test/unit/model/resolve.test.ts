import { describe, expect, it } from 'vitest';
import { buildSnapshot } from '../../../src/model/snapshot.js';
import { resolve } from '../../../src/model/resolve.js';
import type { ClusterModel, Reason, Snapshot } from '../../../src/model/types.js';
import { dg, node, nodesFor, ready, rs, service, slice, snapshot, vs, web } from './fixtures.js';
import type { Node } from '../../../src/kube/types.js';

function reasons(m: ClusterModel, key: string): Reason[] {
  const s = m.services.get(key);
  if (!s) throw new Error(`no service ${key}`);
  return s.issues.map((i) => i.reason);
}

function svc(m: ClusterModel, key: string) {
  const s = m.services.get(key);
  if (!s) throw new Error(`no service ${key}`);
  return s;
}

/** One web service with two DR real servers on a two-director group. */
function classic(): Snapshot {
  return snapshot({
    directorGroups: [dg('g1')],
    nodes: nodesFor(),
    virtualServices: [web('shop', 'web', '192.0.2.10', { forwarding: { method: 'DR' }, scheduler: 'wrr' })],
    realServers: [
      rs('shop', 'rs1', { address: '10.0.0.11', weight: 3 }, { app: 'web' }),
      rs('shop', 'rs2', { address: '10.0.0.12' }, { app: 'web' }),
    ],
  });
}

interface Case {
  name: string;
  snap: () => Snapshot;
  key: string;
  accepted: boolean;
  reasons: Reason[];
  backends?: string[];
  message?: RegExp;
}

const cases: Case[] = [
  { name: 'a classic DR service is accepted', snap: classic, key: 'shop/web', accepted: true, reasons: [], backends: ['10.0.0.11:80', '10.0.0.12:80'] },
  {
    name: 'missing DirectorGroup',
    snap: () => snapshot({ nodes: nodesFor(), virtualServices: [web('a', 'x', '192.0.2.1')] }),
    key: 'a/x',
    accepted: false,
    reasons: ['DirectorGroupNotFound'],
    message: /DirectorGroup g1 does not exist/,
  },
  {
    name: 'group selecting no node: accepted (agents appear when nodes are labelled), NoDirectors',
    snap: () =>
      snapshot({
        directorGroups: [dg('g1')],
        nodes: [node('worker-1')],
        virtualServices: [web('a', 'x', '192.0.2.1')],
        realServers: [rs('a', 'r', { address: '10.0.0.1' }, { app: 'x' })],
      }),
    key: 'a/x',
    accepted: true,
    reasons: ['NoDirectors'],
    message: /selects no node \(nodeSelector lvs.dev\/director=g1\)/,
  },
  {
    name: 'RealServer port under DR',
    snap: () =>
      snapshot({
        directorGroups: [dg('g1')],
        nodes: nodesFor(),
        virtualServices: [web('a', 'x', '192.0.2.1', { forwarding: { method: 'DR' } })],
        realServers: [
          rs('a', 'good', { address: '10.0.0.1' }, { app: 'x' }),
          rs('a', 'mapped', { address: '10.0.0.2', port: 8080 }, { app: 'x' }),
        ],
      }),
    key: 'a/x',
    accepted: true,
    reasons: ['PortMappingNotSupported'],
    backends: ['10.0.0.1:80'],
    message: /RealServer mapped port 8080 differs from port 80 .* DR forwarding cannot map ports/,
  },
  {
    name: 'RealServer port under NAT is a mapping NAT can do',
    snap: () =>
      snapshot({
        directorGroups: [dg('g1')],
        nodes: nodesFor(),
        virtualServices: [web('a', 'x', '192.0.2.1')],
        realServers: [rs('a', 'mapped', { address: '10.0.0.2', port: 8080 }, { app: 'x' })],
      }),
    key: 'a/x',
    accepted: true,
    reasons: [],
    backends: ['10.0.0.2:8080'],
  },
  {
    name: 'RealServer port equal to the VIP port under TUN is no mapping',
    snap: () =>
      snapshot({
        directorGroups: [dg('g1')],
        nodes: nodesFor(),
        virtualServices: [web('a', 'x', '192.0.2.1', { forwarding: { method: 'TUN' } })],
        realServers: [rs('a', 'same', { address: '10.0.0.2', port: 80 }, { app: 'x' })],
      }),
    key: 'a/x',
    accepted: true,
    reasons: [],
    backends: ['10.0.0.2:80'],
  },
  {
    name: 'IPv6 backend on an IPv4 VIP',
    snap: () =>
      snapshot({
        directorGroups: [dg('g1')],
        nodes: nodesFor(),
        virtualServices: [web('a', 'x', '192.0.2.1')],
        realServers: [rs('a', 'v6', { address: '2001:db8::5' }, { app: 'x' }), rs('a', 'v4', { address: '10.0.0.5' }, { app: 'x' })],
      }),
    key: 'a/x',
    accepted: true,
    reasons: ['FamilyMismatch'],
    backends: ['10.0.0.5:80'],
    message: /2001:db8::5 is IPv6 but VirtualService a\/x is IPv4/,
  },
  {
    name: 'nothing selected: NoBackends, still accepted',
    snap: () => snapshot({ directorGroups: [dg('g1')], nodes: nodesFor(), virtualServices: [web('a', 'x', '192.0.2.1')] }),
    key: 'a/x',
    accepted: true,
    reasons: ['NoBackends'],
    backends: [],
    message: /no usable RealServer in namespace a matches app=x/,
  },
  {
    name: 'scheduler the kernel lacks',
    snap: () => ({ ...classic(), unsupportedSchedulers: ['wrr', 'mh'] }),
    key: 'shop/web',
    accepted: false,
    reasons: ['UnsupportedScheduler'],
    message: /no IPVS scheduler wrr/,
  },
  {
    name: 'IPv6 VIP on a VRRPv2 group',
    snap: () =>
      snapshot({
        directorGroups: [dg('g1', { vrrp: { version: 2 } })],
        nodes: nodesFor(),
        virtualServices: [web('a', 'x', '2001:db8::10')],
      }),
    key: 'a/x',
    accepted: false,
    reasons: ['FamilyMismatch'],
    message: /VRRP version 2, which carries only IPv4/,
  },
  {
    name: 'Service reference to a missing Service',
    snap: () =>
      snapshot({
        directorGroups: [dg('g1')],
        nodes: nodesFor(),
        virtualServices: [web('a', 'x', '192.0.2.1', { backends: { service: { name: 'gone' } } })],
      }),
    key: 'a/x',
    accepted: true,
    reasons: ['ServiceNotFound', 'NoBackends'],
    message: /Service a\/gone does not exist/,
  },
  {
    name: 'Service with two ports and none chosen',
    snap: () =>
      snapshot({
        directorGroups: [dg('g1')],
        nodes: nodesFor(),
        services: [service('a', 'api', [{ name: 'http', port: 80 }, { name: 'https', port: 443 }])],
        virtualServices: [web('a', 'x', '192.0.2.1', { backends: { service: { name: 'api' } } })],
      }),
    key: 'a/x',
    accepted: true,
    reasons: ['ServicePortNotFound', 'NoBackends'],
    message: /Service api has 2 ports; set backends.service.port to one of http, https/,
  },
  {
    name: 'EndpointSlice ports mapped under DR',
    snap: () =>
      snapshot({
        directorGroups: [dg('g1')],
        nodes: nodesFor(),
        services: [service('a', 'api', [{ name: 'http', port: 80, targetPort: 8080 }])],
        endpointSlices: [slice('a', 'api-1', 'api', [{ name: 'http', port: 8080 }], [ready('10.1.0.1')])],
        virtualServices: [web('a', 'x', '192.0.2.1', { forwarding: { method: 'DR' }, backends: { service: { name: 'api' } } })],
      }),
    key: 'a/x',
    accepted: true,
    reasons: ['PortMappingNotSupported', 'NoBackends'],
    message: /Service api port 80 targets port 8080 .* DR forwarding cannot map ports/,
  },
];

describe('resolve: per-service outcomes', () => {
  for (const c of cases) {
    it(c.name, () => {
      const m = resolve(c.snap());
      const s = svc(m, c.key);
      expect(s.accepted).toBe(c.accepted);
      expect(reasons(m, c.key)).toEqual(c.reasons);
      if (c.backends) expect(s.backends.map((b) => `${b.address}:${b.port}`)).toEqual(c.backends);
      if (c.message) expect(s.issues.map((i) => i.message).join('\n')).toMatch(c.message);
    });
  }
});

describe('resolve: backends', () => {
  it('takes weight, thresholds, node, forwarding and health check overrides from RealServers', () => {
    const m = resolve(
      snapshot({
        directorGroups: [dg('g1')],
        nodes: nodesFor(),
        virtualServices: [web('a', 'x', '192.0.2.1', { forwarding: { method: 'DR' }, healthCheck: { type: 'TCP' } })],
        realServers: [
          rs(
            'a',
            'r1',
            {
              address: '10.0.0.1',
              weight: 7,
              upperThreshold: 100,
              lowerThreshold: 50,
              nodeName: 'worker-1',
              forwarding: { method: 'TUN' },
              healthCheck: { type: 'HTTP', http: { path: '/healthz' } },
            },
            { app: 'x' },
          ),
        ],
      }),
    );
    const [b] = svc(m, 'a/x').backends;
    expect(b).toMatchObject({
      address: '10.0.0.1',
      port: 80,
      weight: 7,
      upperThreshold: 100,
      lowerThreshold: 50,
      nodeName: 'worker-1',
      forwarding: { method: 'TUN' },
      source: { kind: 'RealServer', namespace: 'a', name: 'r1' },
    });
    expect(b?.healthChecks).toMatchObject([{ type: 'HTTP', http: { urls: [{ path: '/healthz', expectedStatus: [[200, 299]] }] }, fall: 3 }]);
  });

  it('follows ready EndpointSlice endpoints of the named port, one family, deduplicated', () => {
    const m = resolve(
      snapshot({
        directorGroups: [dg('g1')],
        nodes: nodesFor(),
        services: [service('a', 'api', [{ name: 'http', port: 80 }, { name: 'metrics', port: 9090 }])],
        endpointSlices: [
          slice('a', 'api-1', 'api', [{ name: 'http', port: 8080 }, { name: 'metrics', port: 9090 }], [
            ready('10.1.0.2', 'worker-1'),
            { addresses: ['10.1.0.3'], conditions: { ready: false } },
            { addresses: ['10.1.0.4'], conditions: { ready: true, terminating: true } },
            { addresses: ['10.1.0.5'] }, // no conditions: ready by API definition
          ]),
          // The same endpoint seen twice while slices are rebalanced.
          slice('a', 'api-2', 'api', [{ name: 'http', port: 8080 }], [ready('10.1.0.2'), ready('10.1.0.1')]),
          slice('a', 'api-v6', 'api', [{ name: 'http', port: 8080 }], [ready('2001:db8::1')], 'IPv6'),
          slice('a', 'other', 'other', [{ name: 'http', port: 8080 }], [ready('10.9.9.9')]),
          slice('b', 'api-1', 'api', [{ name: 'http', port: 8080 }], [ready('10.8.8.8')]),
        ],
        virtualServices: [web('a', 'x', '192.0.2.1', { backends: { service: { name: 'api', port: 'http' }, defaultWeight: 5 } })],
      }),
    );
    const s = svc(m, 'a/x');
    expect(s.issues).toEqual([]);
    expect(s.backends.map((b) => `${b.address}:${b.port}/${b.weight}`)).toEqual(['10.1.0.1:8080/5', '10.1.0.2:8080/5', '10.1.0.5:8080/5']);
    expect(s.backends[1]).toMatchObject({ nodeName: 'worker-1', source: { kind: 'EndpointSlice', service: 'api', name: 'api-1' } });
  });

  it('target Nodes: one backend per node with ready endpoints, at its InternalIP and the VIP port, weighted by its endpoints', () => {
    const withIp = (name: string, ...addresses: { type: string; address: string }[]): Node => ({ ...node(name), status: { addresses } });
    const m = resolve(
      snapshot({
        directorGroups: [dg('g1')],
        nodes: [...nodesFor(), withIp('n1', { type: 'Hostname', address: 'n1' }, { type: 'InternalIP', address: '10.0.0.11' }), withIp('n2', { type: 'InternalIP', address: '10.0.0.12' }), withIp('n3', { type: 'ExternalIP', address: '198.51.100.3' })],
        services: [service('a', 'api', [{ name: 'http', port: 80 }])],
        endpointSlices: [
          slice('a', 'api-1', 'api', [{ name: 'http', port: 8080 }], [ready('10.244.1.1', 'n1'), ready('10.244.1.2', 'n1'), ready('10.244.2.1', 'n2'), { addresses: ['10.244.2.2'], conditions: { ready: false }, nodeName: 'n2' }]),
          slice('a', 'api-2', 'api', [{ name: 'http', port: 8080 }], [ready('10.244.1.3', 'n1'), ready('10.244.3.1', 'n3'), ready('10.244.9.1', 'gone'), ready('10.244.9.2')]),
        ],
        virtualServices: [web('a', 'x', '192.0.2.1', { forwarding: { method: 'DR' }, backends: { service: { name: 'api', port: 'http', target: 'Nodes' }, defaultWeight: 2 } })],
      }),
    );
    const s = svc(m, 'a/x');
    // DR keeps the VIP's port: the endpoints' port 8080 is kube-proxy's business on the node
    expect(s.backends.map((b) => `${b.address}:${b.port}/${b.weight}/${b.nodeName}`)).toEqual(['10.0.0.11:80/6/n1', '10.0.0.12:80/2/n2']);
    expect(s.backends[0]?.source).toEqual({ kind: 'Node', name: 'n1', service: 'api', endpoints: 3 });
    expect(s.issues.map((i) => i.reason)).toEqual(['EndpointWithoutNode', 'NodeNotFound', 'NodeWithoutAddress']);
    expect(s.issues.map((i) => i.message).join('\n')).toMatch(/1 ready endpoints without a nodeName[\s\S]*nodes that do not exist, left out: gone[\s\S]*without an IPv4 InternalIP, left out: n3/);
    expect(s.accepted).toBe(true);
  });

  it('target Nodes is refused with NAT forwarding', () => {
    expect(() => web('a', 'x', '192.0.2.1', { forwarding: { method: 'NAT' }, backends: { service: { name: 'api', target: 'Nodes' } } })).toThrow(/target Nodes needs forwarding DR or TUN/);
  });

  it('picks the only port of a one-port Service and its unnamed slice port', () => {
    const m = resolve(
      snapshot({
        directorGroups: [dg('g1')],
        nodes: nodesFor(),
        services: [service('a', 'dns', [{ port: 53, protocol: 'UDP' }])],
        endpointSlices: [slice('a', 'dns-1', 'dns', [{ port: 5353 }], [ready('10.1.0.9')])],
        virtualServices: [vs('a', 'x', { vip: '192.0.2.53', port: 53, protocol: 'UDP', backends: { service: { name: 'dns' } } })],
      }),
    );
    expect(svc(m, 'a/x').backends.map((b) => `${b.address}:${b.port}`)).toEqual(['10.1.0.9:5353']);
  });

  it('merges RealServers and endpoints, the RealServer winning a duplicate address:port', () => {
    const m = resolve(
      snapshot({
        directorGroups: [dg('g1')],
        nodes: nodesFor(),
        services: [service('a', 'api', [{ port: 80 }])],
        endpointSlices: [slice('a', 'api-1', 'api', [{ port: 80 }], [ready('10.0.0.1'), ready('10.0.0.2')])],
        virtualServices: [web('a', 'x', '192.0.2.1', { backends: { realServerSelector: { matchLabels: { app: 'x' } }, service: { name: 'api' } } })],
        realServers: [rs('a', 'r1', { address: '10.0.0.1', weight: 9 }, { app: 'x' })],
      }),
    );
    expect(svc(m, 'a/x').backends.map((b) => `${b.address}:${b.port}/${b.weight}/${b.source.kind}`)).toEqual([
      '10.0.0.1:80/9/RealServer',
      '10.0.0.2:80/1/EndpointSlice',
    ]);
  });

  it("gives each backend its inhibitOnFailure: the RealServer's own, else the VirtualService's (endpoints too)", () => {
    const m = resolve(
      snapshot({
        directorGroups: [dg('g1')],
        nodes: nodesFor(),
        services: [service('a', 'api', [{ port: 80 }])],
        endpointSlices: [slice('a', 'api-1', 'api', [{ port: 80 }], [ready('10.0.0.3')])],
        virtualServices: [web('a', 'x', '192.0.2.1', { inhibitOnFailure: true, backends: { realServerSelector: { matchLabels: { app: 'x' } }, service: { name: 'api' } } })],
        realServers: [
          rs('a', 'r1', { address: '10.0.0.1', inhibitOnFailure: false }, { app: 'x' }),
          rs('a', 'r2', { address: '10.0.0.2' }, { app: 'x' }),
        ],
      }),
    );
    expect(svc(m, 'a/x').backends.map((b) => `${b.address}/${b.inhibitOnFailure}`)).toEqual(['10.0.0.1/false', '10.0.0.2/true', '10.0.0.3/true']);
  });

  it('gives fwmark DR backends port 0 and canonical IPv6 addresses', () => {
    const m = resolve(
      snapshot({
        directorGroups: [dg('g1')],
        nodes: nodesFor(),
        virtualServices: [
          vs('a', 'fw', { fwmark: 7, addressFamily: 'IPv6', fwmarkVIPs: ['2001:DB8:0::10'], forwarding: { method: 'DR' } }),
        ],
        realServers: [rs('a', 'r', { address: '2001:DB8:0:0::20' }, { app: 'fw' })],
      }),
    );
    const s = svc(m, 'a/fw');
    expect(s.ipvsKey).toBe('FWM 7 IPv6');
    expect(s.vips.map((v) => v.vip)).toEqual(['2001:db8::10']);
    expect(s.backends.map((b) => `${b.address}:${b.port}`)).toEqual(['2001:db8::20:0']);
  });

  it('clears the port of a fwmark DR or TUN real server and keeps it, saying so (keepalived check_data.c)', () => {
    const withMethod = (method: 'DR' | 'TUN' | 'NAT'): ClusterModel =>
      resolve(
        snapshot({
          directorGroups: [dg('g1')],
          nodes: nodesFor(),
          virtualServices: [vs('a', 'fw', { fwmark: 7, fwmarkVIPs: ['192.0.2.7'], forwarding: { method } })],
          realServers: [rs('a', 'r', { address: '10.0.0.1', port: 8080 }, { app: 'fw' })],
        }),
      );
    for (const method of ['DR', 'TUN'] as const) {
      const m = withMethod(method);
      const s = svc(m, 'a/fw');
      expect(s.backends.map((b) => `${b.address}:${b.port}`)).toEqual(['10.0.0.1:0']);
      const said = `RealServer r port 8080 cleared: fwmark VirtualService a/fw forwards by ${method}, which delivers the packet's own port`;
      expect(s.issues.map((i) => [i.reason, i.message, i.blocking])).toEqual([['PortCleared', said, false]]);
      expect(m.realServers.get('a/r')?.issues.map((i) => i.message)).toEqual([said]);
    }
    // NAT maps ports: the port is the real server's.
    const nat = svc(withMethod('NAT'), 'a/fw');
    expect(nat.backends.map((b) => `${b.address}:${b.port}`)).toEqual(['10.0.0.1:8080']);
    expect(nat.issues).toEqual([]);
  });

  it('records which services select and use each RealServer', () => {
    const snap = classic();
    const m = resolve({
      ...snap,
      virtualServices: [...snap.virtualServices, web('shop', 'web-tls', '192.0.2.10', { port: 443, backends: { realServerSelector: { matchLabels: { app: 'web' } } } })],
      realServers: [...snap.realServers, rs('shop', 'lonely', { address: '10.0.0.99' }, { app: 'none' })],
    });
    expect(m.realServers.get('shop/rs1')).toMatchObject({ selectedBy: ['shop/web', 'shop/web-tls'], usedBy: ['shop/web', 'shop/web-tls'], issues: [] });
    expect(m.realServers.get('shop/lonely')?.issues.map((i) => i.reason)).toEqual(['NotSelected']);
  });

  it('orders the issues of a RealServer by VirtualService key, whatever the informer order', () => {
    const services = [
      web('a', 'zeta', '192.0.2.1', { forwarding: { method: 'DR' }, backends: { realServerSelector: { matchLabels: { app: 'x' } } } }),
      web('a', 'alpha', '192.0.2.2', { forwarding: { method: 'DR' }, backends: { realServerSelector: { matchLabels: { app: 'x' } } } }),
    ];
    const base = snapshot({ directorGroups: [dg('g1')], nodes: nodesFor(), realServers: [rs('a', 'mapped', { address: '10.0.0.1', port: 8080 }, { app: 'x' })] });
    const issuesOf = (m: ClusterModel) => m.realServers.get('a/mapped')?.issues.map((i) => /VirtualService (\S+);/.exec(i.message)?.[1]);
    expect(issuesOf(resolve({ ...base, virtualServices: services }))).toEqual(['a/alpha', 'a/zeta']);
    expect(issuesOf(resolve({ ...base, virtualServices: [...services].reverse() }))).toEqual(['a/alpha', 'a/zeta']);
  });
});

describe('resolve: conflicts', () => {
  const base = (services: ReturnType<typeof web>[]) =>
    snapshot({ directorGroups: [dg('g1'), dg('g2')], nodes: [...nodesFor('g1'), node('dir-c', { 'lvs.dev/director': 'g2' })], virtualServices: services });

  it('the oldest claim of VIP:port:protocol wins; the loser says who holds it', () => {
    const old = web('team-b', 'first', '192.0.2.7', {}, { created: '2024-02-01T00:00:00Z' });
    const young = web('team-a', 'second', '192.0.2.7', {}, { created: '2024-03-01T00:00:00Z' });
    const m = resolve(base([young, old]));
    expect(svc(m, 'team-b/first').accepted).toBe(true);
    expect(reasons(m, 'team-b/first')).not.toContain('Conflict');
    expect(svc(m, 'team-a/second').accepted).toBe(false);
    expect(svc(m, 'team-a/second').issues[0]).toMatchObject({
      reason: 'Conflict',
      blocking: true,
      message: expect.stringMatching(/^TCP 192.0.2.7:80 is already claimed by VirtualService team-b\/first/),
    });
    expect(m.groups.get('g1')?.services).toEqual(['team-b/first']);
    // Deleting the winner promotes the loser.
    const after = resolve(base([young]));
    expect(svc(after, 'team-a/second').accepted).toBe(true);
    expect(reasons(after, 'team-a/second')).not.toContain('Conflict');
  });

  it('same creation second: namespace/name decides', () => {
    const t = '2024-02-01T00:00:00Z';
    const m = resolve(base([web('b', 'x', '192.0.2.7', {}, { created: t }), web('a', 'z', '192.0.2.7', {}, { created: t })]));
    expect(svc(m, 'a/z').accepted).toBe(true);
    expect(reasons(m, 'b/x')).toContain('Conflict');
  });

  it('the same VIP on other ports or protocols is no conflict, and shares one router id', () => {
    const m = resolve(
      base([web('a', 'http', '192.0.2.7'), web('a', 'https', '192.0.2.7', { port: 443 }), vs('a', 'dns', { vip: '192.0.2.7', port: 80, protocol: 'UDP' })]),
    );
    for (const k of ['a/http', 'a/https', 'a/dns']) expect(reasons(m, k)).not.toContain('Conflict');
    expect(m.groups.get('g1')?.vrids).toEqual([{ vip: '192.0.2.7', interface: 'eth0', vrid: 1 }]);
    expect(new Set(['a/http', 'a/https', 'a/dns'].map((k) => svc(m, k).vips[0]?.vrid))).toEqual(new Set([1]));
  });

  it('one VIP in two DirectorGroups conflicts even on different ports', () => {
    const m = resolve(base([web('a', 'one', '192.0.2.7', {}, { created: '2024-01-01T00:00:00Z' }), web('a', 'two', '192.0.2.7', { port: 443, directorGroup: 'g2' }, { created: '2024-01-02T00:00:00Z' })]));
    expect(svc(m, 'a/one').accepted).toBe(true);
    expect(svc(m, 'a/two').issues[0]?.message).toMatch(/VIP 192.0.2.7 is already carried by DirectorGroup g1 for VirtualService a\/one/);
  });

  it('IPv6 text forms of one address collide', () => {
    const m = resolve(base([web('a', 'one', '2001:db8::7', {}, { created: '2024-01-01T00:00:00Z' }), web('a', 'two', '2001:DB8:0::7', {}, { created: '2024-01-02T00:00:00Z' })]));
    expect(reasons(m, 'a/two')).toContain('Conflict');
    expect(svc(m, 'a/two').issues[0]?.message).toMatch(/TCP \[2001:db8::7\]:80/);
  });

  it('fwmark services collide on mark and family only', () => {
    const m = resolve(
      base([
        vs('a', 'm4', { fwmark: 5 }, { created: '2024-01-01T00:00:00Z' }),
        vs('a', 'm4-again', { fwmark: 5 }, { created: '2024-01-02T00:00:00Z' }),
        vs('a', 'm6', { fwmark: 5, addressFamily: 'IPv6' }, { created: '2024-01-03T00:00:00Z' }),
      ]),
    );
    expect(reasons(m, 'a/m4')).not.toContain('Conflict');
    expect(svc(m, 'a/m4-again').issues[0]?.message).toMatch(/^FWM 5 IPv4 is already claimed by VirtualService a\/m4/);
    expect(reasons(m, 'a/m6')).not.toContain('Conflict');
  });

  it('a service that cannot be placed (no group) does not block a younger one', () => {
    const m = resolve(
      base([
        web('a', 'orphan', '192.0.2.7', { directorGroup: 'missing' }, { created: '2024-01-01T00:00:00Z' }),
        web('a', 'placed', '192.0.2.7', {}, { created: '2024-01-02T00:00:00Z' }),
      ]),
    );
    expect(reasons(m, 'a/orphan')).toEqual(['DirectorGroupNotFound']);
    expect(reasons(m, 'a/placed')).not.toContain('Conflict');
  });

  it('an unsupported scheduler does not change who wins (controller and agents agree)', () => {
    const services = [
      web('a', 'old', '192.0.2.7', { scheduler: 'mh' }, { created: '2024-01-01T00:00:00Z' }),
      web('a', 'new', '192.0.2.7', {}, { created: '2024-01-02T00:00:00Z' }),
    ];
    const onAgent = resolve({ ...base(services), unsupportedSchedulers: ['mh'] });
    expect(reasons(onAgent, 'a/old')).toEqual(['UnsupportedScheduler', 'NoBackends']);
    expect(reasons(onAgent, 'a/new')).toContain('Conflict');
  });
});

describe('resolve: groups and router ids', () => {
  it('lists director nodes and allocates one router id per VIP from 1', () => {
    const m = resolve(
      snapshot({
        directorGroups: [dg('g1')],
        nodes: nodesFor(),
        virtualServices: [web('a', 'x', '192.0.2.2'), web('a', 'y', '192.0.2.1')],
      }),
    );
    const g = m.groups.get('g1');
    expect(g?.directors).toEqual(['dir-a', 'dir-b']);
    expect(g?.vrids).toEqual([
      { vip: '192.0.2.1', interface: 'eth0', vrid: 1 },
      { vip: '192.0.2.2', interface: 'eth0', vrid: 2 },
    ]);
    expect(svc(m, 'a/x').vips).toEqual([{ vip: '192.0.2.2', interface: 'eth0', vrid: 2 }]);
    expect(svc(m, 'a/x').directors).toEqual(['dir-a', 'dir-b']);
  });

  it('keeps recorded ids across restarts and gives a new VIP the lowest free id', () => {
    const recorded = [
      { vip: '192.0.2.2', interface: 'eth0', vrid: 1 },
      { vip: '192.0.2.9', interface: 'eth0', vrid: 3 },
    ];
    const m = resolve(
      snapshot({
        directorGroups: [dg('g1', {}, { vrids: recorded })],
        nodes: nodesFor(),
        virtualServices: [web('a', 'x', '192.0.2.2'), web('a', 'y', '192.0.2.9'), web('a', 'new', '192.0.2.1')],
      }),
    );
    expect(m.groups.get('g1')?.vrids).toEqual([
      { vip: '192.0.2.1', interface: 'eth0', vrid: 2 },
      { vip: '192.0.2.2', interface: 'eth0', vrid: 1 },
      { vip: '192.0.2.9', interface: 'eth0', vrid: 3 },
    ]);
  });

  it('groups on one interface never share an id; another interface has its own ids', () => {
    const m = resolve(
      snapshot({
        directorGroups: [
          dg('g1', {}, { created: '2024-01-01T00:00:00Z', vrids: [{ vip: '192.0.2.1', interface: 'eth0', vrid: 1 }] }),
          // g2 recorded id 1 too (say its interface was edited): the older group keeps it.
          dg('g2', {}, { created: '2024-01-02T00:00:00Z', vrids: [{ vip: '192.0.2.50', interface: 'eth0', vrid: 1 }] }),
          dg('g3', { interface: 'bond1' }, { created: '2024-01-03T00:00:00Z' }),
        ],
        nodes: [...nodesFor('g1'), node('c', { 'lvs.dev/director': 'g2' }), node('d', { 'lvs.dev/director': 'g3' })],
        virtualServices: [
          web('a', 'one', '192.0.2.1'),
          web('a', 'fifty', '192.0.2.50', { directorGroup: 'g2' }),
          web('a', 'two', '192.0.2.2'),
          web('a', 'three', '192.0.2.3', { directorGroup: 'g3' }),
        ],
      }),
    );
    expect(m.groups.get('g1')?.vrids.map((a) => `${a.vip}=${a.vrid}`)).toEqual(['192.0.2.1=1', '192.0.2.2=2']);
    expect(m.groups.get('g2')?.vrids.map((a) => `${a.vip}=${a.vrid}`)).toEqual(['192.0.2.50=3']);
    expect(m.groups.get('g3')?.vrids).toEqual([{ vip: '192.0.2.3', interface: 'bond1', vrid: 1 }]);
  });

  it('reports exhaustion of router ids on the group and blocks the service left without one', () => {
    const services = Array.from({ length: 256 }, (_, i) => web('a', `s${String(i).padStart(3, '0')}`, `10.${Math.floor(i / 250)}.${i % 250}.1`));
    const m = resolve(snapshot({ directorGroups: [dg('g1')], nodes: nodesFor(), virtualServices: services }));
    const g = m.groups.get('g1');
    expect(g?.vrids).toHaveLength(255);
    expect(g?.issues.map((i) => i.reason)).toEqual(['VridExhausted']);
    const blocked = [...m.services.values()].filter((s) => s.issues.some((i) => i.reason === 'VridExhausted'));
    expect(blocked).toHaveLength(1);
    expect(blocked[0]?.accepted).toBe(false);
  });

  it('reports a missing VRRP auth Secret when the caller knows the Secrets', () => {
    const group = dg('g1', { vrrp: { version: 2, authSecretRef: { name: 'vrrp', namespace: 'lvs-system' } } });
    const missing = resolve(snapshot({ directorGroups: [group], nodes: nodesFor(), secrets: new Set() }));
    expect(missing.groups.get('g1')?.issues).toEqual([
      { reason: 'AuthSecretNotFound', blocking: true, message: 'Secret lvs-system/vrrp named by vrrp.authSecretRef does not exist' },
    ]);
    const present = resolve(snapshot({ directorGroups: [group], nodes: nodesFor(), secrets: new Set(['lvs-system/vrrp']) }));
    expect(present.groups.get('g1')?.issues).toEqual([]);
  });

  it('NoDirectors on the group itself', () => {
    const m = resolve(snapshot({ directorGroups: [dg('g1')], nodes: [node('w')] }));
    expect(m.groups.get('g1')?.issues.map((i) => i.reason)).toEqual(['NoDirectors']);
  });
});

describe('resolve: invalid objects and determinism', () => {
  it('reports objects the schema refuses instead of dropping them', () => {
    const snap = buildSnapshot({
      directorGroups: [],
      virtualServices: [
        { apiVersion: 'lvs.dev/v1alpha1', kind: 'VirtualService', metadata: { name: 'bad', namespace: 'a', generation: 4 }, spec: { vip: '192.0.2.1', directorGroup: 'g1', backends: {} } },
      ],
      realServers: [{ apiVersion: 'lvs.dev/v1alpha1', kind: 'RealServer', metadata: { name: 'r', namespace: 'a' }, spec: { address: 'nope' } }],
      services: [],
      endpointSlices: [],
      nodes: [],
    });
    const m = resolve(snap);
    const bad = svc(m, 'a/bad');
    expect(bad).toMatchObject({ accepted: false, generation: 4 });
    expect(bad.issues[0]?.reason).toBe('InvalidSpec');
    expect(bad.issues[0]?.message).toMatch(/VirtualService a\/bad is invalid/);
    expect(m.realServers.get('a/r')?.issues[0]?.reason).toBe('InvalidSpec');
  });

  it('leaves out objects being deleted', () => {
    const gone = { ...web('a', 'x', '192.0.2.1'), metadata: { name: 'x', namespace: 'a', deletionTimestamp: '2024-01-01T00:00:00Z' } };
    const snap = buildSnapshot({ directorGroups: [], virtualServices: [gone], realServers: [], services: [], endpointSlices: [], nodes: [] });
    expect(snap.virtualServices).toEqual([]);
  });

  it('gives the same answer whatever order the caches list objects in', () => {
    const snap = snapshot({
      directorGroups: [dg('g1'), dg('g2', { interface: 'eth0' })],
      nodes: [...nodesFor('g1'), node('c', { 'lvs.dev/director': 'g2' })],
      virtualServices: [
        web('a', 'w1', '192.0.2.1'),
        web('a', 'w2', '192.0.2.1'),
        web('b', 'w3', '192.0.2.3', { directorGroup: 'g2' }),
        web('b', 'w4', '192.0.2.1', { directorGroup: 'g2', port: 8443 }),
        web('a', 'w5', '192.0.2.5'),
      ],
      realServers: [rs('a', 'r1', { address: '10.0.0.1' }, { app: 'w1' }), rs('a', 'r2', { address: '10.0.0.2' }, { app: 'w5' })],
    });
    const canonical = JSON.stringify(dump(resolve(snap)));
    let seed = 7;
    const shuffle = <T>(xs: readonly T[]): T[] => {
      const out = [...xs];
      for (let i = out.length - 1; i > 0; i--) {
        seed = (seed * 1103515245 + 12345) % 2 ** 31;
        const j = seed % (i + 1);
        [out[i], out[j]] = [out[j] as T, out[i] as T];
      }
      return out;
    };
    for (let round = 0; round < 20; round++) {
      const shuffled: Snapshot = {
        ...snap,
        directorGroups: shuffle(snap.directorGroups),
        nodes: shuffle(snap.nodes),
        virtualServices: shuffle(snap.virtualServices),
        realServers: shuffle(snap.realServers),
      };
      expect(JSON.stringify(dump(resolve(shuffled)))).toBe(canonical);
    }
  });
});

/** Model as plain data with map entries sorted, to compare runs. */
function dump(m: ClusterModel): unknown {
  const sorted = <V>(map: Map<string, V>) => [...map.entries()].sort(([a], [b]) => (a < b ? -1 : 1));
  return { groups: sorted(m.groups).map(([k, g]) => [k, { ...g, group: undefined }]), services: sorted(m.services), realServers: sorted(m.realServers) };
}
