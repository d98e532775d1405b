import { describe, expect, it } from 'vitest';
import { CompileCache } from '../../../src/agent/compile-cache.js';
import { compile, type HealthLookup } from '../../../src/agent/compile.js';
import { resolve } from '../../../src/model/index.js';
import type { Snapshot } from '../../../src/model/types.js';
import type { VirtualServiceSpecInput } from '../../../src/api/index.js';
import { dg, node, rs, snapshot, vs, web } from '../model/fixtures.js';

const allHealthy: HealthLookup = () => true;
const leadsAll = (): boolean => true;
const leadsNone = (): boolean => false;

/** The seed's classic setup: VIP, wrr, DR, two real servers weighted 1 and 2, TCP check. */
function classic(extra: Partial<Snapshot> = {}, vsSpec: Parameters<typeof web>[3] = {}): Snapshot {
  return snapshot({
    directorGroups: [dg('g1', {}, { vrids: [{ vip: '192.168.10.100', interface: 'eth0', vrid: 51 }] })],
    virtualServices: [web('shop', 'web', '192.168.10.100', { scheduler: 'wrr', forwarding: { method: 'DR' }, ...vsSpec })],
    realServers: [
      rs('shop', 'web-1', { address: '192.168.10.101', weight: 1, nodeName: 'rs-1' }, { app: 'web' }),
      rs('shop', 'web-2', { address: '192.168.10.102', weight: 2 }, { app: 'web' }),
    ],
    nodes: [node('d1', { 'lvs.dev/director': 'g1' }), node('d2', { 'lvs.dev/director': 'g1' }), node('rs-1')],
    ...extra,
  });
}

