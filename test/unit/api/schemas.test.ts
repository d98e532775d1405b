import { describe, expect, it } from 'vitest';
import {
  DirectorGroup,
  RealServer,
  VirtualService,
  apiVersion,
  kinds,
  parseDirectorGroup,
  parseLvsObject,
  parseRealServer,
  parseVirtualService,
  parseVirtualServiceSpec,
  serviceFamily,
} from '../../../src/api/index.js';
import { validDirectorGroup, validRealServer, validVirtualService } from '../../api/invalid-objects.js';

describe('group and kinds', () => {
  it('names the API lvs.dev/v1alpha1 with the agreed short names', () => {
    expect(apiVersion).toBe('lvs.dev/v1alpha1');
    expect(kinds.VirtualService.shortNames).toEqual(['lvsvs']);
    expect(kinds.RealServer.shortNames).toEqual(['lvsrs']);
    expect(kinds.DirectorGroup.shortNames).toEqual(['lvsdg']);
    expect(kinds.DirectorGroup.scope).toBe('Cluster');
  });
});

describe('defaults', () => {
  it('fills a minimal VirtualService like the API server would', () => {
    const r = parseVirtualService({
      apiVersion,
      kind: 'VirtualService',
      metadata: { name: 'web', namespace: 'default' },
      spec: { vip: '192.0.2.10', port: 80, protocol: 'TCP', backends: { service: { name: 'web' } }, directorGroup: 'edge' },
    });
    expect(r.ok, r.ok ? '' : r.error).toBe(true);
    if (!r.ok) return;
    expect(r.value.spec).toEqual({
      vip: '192.0.2.10',
      port: 80,
      protocol: 'TCP',
      forwarding: { method: 'NAT' },
      onePacket: false,
      backends: { service: { name: 'web' }, defaultWeight: 1 },
      inhibitOnFailure: false,
      adopt: false,
      directorGroup: 'edge',
    });
  });

  it('fills nested defaults of health check blocks', () => {
    const r = parseVirtualServiceSpec({
      vip: '2001:db8::10',
      port: 443,
      protocol: 'TCP',
      backends: { service: { name: 'web', port: 'https' } },
      healthCheck: { type: 'HTTPS', http: {} },
      persistence: { netmask: 64 },
      directorGroup: 'edge',
    });
    expect(r.ok, r.ok ? '' : r.error).toBe(true);
    if (!r.ok) return;
    expect(r.value.healthCheck?.http).toEqual({ enableSNI: false, tlsVerify: false });
    expect(r.value.persistence).toEqual({ timeoutSeconds: 300, netmask: 64 });
  });

  it('fills DirectorGroup VRRP and sync defaults (VRRP v3, 1 s adverts, preempt)', () => {
    const r = parseDirectorGroup(validDirectorGroup());
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.spec.vrrp).toEqual({
      election: 'Auto',
      version: 3,
      advertIntervalMs: 1000,
      preempt: true,
      preemptDelaySeconds: 0,
      garpRepeat: 5,
      garpIntervalMs: 0,
      // keepalived's defaults: a second round 5 s after becoming master, no refresh.
      garpMasterDelaySeconds: 5,
      garpMasterRefreshSeconds: 0,
      garpMasterRefreshRepeat: 1,
      unhealthyPriorityDrop: 100,
    });
    expect(r.value.spec.sync).toEqual({ enabled: false, syncId: 0 });
  });

  it('defaults a group to VRRP, and a BGP group to BFD 100 ms x 3, hold 9 s, keepalive 3 s, port 179, drain 3 s, consistent schedulers only', () => {
    const vrrp = parseDirectorGroup(validDirectorGroup());
    expect(vrrp.ok && vrrp.value.spec.announce).toBe('VRRP');
    const obj = validDirectorGroup();
    obj.spec.announce = 'BGP';
    obj.spec.bgp = {
      localASN: 4200000001,
      peers: [{ address: '2001:db8::1', asn: 65000, passwordSecretRef: { name: 'bgp', namespace: 'lvs-system' } }],
      nodes: [{ nodeSelector: { matchLabels: { rack: 'b' } }, routerId: '10.0.2.1', peers: [{ address: '10.0.2.254', asn: 65100, port: 1179 }] }],
    };
    const r = parseDirectorGroup(obj);
    expect(r.ok, r.ok ? '' : r.error).toBe(true);
    if (!r.ok) return;
    expect(r.value.spec.bgp).toEqual({
      localASN: 4200000001,
      peers: [{ address: '2001:db8::1', asn: 65000, port: 179, passwordSecretRef: { name: 'bgp', namespace: 'lvs-system', key: 'password' } }],
      holdTimeSeconds: 9,
      keepaliveSeconds: 3,
      bfd: { enabled: true, intervalMs: 100, multiplier: 3 },
      nodes: [{ nodeSelector: { matchLabels: { rack: 'b' } }, routerId: '10.0.2.1', peers: [{ address: '10.0.2.254', asn: 65100, port: 1179 }] }],
      drainSeconds: 3,
      allowNonConsistentScheduler: false,
    });
  });

  it('defaults a RealServer weight to 1 and leaves port to the service', () => {
    const r = parseRealServer({ apiVersion, kind: 'RealServer', metadata: { name: 'a' }, spec: { address: '198.51.100.1' } });
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.value.spec).toEqual({ address: '198.51.100.1', weight: 1 });
  });

  it('defaults the authentication key of a VRRPv2 password to "password"', () => {
    const obj = validDirectorGroup();
    obj.spec.vrrp = { version: 2, authSecretRef: { name: 'vrrp', namespace: 'lvs-system' } };
    const r = parseDirectorGroup(obj);
    expect(r.ok, r.ok ? '' : r.error).toBe(true);
    if (r.ok) expect(r.value.spec.vrrp.authSecretRef).toEqual({ name: 'vrrp', namespace: 'lvs-system', key: 'password' });
  });
});

