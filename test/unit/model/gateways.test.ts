import { describe, expect, it } from 'vitest';
import { parseDirectorGroup, apiVersion } from '../../../src/api/index.js';
import { resolve } from '../../../src/model/index.js';
import { dg, nodesFor, snapshot, web } from './fixtures.js';

const inner = (address: string, iface = 'eth1', extra: object = {}) => ({ address, interface: iface, ...extra });
const groupIssues = (m: ReturnType<typeof resolve>, name = 'g1') => m.groups.get(name)?.issues.map((i) => `${i.reason}: ${i.message}`) ?? [];

describe('gateway addresses (spec.gatewayAddresses)', () => {
  it('the schema takes an address with or without a prefix length and refuses a bad one', () => {
    const parse = (address: string) => parseDirectorGroup({
      apiVersion, kind: 'DirectorGroup', metadata: { name: 'g' },
      spec: { nodeSelector: {}, interface: 'eth0', gatewayAddresses: [{ address, interface: 'eth1' }] },
    }).ok;
    for (const ok of ['10.0.1.1/24', '10.0.1.1', '10.0.1.1/32', '2001:db8:1::1/64', '2001:db8::1']) expect(parse(ok), ok).toBe(true);
    for (const bad of ['10.0.1.1/33', '10.0.1.300/24', '2001:db8::1/129', '10.0.1.1/', 'gw/24', '10.0.1.1/24/1']) expect(parse(bad), bad).toBe(false);
  });

  it('each gets a router id on its own interface, with the prefix kept; ids are unique per interface', () => {
    const m = resolve(snapshot({
      directorGroups: [dg('g1', { gatewayAddresses: [inner('10.0.1.1/24'), inner('2001:DB8:1::0001/64')] })],
      virtualServices: [web('a', 'www', '192.0.2.7')],
      nodes: nodesFor(),
    }));
    const g = m.groups.get('g1')!;
    expect(g.gateways).toEqual([
      { address: '10.0.1.1', prefixLen: 24, interface: 'eth1', unicastPeers: [] },
      { address: '2001:db8:1::1', prefixLen: 64, interface: 'eth1', unicastPeers: [] },
    ]);
    expect(g.vrids).toEqual([
      { vip: '192.0.2.7', interface: 'eth0', vrid: 1 },
      { vip: '10.0.1.1', interface: 'eth1', vrid: 1 },
      { vip: '2001:db8:1::1', interface: 'eth1', vrid: 2 },
    ]);
    expect(groupIssues(m)).toEqual([]);
  });

  it('a gateway on the group interface shares its id space with the service VIPs, and kept ids stay', () => {
    const m = resolve(snapshot({
      directorGroups: [dg('g1', { gatewayAddresses: [inner('192.0.2.1/24', 'eth0')] }, { vrids: [{ vip: '192.0.2.1', interface: 'eth0', vrid: 1 }] })],
      virtualServices: [web('a', 'www', '192.0.2.7')],
      nodes: nodesFor(),
    }));
    expect(m.groups.get('g1')!.vrids).toEqual([
      { vip: '192.0.2.1', interface: 'eth0', vrid: 1 },
      { vip: '192.0.2.7', interface: 'eth0', vrid: 2 },
    ]);
  });

  it('ids on the inner interface are unique across groups', () => {
    const m = resolve(snapshot({
      directorGroups: [
        dg('g1', { gatewayAddresses: [inner('10.0.1.1/24')] }, { created: '2024-01-01T00:00:00Z' }),
        dg('g2', { gatewayAddresses: [inner('10.0.2.1/24')] }, { created: '2024-01-02T00:00:00Z' }),
      ],
      nodes: [...nodesFor('g1'), ...nodesFor('g2').slice(0, 2).map((n) => ({ ...n, metadata: { ...n.metadata, name: `${n.metadata.name}-2` } }))],
    }));
    expect(m.groups.get('g1')!.vrids).toEqual([{ vip: '10.0.1.1', interface: 'eth1', vrid: 1 }]);
    expect(m.groups.get('g2')!.vrids).toEqual([{ vip: '10.0.2.1', interface: 'eth1', vrid: 2 }]);
  });

  it('an address carried by an older group, listed twice, or a service VIP is left out with a Conflict', () => {
    const m = resolve(snapshot({
      directorGroups: [
        dg('g1', { gatewayAddresses: [inner('10.0.1.1/24'), inner('10.0.1.1/25'), inner('192.0.2.7/24', 'eth0')] }, { created: '2024-01-01T00:00:00Z' }),
        dg('g2', { gatewayAddresses: [inner('10.0.1.1/24')] }, { created: '2024-01-02T00:00:00Z' }),
      ],
      virtualServices: [web('a', 'www', '192.0.2.7')],
      nodes: nodesFor(),
    }));
    expect(m.groups.get('g1')!.gateways.map((g) => `${g.address}/${g.prefixLen}`)).toEqual(['10.0.1.1/24']);
    expect(groupIssues(m)).toEqual([
      'Conflict: gateway address 10.0.1.1 is listed twice: only its first entry is used',
      'Conflict: gateway address 192.0.2.7 is the VIP of VirtualService a/www: left out',
    ]);
    expect(m.groups.get('g2')!.gateways).toEqual([]);
    expect(m.groups.get('g2')!.vrids).toEqual([]);
    expect(groupIssues(m, 'g2')).toContain('Conflict: gateway address 10.0.1.1 is carried by DirectorGroup g1 already: left out');
    // The VirtualService keeps its VIP.
    expect(m.services.get('a/www')!.accepted).toBe(true);
    expect(m.services.get('a/www')!.vips).toEqual([{ vip: '192.0.2.7', interface: 'eth0', vrid: 1 }]);
  });
});