describe('compile (director side)', () => {
  it('turns the classic DR setup into one wrr service with weights 1 and 2 and the VIP', () => {
    const d = compile(resolve(classic()), 'd1', allHealthy, leadsAll);
    expect(d.services).toHaveLength(1);
    expect(d.services[0]!.ipvs).toEqual({
      key: { af: 'IPv4', protocol: 'tcp', addr: '192.168.10.100', port: 80 },
      scheduler: 'wrr', flags: [], timeout: 0, netmask: 32,
      dests: [
        { addr: '192.168.10.101', port: 80, fwd: 'route', weight: 1, upperThreshold: 0, lowerThreshold: 0 },
        { addr: '192.168.10.102', port: 80, fwd: 'route', weight: 2, upperThreshold: 0, lowerThreshold: 0 },
      ],
    });
    expect(d.addresses).toEqual([{ ifname: 'eth0', address: '192.168.10.100', prefixLen: 32 }]);
    expect(d.sysctls).toMatchObject({ 'net.ipv4.conf.all.send_redirects': '0', 'net.ipv4.conf.eth0.send_redirects': '0' });
    expect(d.sysctls['net.ipv4.ip_forward']).toBeUndefined(); // DR does not route
  });

  it('holds no VIP while another director leads, but still programs IPVS (ready for takeover)', () => {
    const d = compile(resolve(classic()), 'd2', allHealthy, leadsNone);
    expect(d.addresses).toEqual([]);
    expect(d.services[0]!.ipvs.dests).toHaveLength(2);
  });

  it('programs nothing on a node that is not a director', () => {
    const d = compile(resolve(classic()), 'elsewhere', allHealthy, leadsAll);
    // toEqual, not toMatchObject: an empty object inside toMatchObject matches any sysctls.
    expect({ services: d.services, addresses: d.addresses, sysctls: d.sysctls }).toEqual({ services: [], addresses: [], sysctls: {} });
  });

  it('drops a failed real server, or keeps it at weight 0 with inhibitOnFailure', () => {
    const down: HealthLookup = (_s, b) => b.address !== '192.168.10.102';
    const removed = compile(resolve(classic()), 'd1', down, leadsAll).services[0]!;
    expect(removed.ipvs.dests.map((x) => x.addr)).toEqual(['192.168.10.101']);
    expect(removed.healthy).toBe(1);
    const inhibited = compile(resolve(classic({}, { inhibitOnFailure: true })), 'd1', down, leadsAll).services[0]!;
    expect(inhibited.ipvs.dests.map((x) => [x.addr, x.weight])).toEqual([['192.168.10.101', 1], ['192.168.10.102', 0]]);
  });

  it('treats unchecked real servers as down until the checker says otherwise', () => {
    const d = compile(resolve(classic()), 'd1', () => undefined, leadsAll);
    expect(d.services[0]!.ipvs.dests).toEqual([]);
  });

  it('needs no checker with healthCheck type None', () => {
    const d = compile(resolve(classic({}, { healthCheck: { type: 'None' } })), 'd1', () => undefined, leadsAll);
    expect(d.services[0]!.ipvs.dests).toHaveLength(2);
  });

  // keepalived check/ipwrapper.c: quorum compares the sum of the weights of live real servers
  // (weigh_live_realservers); when it is lost the live servers are taken out of the pool
  // (perform_quorum_state: deleted, or weight 0 with inhibit_on_failure) and the sorry server
  // serves alone; with no sorry server the pool is left as it is.
  const sorry = { sorryServer: { address: '192.168.10.200' } };
  const only = (address: string): HealthLookup => (_s, b) => b.address === address;
  const table = (s: { ipvs: { dests: { addr: string; weight: number }[] } }): string[] => s.ipvs.dests.map((x) => `${x.addr}/${x.weight}`);

  it('puts the sorry server in alone when no real server is healthy (quorum 1 by default)', () => {
    const none = compile(resolve(classic({}, sorry)), 'd1', () => false, leadsAll).services[0]!;
    expect(none.sorryActive).toBe(true);
    expect(none.ipvs.dests).toEqual([{ addr: '192.168.10.200', port: 80, fwd: 'route', weight: 1, upperThreshold: 0, lowerThreshold: 0 }]);
    const healthy = compile(resolve(classic({}, sorry)), 'd1', allHealthy, leadsAll).services[0]!;
    expect(healthy.sorryActive).toBe(false);
    expect(table(healthy)).toEqual(['192.168.10.101/1', '192.168.10.102/2']);
  });

  it('compares the sum of the healthy weights with quorum, not the number of healthy servers', () => {
    const spec = { ...sorry, quorum: { weight: 2 } };
    // One server of weight 2 meets quorum 2.
    const heavy = compile(resolve(classic({}, spec)), 'd1', only('192.168.10.102'), leadsAll).services[0]!;
    expect({ up: heavy.quorumUp, live: heavy.liveWeight, table: table(heavy) }).toEqual({ up: true, live: 2, table: ['192.168.10.102/2'] });
    // One server of weight 1 does not: the sorry server serves alone, the live server is out.
    const light = compile(resolve(classic({}, spec)), 'd1', only('192.168.10.101'), leadsAll).services[0]!;
    expect({ up: light.quorumUp, live: light.liveWeight, table: table(light) }).toEqual({ up: false, live: 1, table: ['192.168.10.200/1'] });
    expect(light.backends.map((b) => [b.address, b.healthy, b.weight])).toEqual([['192.168.10.101', true, undefined], ['192.168.10.102', false, undefined]]);
  });

  it('keeps inhibited real servers at weight 0 beside the sorry server while quorum is lost', () => {
    const lost = compile(resolve(classic({}, { ...sorry, quorum: { weight: 2 }, inhibitOnFailure: true })), 'd1', only('192.168.10.101'), leadsAll).services[0]!;
    expect(table(lost)).toEqual(['192.168.10.101/0', '192.168.10.102/0', '192.168.10.200/1']);
  });

  it('leaves the live real servers in when quorum is lost and there is no sorry server', () => {
    const lost = compile(resolve(classic({}, { quorum: { weight: 2 } })), 'd1', only('192.168.10.101'), leadsAll).services[0]!;
    expect({ up: lost.quorumUp, sorry: lost.sorryActive, table: table(lost) }).toEqual({ up: false, sorry: false, table: ['192.168.10.101/1'] });
  });

  it('damps flaps with hysteresis: gained at weight + hysteresis, lost below weight - hysteresis or at 0', () => {
    const model = resolve(classic({}, { ...sorry, quorum: { weight: 2, hysteresis: 1 } }));
    const cache = new CompileCache('d1');
    let health: HealthLookup = only('192.168.10.102');
    const step = (h: HealthLookup): string[] => {
      health = h;
      cache.invalidate('shop/web');
      return table(cache.compile(model, (s, b) => health(s, b), leadsAll).services[0]!);
    };
    // Live weight 2 at the start: not up until 3 (keepalived starts with quorum down below 2+1).
    expect(step(only('192.168.10.102'))).toEqual(['192.168.10.200/1']);
    expect(step(allHealthy)).toEqual(['192.168.10.101/1', '192.168.10.102/2']);
    // Between the thresholds nothing flaps: weight 2, then 1, keep quorum (lost below 2-1).
    expect(step(only('192.168.10.102'))).toEqual(['192.168.10.102/2']);
    expect(step(only('192.168.10.101'))).toEqual(['192.168.10.101/1']);
    expect(step(() => false)).toEqual(['192.168.10.200/1']);
    // Weight 2 again does not regain it: that takes 3.
    expect(step(only('192.168.10.102'))).toEqual(['192.168.10.200/1']);
    expect(step(allHealthy)).toEqual(['192.168.10.101/1', '192.168.10.102/2']);
  });

  it('compile() with a quorum memory gives what the cache gives', () => {
    const model = resolve(classic({}, { ...sorry, quorum: { weight: 2, hysteresis: 1 } }));
    const held = compile(model, 'd1', only('192.168.10.101'), leadsAll, undefined, () => true).services[0]!;
    const notHeld = compile(model, 'd1', only('192.168.10.101'), leadsAll, undefined, () => false).services[0]!;
    expect([table(held), table(notHeld)]).toEqual([['192.168.10.101/1'], ['192.168.10.200/1']]);
  });

  // keepalived check_data.c: a real_server's inhibit_on_failure, else its virtual_server's.
  it("lets a RealServer's inhibitOnFailure override the VirtualService's, either way", () => {
    const down: HealthLookup = () => false;
    const snap = (vsInhibit: boolean, rsInhibit: boolean | undefined): Snapshot => classic({
      realServers: [
        rs('shop', 'web-1', { address: '192.168.10.101', weight: 1, ...(rsInhibit === undefined ? {} : { inhibitOnFailure: rsInhibit }) }, { app: 'web' }),
        rs('shop', 'web-2', { address: '192.168.10.102', weight: 2 }, { app: 'web' }),
      ],
    }, { inhibitOnFailure: vsInhibit });
    const tables = [[false, true], [true, false], [true, undefined], [false, undefined]] as const;
    expect(tables.map(([v, r]) => table(compile(resolve(snap(v, r)), 'd1', down, leadsAll).services[0]!))).toEqual([
      ['192.168.10.101/0'], ['192.168.10.102/0'], ['192.168.10.101/0', '192.168.10.102/0'], [],
    ]);
  });

  it('counts an inhibited failed real server for nothing toward quorum, an inhibited live one for its weight', () => {
    const spec = { ...sorry, quorum: { weight: 2 }, inhibitOnFailure: true };
    // web-2 (weight 2) failed, parked at weight 0: live weight 1 < 2, quorum lost.
    const lost = compile(resolve(classic({}, spec)), 'd1', only('192.168.10.101'), leadsAll).services[0]!;
    expect({ live: lost.liveWeight, up: lost.quorumUp }).toEqual({ live: 1, up: false });
    // web-2 live but parked at 0 beside the sorry server: its weight still counts (keepalived
    // weighs ISALIVE servers), so with memory "lost" and weight 3 >= 2 quorum comes back.
    const back = compile(resolve(classic({}, spec)), 'd1', allHealthy, leadsAll, undefined, () => false).services[0]!;
    expect({ live: back.liveWeight, up: back.quorumUp, table: table(back) }).toEqual({ live: 3, up: true, table: ['192.168.10.101/1', '192.168.10.102/2'] });
  });

  // keepalived init_service_vs / update_quorum_state with sorry_server_inhibit: the sorry server
  // sits at weight 0 while quorum holds, weight 1 while it is lost.
  it('parks the sorry server at weight 0 while quorum holds with sorryServer.inhibit', () => {
    const spec = { sorryServer: { address: '192.168.10.200', inhibit: true } };
    const up = compile(resolve(classic({}, spec)), 'd1', allHealthy, leadsAll).services[0]!;
    expect(table(up)).toEqual(['192.168.10.101/1', '192.168.10.102/2', '192.168.10.200/0']);
    const lost = compile(resolve(classic({}, spec)), 'd1', () => false, leadsAll).services[0]!;
    expect(table(lost)).toEqual(['192.168.10.200/1']);
    const removed = compile(resolve(classic({}, sorry)), 'd1', allHealthy, leadsAll).services[0]!;
    expect(table(removed)).toEqual(['192.168.10.101/1', '192.168.10.102/2']);
  });

  it('treats a sorry server at a real server\'s address and port as that destination (s_svr_duplicates_rs)', () => {
    const spec = { sorryServer: { address: '192.168.10.102', inhibit: true }, quorum: { weight: 2 } };
    // Quorum holds: web-2 at its own weight, no second entry at weight 0.
    const up = compile(resolve(classic({}, spec)), 'd1', allHealthy, leadsAll).services[0]!;
    expect(table(up)).toEqual(['192.168.10.101/1', '192.168.10.102/2']);
    // web-2 failed and not inhibited while quorum holds (no sorry entry either).
    const failed = compile(resolve(classic({}, { ...spec, quorum: { weight: 1 } })), 'd1', only('192.168.10.101'), leadsAll).services[0]!;
    expect(table(failed)).toEqual(['192.168.10.101/1']);
    // Quorum lost: the sorry server replaces it at weight 1.
    const lost = compile(resolve(classic({}, spec)), 'd1', only('192.168.10.101'), leadsAll).services[0]!;
    expect(table(lost)).toEqual(['192.168.10.102/1']);
  });

  // keepalived sorry_server_lvs_method: the sorry server's own forwarding, else the service's.
  it("forwards to the sorry server by its own method, mapping its port only under NAT", () => {
    const nat = compile(resolve(classic({}, { sorryServer: { address: '192.168.10.200', port: 8080, forwarding: { method: 'NAT' } } })), 'd1', () => false, leadsAll);
    expect(nat.services[0]!.ipvs.dests).toEqual([{ addr: '192.168.10.200', port: 8080, fwd: 'masq', weight: 1, upperThreshold: 0, lowerThreshold: 0 }]);
    // A NAT sorry server on a DR service needs the director to route and keep conntrack.
    expect(nat.sysctls).toMatchObject({ 'net.ipv4.ip_forward': '1', 'net.ipv4.vs.conntrack': '1' });
    const tun = compile(resolve(classic({}, { forwarding: { method: 'NAT' }, sorryServer: { address: '192.168.10.200', inhibit: true, forwarding: { method: 'TUN', tunnelType: 'gue', tunnelPort: 6080 } } })), 'd1', allHealthy, leadsAll);
    expect(tun.services[0]!.ipvs.dests.at(-1)).toEqual({ addr: '192.168.10.200', port: 80, fwd: 'tunnel', weight: 0, upperThreshold: 0, lowerThreshold: 0, tunnel: { type: 'gue', port: 6080, flags: [] } });
    const inherited = compile(resolve(classic({}, sorry)), 'd1', () => false, leadsAll);
    expect(inherited.services[0]!.ipvs.dests.map((d) => d.fwd)).toEqual(['route']);
    expect(inherited.sysctls['net.ipv4.ip_forward']).toBeUndefined();
  });

  it('gives a DR or TUN sorry server of a fwmark service port 0, a NAT one its own port', () => {
    const fwm = (sorryServer: VirtualServiceSpecInput['sorryServer']): Snapshot => snapshot({
      directorGroups: [dg('g1')],
      virtualServices: [vs('shop', 'mark', { fwmark: 7, fwmarkVIPs: ['192.168.10.100'], forwarding: { method: 'DR' }, backends: { realServerSelector: { matchLabels: { app: 'web' } } }, directorGroup: 'g1', ...(sorryServer ? { sorryServer } : {}) })],
      realServers: [rs('shop', 'web-1', { address: '192.168.10.101' }, { app: 'web' })],
      nodes: [node('d1', { 'lvs.dev/director': 'g1' })],
    });
    const dest = (s: Snapshot): string => compile(resolve(s), 'd1', () => false, leadsAll).services[0]!.ipvs.dests.map((d) => `${d.addr}:${d.port} ${d.fwd}`).join();
    expect(dest(fwm({ address: '192.168.10.200' }))).toBe('192.168.10.200:0 route');
    expect(dest(fwm({ address: '192.168.10.200', forwarding: { method: 'TUN' } }))).toBe('192.168.10.200:0 tunnel');
    expect(dest(fwm({ address: '192.168.10.200', port: 8080, forwarding: { method: 'NAT' } }))).toBe('192.168.10.200:8080 masq');
  });

  it('treats unchecked real servers as down (keepalived alpha): the sorry server serves until checks pass', () => {
    const start = compile(resolve(classic({}, sorry)), 'd1', () => undefined, leadsAll).services[0]!;
    expect(table(start)).toEqual(['192.168.10.200/1']);
  });

  it('maps persistence, one-packet and scheduler flags to IPVS flags', () => {
    const s = snapshot({
      directorGroups: [dg('g1')],
      virtualServices: [
        web('a', 'p', '10.0.0.1', { scheduler: 'sh', schedulerFlags: ['sh-port', 'sh-fallback'], persistence: { timeoutSeconds: 600, netmask: '255.255.255.0' } }),
        web('a', 'u', '10.0.0.2', { protocol: 'UDP', port: 53, onePacket: true, healthCheck: { type: 'None' } }),
      ],
      realServers: [rs('a', 'r', { address: '10.1.0.1' }, { app: 'p' }), rs('a', 'r2', { address: '10.1.0.2' }, { app: 'u' })],
      nodes: [node('d1', { 'lvs.dev/director': 'g1' })],
    });
    const [p, u] = compile(resolve(s), 'd1', allHealthy, leadsAll).services;
    expect(p!.ipvs).toMatchObject({ scheduler: 'sh', timeout: 600, netmask: 24 });
    expect([...p!.ipvs.flags].sort()).toEqual(['persistent', 'sched1', 'sched2']);
    expect(u!.ipvs).toMatchObject({ key: { protocol: 'udp', port: 53 }, flags: ['one-packet'] });
  });

  it('routes and keeps conntrack for NAT; maps TUN with its tunnel type', () => {
    const s = snapshot({
      directorGroups: [dg('g1', { timeouts: { tcpSeconds: 900, udpSeconds: 60 } })],
      virtualServices: [
        web('a', 'n', '10.0.0.1', { forwarding: { method: 'NAT' } }),
        web('a', 't', '10.0.0.2', { forwarding: { method: 'TUN', tunnelType: 'gue', tunnelPort: 6080, tunnelFlags: ['csum'] } }),
      ],
      realServers: [rs('a', 'r', { address: '10.1.0.1', port: 8080 }, { app: 'n' }), rs('a', 'r2', { address: '10.1.0.2' }, { app: 't' })],
      nodes: [node('d1', { 'lvs.dev/director': 'g1' })],
    });
    const d = compile(resolve(s), 'd1', allHealthy, leadsAll);
    expect(d.services[0]!.ipvs.dests[0]).toMatchObject({ addr: '10.1.0.1', port: 8080, fwd: 'masq' });
    expect(d.services[1]!.ipvs.dests[0]).toMatchObject({ fwd: 'tunnel', tunnel: { type: 'gue', port: 6080, flags: ['csum'] } });
    expect(d.sysctls).toMatchObject({ 'net.ipv4.ip_forward': '1', 'net.ipv4.vs.conntrack': '1' });
    expect(d.timeouts).toEqual({ tcp: 900, udp: 60 });
  });

  it('programs nothing for a VirtualService that lost a conflict', () => {
    const s = classic();
    const loser = web('other', 'web', '192.168.10.100', { forwarding: { method: 'DR' } });
    const d = compile(resolve({ ...s, virtualServices: [...s.virtualServices, loser] }), 'd1', allHealthy, leadsAll);
    expect(d.services.map((x) => x.key)).toEqual(['shop/web']);
  });
});

