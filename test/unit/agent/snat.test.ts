import { describe, expect, it } from 'vitest';
import { compile } from '../../../src/agent/compile.js';
import { Reconciler } from '../../../src/agent/reconciler.js';
import { diffSnat, inSubnet, snatRules } from '../../../src/agent/snat.js';
import { MemoryOwnershipStore } from '../../../src/agent/ownership.js';
import { FakeIpvsClient } from '../../../src/ipvs/fake.js';
import { FakeLinkClient } from '../../../src/link/fake.js';
import { FakeSysctl } from '../../../src/link/sysctl.js';
import { resolve } from '../../../src/model/index.js';
import { FakeNft, tableBatch } from '../../../src/nft/index.js';
import type { IpvsServiceWithDests } from '../../../src/ipvs/types.js';
import { dg, node, rs, snapshot, web } from '../model/fixtures.js';

const svc = (dests: [string, 'masq' | 'route' | 'tunnel'][]): IpvsServiceWithDests => ({
  key: { af: 'IPv4', protocol: 'tcp', addr: '192.168.10.100', port: 80 }, scheduler: 'wrr', flags: [], timeout: 0, netmask: 32,
  dests: dests.map(([addr, fwd]) => ({ addr, port: 8080, fwd, weight: 1, upperThreshold: 0, lowerThreshold: 0 })),
});

function model(snat: boolean | undefined, gateway?: string) {
  return resolve(snapshot({
    directorGroups: [dg('g1', gateway ? { gatewayAddresses: [{ address: gateway, interface: 'eth1' }] } : {}, { vrids: [{ vip: '192.168.10.100', interface: 'eth0', vrid: 51 }] })],
    virtualServices: [web('shop', 'web', '192.168.10.100', { forwarding: { method: 'NAT', ...(snat === undefined ? {} : { snat }) } })],
    realServers: [
      rs('shop', 'web-1', { address: '10.0.1.11', port: 8080, weight: 1 }, { app: 'web' }),
      rs('shop', 'web-2', { address: '10.244.7.5', port: 8080, weight: 3 }, { app: 'web' }),
    ],
    nodes: [node('d1', { 'lvs.dev/director': 'g1' })],
  }));
}

describe('source NAT: compile', () => {
  it('masquerades what goes to the NAT real servers of a service with snat, matched by VIP, port and protocol', () => {
    const d = compile(model(true), 'd1', () => true, () => true);
    // and claims the service's connections before any other NAT chain of the prerouting hook
    expect(d.nft).toEqual([
      { family: 'ip', match: { protocol: 'tcp', vip: '192.168.10.100', port: 80 }, dests: ['10.0.1.11', '10.244.7.5'] },
      { verdict: 'claim', family: 'ip', protocol: 'tcp', vip: '192.168.10.100', port: 80 },
    ]);
    expect(d.sysctls['net.ipv4.vs.conntrack']).toBe('1');
  });

  it('gives real servers on a gateway subnet the gateway address (it moves with VRRP); the others are masqueraded', () => {
    const d = compile(model(true, '10.0.1.1/24'), 'd1', () => true, () => true);
    expect(d.nft).toEqual([
      { family: 'ip', match: { protocol: 'tcp', vip: '192.168.10.100', port: 80 }, dests: ['10.0.1.11'], to: '10.0.1.1' },
      { family: 'ip', match: { protocol: 'tcp', vip: '192.168.10.100', port: 80 }, dests: ['10.244.7.5'] },
      { verdict: 'claim', family: 'ip', protocol: 'tcp', vip: '192.168.10.100', port: 80 },
    ]);
  });

  it('a service whose real servers are nodes gets a no-conntrack rule for its VIP and port, and no conntrack sysctl', () => {
    const m = resolve(snapshot({
      directorGroups: [dg('g1', {}, { vrids: [{ vip: '192.168.10.100', interface: 'eth0', vrid: 51 }] })],
      virtualServices: [web('shop', 'web', '192.168.10.100', { forwarding: { method: 'DR' }, backends: { service: { name: 'web', target: 'Nodes' } } })],
      nodes: [node('d1', { 'lvs.dev/director': 'g1' })],
    }));
    const d = compile(m, 'd1', () => true, () => true);
    expect(d.nft).toEqual([{ verdict: 'notrack', family: 'ip', protocol: 'tcp', vip: '192.168.10.100', port: 80 }]);
    expect(d.sysctls['net.ipv4.vs.conntrack']).toBeUndefined();
  });

  it('has no rules without snat, nor on a node that does not direct', () => {
    expect(compile(model(false), 'd1', () => true, () => true).nft).toBeUndefined();
    expect(compile(model(undefined), 'd1', () => true, () => true).nft).toBeUndefined();
    expect(compile(model(true), 'elsewhere', () => true, () => true).nft).toBeUndefined();
  });

  it('leaves DR and TUN destinations out; no NAT destination, no rule', () => {
    expect(snatRules(svc([['10.0.1.11', 'masq'], ['10.0.1.12', 'route'], ['10.0.1.13', 'tunnel']]), [])[0]!.dests).toEqual(['10.0.1.11']);
    expect(snatRules(svc([['10.0.1.12', 'route']]), [])).toEqual([]);
  });

  it('inSubnet compares the prefix bits of one family', () => {
    expect(inSubnet('10.0.1.200', { address: '10.0.1.1', prefixLen: 24 })).toBe(true);
    expect(inSubnet('10.0.2.1', { address: '10.0.1.1', prefixLen: 23 })).toBe(false);
    expect(inSubnet('10.0.0.1', { address: '10.0.1.1', prefixLen: 23 })).toBe(true);
    expect(inSubnet('2001:db8::5', { address: '10.0.1.1', prefixLen: 0 })).toBe(false);
    expect(inSubnet('2001:db8::5', { address: '2001:db8::1', prefixLen: 64 })).toBe(true);
  });
});

