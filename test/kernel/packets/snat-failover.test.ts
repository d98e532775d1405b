import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { snatRules } from '../../../src/agent/snat.js';
import { tableBatch } from '../../../src/nft/index.js';
import type { IpvsServiceWithDests } from '../../../src/ipvs/types.js';
import { assertInLab } from '../../lab/inside.js';
import { Topology, rootNs, type Netns } from '../../lab/netns.js';
import { hold, startPeerServer } from './snat-peers.js';

// What happens to a held, source-NATed connection when the VIP moves to the backup director,
// which has the IPVS connection from the sync daemon but no conntrack NAT entry for it. Two
// directors (namespaces with their own IPVS and nftables), the agent's rules (snatRules ->
// tableBatch), the real server routed around the directors. The primary then dies (links down).
const vip = '10.205.1.100';
const gwAddr = '10.205.2.253';
const service = (): IpvsServiceWithDests => ({
  key: { af: 'IPv4', protocol: 'tcp', addr: vip, port: 80 }, scheduler: 'rr', flags: [], timeout: 0, netmask: 32,
  dests: [{ addr: '10.205.2.11', port: 8080, fwd: 'masq', weight: 1, upperThreshold: 0, lowerThreshold: 0 }],
});

describe('a source-NATed connection across a director failover with connection sync', () => {
  let topo: Topology;
  let dir: string;
  const stops: (() => Promise<void>)[] = [];
  beforeAll(() => {
    assertInLab();
  });
  afterEach(async () => {
    for (const s of stops.splice(0)) await s();
    await topo?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function lab(gateway: boolean) {
    topo = new Topology('sf');
    dir = mkdtempSync('/tmp/lvs-sf-');
    await topo.bridge(rootNs, 'sf-ba');
    await topo.bridge(rootNs, 'sf-bb');
    const join2 = async (ns: Netns, name: string, br: 'a' | 'b', cidr: string): Promise<void> => {
      await topo.veth(rootNs, `sf-${name}${br}`, ns, `e${br}`);
      await topo.attach(rootNs, `sf-${name}${br}`, `sf-b${br}`);
      await ns.addr(`e${br}`, cidr);
    };
    const client = await topo.ns('c');
    await join2(client, 'c', 'a', '10.205.1.2/24');
    const gw = await topo.ns('gw');
    await join2(gw, 'g', 'a', '10.205.1.254/24');
    await join2(gw, 'g', 'b', '10.205.2.254/24');
    await gw.sysctl('net.ipv4.ip_forward', 1);
    await client.ip('route', 'add', '10.205.2.0/24', 'via', '10.205.1.254');
    const rs = await topo.ns('rs');
    await join2(rs, 'r', 'b', '10.205.2.11/24');
    await rs.ip('route', 'add', 'default', 'via', '10.205.2.254');
    stops.push(await startPeerServer(rs, 'rs1'));
    const gateways = gateway ? [{ address: gwAddr, prefixLen: 24, interface: 'eb', unicastPeers: [] }] : [];
    const batch = join(dir, 'snat.json');
    writeFileSync(batch, JSON.stringify({ nftables: tableBatch(snatRules(service(), gateways)) }));
    const directors: Netns[] = [];
    for (const [i, state] of [[1, 'master'], [2, 'backup']] as const) {
      const d = await topo.ns(`d${i}`);
      await join2(d, `d${i}`, 'a', `10.205.1.1${i}/24`);
      await join2(d, `d${i}`, 'b', `10.205.2.${i}/24`);
      await d.sysctl('net.ipv4.ip_forward', 1);
      await d.sysctl('net.ipv4.vs.conntrack', 1);
      await d.exec('ipvsadm', ['-A', '-t', `${vip}:80`, '-s', 'rr']);
      await d.exec('ipvsadm', ['-a', '-t', `${vip}:80`, '-r', '10.205.2.11:8080', '-m']);
      await d.exec('ipvsadm', ['--start-daemon', state, '--mcast-interface', 'ea', '--syncid', '7']);
      await d.exec('nft', ['-j', '-f', batch]);
      directors.push(d);
    }
    return { client, gw, rs, d1: directors[0]!, d2: directors[1]! };
  }

  /** The VIP (and the gateway address) move to d2; d1 dies; the neighbours forget d1's MAC (as gratuitous ARP makes them). */
  async function failover(l: Awaited<ReturnType<typeof lab>>, gateway: boolean): Promise<void> {
    await l.d1.ip('link', 'set', 'ea', 'down');
    await l.d1.ip('link', 'set', 'eb', 'down');
    await l.d2.addr('ea', `${vip}/32`);
    if (gateway) await l.d2.addr('eb', `${gwAddr}/24`);
    for (const ns of [l.client, l.gw, l.rs]) await ns.ip('neigh', 'flush', 'all');
  }

  /** d2 holds the connection from the sync daemon: asked with more lines until it does (bounded). */
  async function synced(l: Awaited<ReturnType<typeof lab>>, say: (s: string) => Promise<string>): Promise<string> {
    for (let i = 0; i < 20; i++) {
      const conns = (await l.d2.exec('ipvsadm', ['-Lnc'])).stdout;
      if (/TCP\s+\S+\s+ESTABLISHED\s+10\.205\.1\.2:\d+\s+10\.205\.1\.100:80\s+10\.205\.2\.11:8080/.test(conns)) return conns;
      await say(`sync-${i}`);
      await new Promise((r) => setTimeout(r, 500));
    }
    throw new Error(`the backup never got the connection: ${(await l.d2.exec('ipvsadm', ['-Lnc'])).stdout}`);
  }

  it('masquerade (each director its own address): the held connection breaks after failover', async () => {
    const l = await lab(false);
    await l.d1.addr('ea', `${vip}/32`);
    const held = await hold(l.client, vip);
    stops.push(held.stop);
    expect(await held.say('one')).toBe('rs1 10.205.2.1 one');
    await synced(l, held.say);
    await failover(l, false);
    // The backup has no NAT entry for the flow: it masquerades it to its own address, a
    // different 4-tuple for the real server, which has no such connection and resets it.
    expect(await held.say('two')).toMatch(/^error:/);
    // New connections work through the backup.
    const fresh = await hold(l.client, vip);
    stops.push(fresh.stop);
    expect(await fresh.say('new')).toBe('rs1 10.205.2.2 new');
  });

  it('the group\'s gateway address (moves with the VIP): the held connection survives failover', async () => {
    const l = await lab(true);
    await l.d1.addr('ea', `${vip}/32`);
    await l.d1.addr('eb', `${gwAddr}/24`);
    const held = await hold(l.client, vip);
    stops.push(held.stop);
    expect(await held.say('one')).toBe(`rs1 ${gwAddr} one`);
    await synced(l, held.say);
    await failover(l, true);
    expect(await held.say('two')).toBe(`rs1 ${gwAddr} two`);
  });
});