describe('compile: addresses as the kernel spells them', () => {
  // The kernel reads addresses back in canonical form (RFC 5952): a key spelled otherwise never
  // matches what is programmed, and every pass would add the service again.
  it('programs a VIP and a sorry server given in any valid spelling under their canonical form', () => {
    const spelled = snapshot({
      directorGroups: [dg('g1', {}, { vrids: [{ vip: '2001:db8::1', interface: 'eth0', vrid: 51 }] })],
      virtualServices: [web('shop', 'web', '2001:DB8:0:0::0001', { sorryServer: { address: '2001:0DB8::00FF' } })],
      realServers: [rs('shop', 'web-1', { address: '2001:DB8::A' }, { app: 'web' })],
      nodes: [node('d1', { 'lvs.dev/director': 'g1' })],
    });
    const down = compile(resolve(spelled), 'd1', () => false, leadsAll).services[0]!;
    expect(down.ipvs.key).toEqual({ af: 'IPv6', protocol: 'tcp', addr: '2001:db8::1', port: 80 });
    expect(down.ipvs.dests.map((d) => d.addr)).toEqual(['2001:db8::ff']);
    const up = compile(resolve(spelled), 'd1', allHealthy, leadsAll);
    expect(up.services[0]!.ipvs.dests.map((d) => d.addr)).toEqual(['2001:db8::a']);
    expect(up.addresses).toEqual([{ ifname: 'eth0', address: '2001:db8::1', prefixLen: 128 }]);
  });
});