describe('source NAT: diff', () => {
  const rule = { family: 'ip' as const, match: { protocol: 'tcp' as const, vip: '10.0.0.1', port: 80 }, dests: ['10.1.0.2', '10.1.0.1'] };
  it('writes nothing when the table holds the rules (in any order of addresses), and nothing when neither exists', async () => {
    const nft = new FakeNft();
    expect(diffSnat([], undefined)).toEqual({ op: 'none' });
    await nft.run(tableBatch([{ ...rule, dests: ['10.1.0.1', '10.1.0.2'] }]));
    expect(diffSnat([rule], await nft.readTable())).toEqual({ op: 'none' });
  });

  it('rewrites on a change or on anything foreign inside our table, removes it when nothing is desired', async () => {
    const nft = new FakeNft();
    await nft.run(tableBatch([rule]));
    expect(diffSnat([{ ...rule, to: '10.1.0.254' }], await nft.readTable())).toMatchObject({ op: 'write', why: 'rules changed' });
    await nft.run([{ add: { rule: { family: 'inet', table: 'lvs-operator', chain: 'postrouting', expr: [{ accept: null }] } } }]);
    expect(diffSnat([rule], await nft.readTable())).toMatchObject({ op: 'write', why: expect.stringContaining('table rewritten') });
    expect(diffSnat([], await nft.readTable())).toMatchObject({ op: 'write', batch: tableBatch([]) });
  });
});

describe('source NAT: reconcile', () => {
  it('writes the table once, not again on later passes, removes it on uninstall; a foreign table stays', async () => {
    const nft = new FakeNft();
    await nft.run([{ add: { table: { family: 'ip', name: 'kube-proxy' } } }]);
    const ipvs = new FakeIpvsClient();
    const sysctl = new FakeSysctl(new Map([['net.ipv4.vs.conntrack', '0'], ['net.ipv4.ip_forward', '0'], ['net.ipv4.conf.all.send_redirects', '1'], ['net.ipv4.conf.eth0.send_redirects', '1']]));
    const deps = { ipvs, link: new FakeLinkClient(), sysctl, nft, store: new MemoryOwnershipStore() };
    const desired = compile(model(true), 'd1', () => true, () => true);
    const r1 = await new Reconciler(deps).reconcile(desired);
    expect(r1.errors).toEqual([]);
    expect(r1.nftOps).toBe(1);
    expect(await nft.listTables()).toEqual(['ip/kube-proxy', 'inet/lvs-operator']);
    // A restarted agent (a new Reconciler, same kernel) finds it as desired.
    const r2 = await new Reconciler(deps).reconcile(desired);
    expect(r2.nftOps).toBe(0);
    expect(nft.batches).toBe(2);
    const r3 = await new Reconciler(deps).reconcile(compile(model(true), 'elsewhere', () => true, () => true));
    expect(r3.nftOps).toBe(1);
    expect(await nft.listTables()).toEqual(['ip/kube-proxy']);
  });

  it('reports the services when nftables cannot be written', async () => {
    const nft = new FakeNft();
    nft.run = () => Promise.reject(Object.assign(new Error('nft -f: Operation not permitted'), { code: undefined }));
    const deps = { ipvs: new FakeIpvsClient(), link: new FakeLinkClient(), sysctl: new FakeSysctl(new Map([['net.ipv4.vs.conntrack', '0'], ['net.ipv4.ip_forward', '0'], ['net.ipv4.conf.all.send_redirects', '1'], ['net.ipv4.conf.eth0.send_redirects', '1']])), nft, store: new MemoryOwnershipStore() };
    const r = await new Reconciler(deps).reconcile(compile(model(true), 'd1', () => true, () => true));
    expect(r.errors).toEqual([expect.objectContaining({ what: 'write nftables table inet lvs-operator', services: ['shop/web'] })]);
  });
});