describe('round trips', () => {
  const statusVs = {
    ...validVirtualService('with-status'),
    status: {
      observedGeneration: 3,
      conditions: [
        { type: 'Ready', status: 'True', lastTransitionTime: '2024-05-01T10:00:00Z', reason: 'Programmed', message: 'all directors programmed', observedGeneration: 3 },
        { type: 'Degraded', status: 'False', lastTransitionTime: '2024-05-01T10:00:00+02:00', reason: 'AllHealthy', message: '' },
      ],
      master: 'node-a',
      vrrpState: 'Master',
      backends: { healthy: 2, total: 2 },
      directors: [
        {
          node: 'node-a',
          programmedGeneration: 3,
          vrrpState: 'Master',
          healthy: 2,
          total: 2,
          backends: [
            { address: '192.0.2.21', port: 80, healthy: true, weight: 1 },
            { address: '192.0.2.22', port: 80, healthy: true, weight: 2 },
          ],
          lastTransitionTime: '2024-05-01T10:00:00Z',
        },
        { node: 'node-b', vrrpState: 'Backup', healthy: 2, total: 2, message: '' },
      ],
    },
  };

  it.each([
    ['VirtualService with status', statusVs],
    ['RealServer', validRealServer()],
    ['DirectorGroup', { ...validDirectorGroup(), status: { directors: ['node-a', 'node-b'], vrids: [{ vip: '192.0.2.10', interface: 'eth0', vrid: 51 }] } }],
  ] as const)('%s: parse is idempotent and survives JSON', (_n, obj) => {
    const first = parseLvsObject(obj);
    expect(first.ok, first.ok ? '' : first.error).toBe(true);
    if (!first.ok) return;
    const again = parseLvsObject(JSON.parse(JSON.stringify(first.value)));
    expect(again).toEqual(first);
  });

  it('keeps unknown metadata the API server adds (managedFields, ownerReferences)', () => {
    const obj = validRealServer();
    obj.metadata.managedFields = [{ manager: 'kubectl', operation: 'Apply' }];
    obj.metadata.ownerReferences = [{ kind: 'X' }];
    const r = parseRealServer(obj);
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.value.metadata['managedFields']).toEqual(obj.metadata.managedFields);
  });

  it('exposes the same schemas for direct use', () => {
    expect(VirtualService.safeParse(validVirtualService()).success).toBe(true);
    expect(RealServer.safeParse(validRealServer()).success).toBe(true);
    expect(DirectorGroup.safeParse(validDirectorGroup()).success).toBe(true);
  });
});

