// Every address field, spelled several valid ways, must give the same desired state, and that
// state must be what the kernel reads back: a spelling that survives into compile is a key the
// kernel never reports, and every pass would add the service again (#15 defect 1).
import { describe, expect, it } from 'vitest';
import { compile, type NodeDesired } from '../../../src/agent/compile.js';
import { diffIpvs } from '../../../src/agent/ipvs-diff.js';
import { vrrpInstanceSpecs } from '../../../src/agent/vrrp-specs.js';
import { FakeIpvsClient } from '../../../src/ipvs/fake.js';
import { resolve } from '../../../src/model/index.js';
import type { Snapshot } from '../../../src/model/types.js';
import { dg, node, ready, rs, service, slice, snapshot, vs, web } from './fixtures.js';

const healthy = (): boolean => true;
const down = (): boolean => false;
const leads = (): boolean => true;

/** Spellings of one IPv6 address; the first is canonical (RFC 5952). */
const vip6 = ['2001:db8::1', '2001:DB8::1', '2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8:0:0::0:1'];
const rs6 = ['2001:db8::a', '2001:DB8::A', '2001:db8:0:0:0:0:0:a', '2001:0DB8::000a'];
const sorry6 = ['2001:db8::c000:201', '2001:db8::192.0.2.1', '2001:DB8:0:0:0:0:C000:0201'];
const ep6 = ['fd00::1:2', 'FD00::1:2', 'fd00:0:0:0:0:0:1:2', 'fd00::0.1.0.2'];
const peer6 = ['fe80::2', 'FE80::2', 'fe80:0:0:0:0:0:0:2'];

interface Spelling {
  vip: string;
  rs: string;
  sorry: string;
  ep: string;
  peer: string;
  /** The VIP as the DirectorGroup status recorded its router id. */
  statusVip: string;
}

const at = (list: string[], i: number): string => list[i % list.length]!;
const spellings: Spelling[] = [0, 1, 2, 3].map((i) => ({
  vip: at(vip6, i), rs: at(rs6, i), sorry: at(sorry6, i), ep: at(ep6, i), peer: at(peer6, i), statusVip: at(vip6, i + 1),
}));

function cluster(s: Spelling): Snapshot {
  return snapshot({
    directorGroups: [
      dg('g1', { vrrp: { version: 3, unicastPeers: [s.peer] } }, { vrids: [{ vip: s.statusVip, interface: 'eth0', vrid: 51 }] }),
    ],
    virtualServices: [
      web('shop', 'web', s.vip, { forwarding: { method: 'NAT' }, sorryServer: { address: s.sorry }, backends: { realServerSelector: { matchLabels: { app: 'web' } }, service: { name: 'api' } } }),
      vs('shop', 'mark', { fwmark: 7, addressFamily: 'IPv6', fwmarkVIPs: [s.vip], backends: { realServerSelector: { matchLabels: { app: 'web' } } } }, {}),
    ],
    realServers: [rs('shop', 'web-1', { address: s.rs, port: 8080 }, { app: 'web' })],
    services: [service('shop', 'api', [{ port: 80, targetPort: 8080 }])],
    endpointSlices: [slice('shop', 'api-1', 'api', [{ port: 8080 }], [ready(s.ep)], 'IPv6')],
    nodes: [node('d1', { 'lvs.dev/director': 'g1' }), node('d2', { 'lvs.dev/director': 'g1' })],
  });
}

const desiredOf = (s: Spelling, health = healthy): NodeDesired => compile(resolve(cluster(s)), 'd1', health, leads);