describe('compile (real-server side)', () => {
  it('puts the DR VIP on lo and sets arp_ignore/arp_announce on the node named by the RealServer', () => {
    const d = compile(resolve(classic()), 'rs-1', allHealthy, leadsAll);
    expect(d.services).toEqual([]);
    expect(d.addresses).toEqual([{ ifname: 'lo', address: '192.168.10.100', prefixLen: 32 }]);
    expect(d.sysctls).toEqual({
      'net.ipv4.conf.all.arp_ignore': '1', 'net.ipv4.conf.all.arp_announce': '2',
      'net.ipv4.conf.lo.arp_ignore': '1', 'net.ipv4.conf.lo.arp_announce': '2',
    });
    expect(d.realServerSide).toEqual([{ service: 'shop/web', vip: '192.168.10.100', method: 'DR' }]);
  });

  it('puts the TUN VIP on tunl0 with rp_filter off', () => {
    const d = compile(resolve(classic({}, { forwarding: { method: 'TUN' } })), 'rs-1', allHealthy, leadsAll);
    expect(d.addresses).toEqual([{ ifname: 'tunl0', address: '192.168.10.100', prefixLen: 32 }]);
    expect(d.links).toEqual(['tunl0']);
    expect(d.sysctls).toMatchObject({ 'net.ipv4.conf.tunl0.rp_filter': '0', 'net.ipv4.conf.all.rp_filter': '0' });
  });

  it('does nothing on the real server for NAT', () => {
    const d = compile(resolve(classic({}, { forwarding: { method: 'NAT' } })), 'rs-1', allHealthy, leadsAll);
    expect({ addresses: d.addresses, sysctls: d.sysctls, realServerSide: d.realServerSide }).toEqual({ addresses: [], sysctls: {}, realServerSide: [] });
  });
});