describe('refusals of the zod layer', () => {
  it('refuses another apiVersion or kind', () => {
    const r1 = parseVirtualService({ ...validVirtualService(), apiVersion: 'lvs.dev/v1' });
    expect(r1.ok).toBe(false);
    if (!r1.ok) expect(r1.error).toContain('apiVersion');
    const r2 = parseLvsObject({ ...validVirtualService(), kind: 'Pod' });
    expect(r2.ok).toBe(false);
    if (!r2.ok) expect(r2.error).toBe('unknown kind "Pod": expected one of DirectorGroup, VirtualService, RealServer, AddressPool');
  });

  it('refuses duplicates in sets and list maps, as the API server does', () => {
    const vs = validVirtualService();
    vs.spec.scheduler = 'sh';
    vs.spec.schedulerFlags = ['sh-port', 'sh-port'];
    const r = parseVirtualService(vs);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toContain('spec.schedulerFlags[1]: duplicate value "sh-port"');

    const withDirectors = { ...validVirtualService(), status: { directors: [{ node: 'a' }, { node: 'a' }] } };
    const r2 = parseVirtualService(withDirectors);
    expect(r2.ok).toBe(false);
    if (!r2.ok) expect(r2.error).toContain('status.directors[1]: duplicate entry for key ["a"]');
  });

  it('refuses a condition with an unknown status', () => {
    const vs = {
      ...validVirtualService(),
      status: { conditions: [{ type: 'Ready', status: 'Maybe', lastTransitionTime: '2024-05-01T10:00:00Z', reason: 'X', message: '' }] },
    };
    const r = parseVirtualService(vs);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toContain('status.conditions[0].status');
  });

  it('reports every problem at once, one line each, naming the object', () => {
    const vs = validVirtualService('many');
    vs.spec.port = 0;
    vs.spec.scheduler = 'nope';
    vs.spec.healthCheck = { intervalSeconds: 2, timeoutSeconds: 2 };
    const r = parseVirtualService(vs);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    const lines = r.error.split('\n');
    expect(lines[0]).toBe('VirtualService lvs-invalid/many is invalid:');
    expect(lines.slice(1).map((l) => l.trim().split(':')[0])).toEqual(['spec.port', 'spec.scheduler', 'spec.healthCheck.timeoutSeconds']);
  });

  it('refuses non-objects with a readable message', () => {
    const r = parseRealServer('not an object');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(/^RealServer <unnamed> is invalid:\n {2}\(root\): /);
  });
});