describe('address spellings: every field, several spellings, one desired state', () => {
  const canonical = desiredOf(spellings[0]!);

  it('compiles the canonical spelling to canonical keys, destinations and VIPs', () => {
    const svc = canonical.services.find((x) => x.key === 'shop/web')!;
    expect(svc.ipvs.key).toEqual({ af: 'IPv6', protocol: 'tcp', addr: '2001:db8::1', port: 80 });
    expect(svc.ipvs.dests.map((d) => d.addr)).toEqual(['2001:db8::a', 'fd00::1:2']);
    expect(canonical.addresses).toEqual([{ ifname: 'eth0', address: '2001:db8::1', prefixLen: 128 }]);
  });

  it.each(spellings.slice(1).map((s, i) => [i + 1, s] as const))('spelling %i compiles exactly like the canonical one', (_i, s) => {
    expect(desiredOf(s)).toEqual(canonical);
    expect(desiredOf(s, down)).toEqual(desiredOf(spellings[0]!, down));
  });

  it.each(spellings.map((s, i) => [i, s] as const))('spelling %i keeps its router id and gives the same VRRP instances', (_i, s) => {
    const model = resolve(cluster(s));
    expect(model.groups.get('g1')!.vrids).toEqual([{ vip: '2001:db8::1', interface: 'eth0', vrid: 51 }]);
    expect(vrrpInstanceSpecs(model, 'd1')).toEqual(vrrpInstanceSpecs(resolve(cluster(spellings[0]!)), 'd1'));
    expect(model.groups.get('g1')!.group!.spec.vrrp.unicastPeers).toEqual(['fe80::2']);
  });

  it.each(spellings.map((s, i) => [i, s] as const))('spelling %i: after one pass on the fake kernel, the next pass has nothing to do', async (_i, s) => {
    for (const health of [healthy, down]) {
      const ipvs = new FakeIpvsClient();
      const want = desiredOf(s, health).services.map((x) => x.ipvs);
      const first = diffIpvs(want, await ipvs.listServicesWithDests(), new Set());
      expect(first.ops.length).toBeGreaterThan(0);
      await ipvs.apply(first.ops);
      const second = diffIpvs(want, await ipvs.listServicesWithDests(), first.owned);
      expect(second.ops).toEqual([]);
    }
  });
});

describe('address spellings Kubernetes accepts and our CRDs do not', () => {
  // The API server validates EndpointSlice addresses loosely (ParseIPSloppy): IPv4 with leading
  // zeros is accepted and, like kube-proxy does, read as decimal. One such slice must not stop
  // the whole resolve (it threw), and must give the address its decimal meaning.
  it('reads an IPv4 endpoint with leading zeros as decimal, as kube-proxy does', () => {
    const s = snapshot({
      directorGroups: [dg('g1', {}, { vrids: [{ vip: '192.0.2.10', interface: 'eth0', vrid: 51 }] })],
      virtualServices: [web('shop', 'web', '192.0.2.10', { forwarding: { method: 'NAT' }, backends: { service: { name: 'api' } } })],
      services: [service('shop', 'api', [{ port: 80, targetPort: 8080 }])],
      endpointSlices: [slice('shop', 'api-1', 'api', [{ port: 8080 }], [ready('10.001.002.010'), ready('10.1.2.11')])],
      nodes: [node('d1', { 'lvs.dev/director': 'g1' })],
    });
    const d = compile(resolve(s), 'd1', healthy, leads);
    expect(d.services[0]!.ipvs.dests.map((x) => x.addr)).toEqual(['10.1.2.10', '10.1.2.11']);
  });

  it('leaves out an endpoint whose address is not an address at all, with an issue, and keeps the rest', () => {
    const s = snapshot({
      directorGroups: [dg('g1', {}, { vrids: [{ vip: '192.0.2.10', interface: 'eth0', vrid: 51 }] })],
      virtualServices: [web('shop', 'web', '192.0.2.10', { forwarding: { method: 'NAT' }, backends: { service: { name: 'api' } } })],
      services: [service('shop', 'api', [{ port: 80, targetPort: 8080 }])],
      endpointSlices: [slice('shop', 'api-1', 'api', [{ port: 8080 }], [ready('10.1.2.300'), ready('10.1.2.11')])],
      nodes: [node('d1', { 'lvs.dev/director': 'g1' })],
    });
    const m = resolve(s).services.get('shop/web')!;
    expect(m.backends.map((b) => b.address)).toEqual(['10.1.2.11']);
    expect(m.issues.map((i) => i.reason)).toContain('InvalidEndpoint');
  });
});