describe('accepted edge cases', () => {
  it('accepts IPv6 services with a prefix-length netmask and an IPv6 sorry server', () => {
    const vs = validVirtualService();
    vs.spec.vip = '2001:db8::10';
    vs.spec.persistence = { netmask: 64 };
    vs.spec.sorryServer = { address: '2001:db8::99', port: 80 };
    const r = parseVirtualService(vs);
    expect(r.ok, r.ok ? '' : r.error).toBe(true);
    if (r.ok) expect(serviceFamily(r.value.spec)).toBe('IPv6');
  });

  it('accepts a NAT sorry server on its own port beside DR real servers, parked with inhibit', () => {
    const vs = validVirtualService();
    vs.spec.sorryServer = { address: '192.0.2.99', port: 8080, forwarding: { method: 'NAT' }, inhibit: true };
    const r = parseVirtualService(vs);
    expect(r.ok, r.ok ? '' : r.error).toBe(true);
    if (r.ok) expect(r.value.spec.sorryServer).toEqual({ address: '192.0.2.99', port: 8080, forwarding: { method: 'NAT' }, inhibit: true });
    delete vs.spec.sorryServer.inhibit;
    const d = parseVirtualService(vs);
    if (d.ok) expect(d.value.spec.sorryServer?.inhibit).toBe(false);
  });

  it('accepts a RealServer inhibitOnFailure of either value and leaves it unset when omitted', () => {
    for (const v of [true, false]) {
      const rs = validRealServer();
      rs.spec.inhibitOnFailure = v;
      const r = parseRealServer(rs);
      expect(r.ok && r.value.spec.inhibitOnFailure).toBe(v);
    }
    const r = parseRealServer(validRealServer());
    expect(r.ok && r.value.spec.inhibitOnFailure).toBeUndefined();
  });

  it('accepts fwmark services in both families, onePacket with fwmark, and sh flags with sh', () => {
    const vs = validVirtualService();
    delete vs.spec.vip;
    delete vs.spec.port;
    delete vs.spec.protocol;
    Object.assign(vs.spec, {
      fwmark: 4294967295,
      addressFamily: 'IPv6',
      fwmarkVIPs: ['2001:db8::80'],
      onePacket: true,
      scheduler: 'sh',
      schedulerFlags: ['sh-fallback', 'sh-port'],
    });
    const r = parseVirtualService(vs);
    expect(r.ok, r.ok ? '' : r.error).toBe(true);
    if (r.ok) expect(serviceFamily(r.value.spec)).toBe('IPv6');
  });

  it('accepts TUN with gue, its port and a checksum flag; RealServer DR override without port', () => {
    const vs = validVirtualService();
    vs.spec.forwarding = { method: 'TUN', tunnelType: 'gue', tunnelPort: 6080, tunnelFlags: ['remcsum'] };
    expect(parseVirtualService(vs).ok).toBe(true);
    const rs = validRealServer();
    delete rs.spec.port;
    rs.spec.forwarding = { method: 'DR' };
    expect(parseRealServer(rs).ok).toBe(true);
    rs.spec.port = 0;
    expect(parseRealServer(rs).ok).toBe(true);
  });

  it('accepts snat with NAT (also with the default method); a RealServer override does not carry it', () => {
    const vs = validVirtualService();
    vs.spec.forwarding = { snat: true };
    const r = parseVirtualService(vs);
    expect(r.ok, r.ok ? '' : r.error).toBe(true);
    if (r.ok) expect(r.value.spec.forwarding).toEqual({ method: 'NAT', snat: true });
    vs.spec.forwarding = { method: 'TUN', snat: false };
    expect(parseVirtualService(vs).ok).toBe(true);
    vs.spec.forwarding = { method: 'TUN', snat: true };
    const refused = parseVirtualService(vs);
    expect(refused.ok).toBe(false);
    if (!refused.ok) expect(refused.error).toContain('snat is only allowed with method NAT');
    const rs = validRealServer();
    rs.spec.forwarding = { method: 'NAT', snat: true };
    const parsed = parseRealServer(rs);
    expect(parsed.ok).toBe(true);
    if (parsed.ok) expect(parsed.value.spec.forwarding).toEqual({ method: 'NAT' });
  });

  it('accepts weight 0 and 65535, thresholds equal, a port given by name', () => {
    const rs = validRealServer();
    Object.assign(rs.spec, { weight: 0, upperThreshold: 10, lowerThreshold: 10 });
    expect(parseRealServer(rs).ok).toBe(true);
    rs.spec.weight = 65535;
    expect(parseRealServer(rs).ok).toBe(true);
    const vs = validVirtualService();
    vs.spec.backends = { service: { name: 'web', port: 'http-alt' } };
    expect(parseVirtualService(vs).ok).toBe(true);
  });

  it('accepts VRRP v2 whole seconds up to 255 and v3 centiseconds', () => {
    const dg = validDirectorGroup();
    dg.spec.vrrp = { version: 2, advertIntervalMs: 255000 };
    expect(parseDirectorGroup(dg).ok).toBe(true);
    dg.spec.vrrp = { version: 3, advertIntervalMs: 10 };
    expect(parseDirectorGroup(dg).ok).toBe(true);
    dg.spec.vrrp = { version: 3, advertIntervalMs: 15 };
    expect(parseDirectorGroup(dg).ok).toBe(false);
  });
});
