import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compile, emptyDesired } from '../../../src/agent/compile.js';
import { FileOwnershipStore } from '../../../src/agent/ownership.js';
import { Reconciler } from '../../../src/agent/reconciler.js';
import { NetlinkIpvsClient } from '../../../src/ipvs/client.js';
import { ProcSysctl, RtLinkClient } from '../../../src/link/index.js';
import { resolve } from '../../../src/model/index.js';
import { NftCli } from '../../../src/nft/index.js';
import { dg, node, rs, snapshot, web } from '../../unit/model/fixtures.js';
import { assertInLab, run } from '../../lab/inside.js';
import { Topology, rootNs, type Netns } from '../../lab/netns.js';
import { hold, startPeerServer, tally } from './snat-peers.js';

// Source NAT for a NAT service whose real servers' default route is NOT the director: their
// router reaches the client directly, as a pod's node does. The agent's reconciler programs IPVS,
// the VIP, the sysctls and its nftables table from a compiled model; real TCP shows who answers
// and which source address the real servers saw.
const vip = '10.204.1.100';
const foreign = 'table ip snat-human {\n chain post {\n type nat hook postrouting priority 50; policy accept;\n ip daddr 10.204.9.9 counter masquerade\n }\n}\n';

function model(opts: { snat?: boolean; gateway?: string; service?: boolean } = {}) {
  return resolve(snapshot({
    directorGroups: [dg('g1', { interface: 'sn-d0', ...(opts.gateway ? { gatewayAddresses: [{ address: opts.gateway, interface: 'sn-br' }] } : {}) }, { vrids: [{ vip, interface: 'sn-d0', vrid: 51 }] })],
    virtualServices: opts.service === false ? [] : [web('shop', 'web', vip, { scheduler: 'wrr', forwarding: { method: 'NAT', ...(opts.snat === undefined ? {} : { snat: opts.snat }) } })],
    realServers: [
      rs('shop', 'web-1', { address: '10.204.2.11', port: 8080, weight: 1 }, { app: 'web' }),
      rs('shop', 'web-2', { address: '10.204.2.12', port: 8080, weight: 2 }, { app: 'web' }),
    ],
    nodes: [node('d1', { 'lvs.dev/director': 'g1' })],
  }));
}
const desired = (opts: Parameters<typeof model>[0]) => compile(model(opts), 'd1', () => true, () => true);

const ourTable = async (): Promise<string> => (await run('nft', ['-j', 'list', 'table', 'inet', 'lvs-operator'])).stdout;
const tables = async (): Promise<string> => (await run('nft', ['list', 'tables'])).stdout.trim();

describe('source NAT (forwarding.snat) with real servers that route around the director', () => {
  const topo = new Topology('sn');
  const stops: (() => Promise<void>)[] = [];
  let client: Netns;
  let dir: string;
  let ipvs: NetlinkIpvsClient;
  let link: RtLinkClient;
  let foreignBefore: string;
  const reconciler = (): Reconciler =>
    new Reconciler({ ipvs, link, sysctl: new ProcSysctl(), nft: new NftCli(), store: new FileOwnershipStore(join(dir, 'owned.json')) });

  beforeAll(async () => {
    assertInLab();
    dir = mkdtempSync('/tmp/lvs-snat-');
    // Client side: the director's sn-d0 (the VIP goes there); the client also reaches the real
    // servers' router directly (sn-c1), so their un-NATed replies arrive at the client, not lost.
    client = await topo.ns('c');
    await topo.veth(rootNs, 'sn-d0', client, 'sn-c0');
    await rootNs.addr('sn-d0', '10.204.1.1/24');
    await client.addr('sn-c0', '10.204.1.2/24');
    const gw = await topo.ns('gw');
    await topo.veth(gw, 'sn-g1', client, 'sn-c1');
    await gw.addr('sn-g1', '10.204.3.1/24');
    await client.addr('sn-c1', '10.204.3.2/24');
    await client.ip('route', 'add', '10.204.2.0/24', 'via', '10.204.3.1');
    await gw.sysctl('net.ipv4.ip_forward', 1);
    // Real-server segment: a bridge on the director, the router and two real servers whose default route is the router.
    await topo.bridge(rootNs, 'sn-br');
    await rootNs.addr('sn-br', '10.204.2.1/24');
    await topo.veth(rootNs, 'sn-hg', gw, 'sn-g0');
    await topo.attach(rootNs, 'sn-hg', 'sn-br');
    await gw.addr('sn-g0', '10.204.2.254/24');
    for (const i of [1, 2]) {
      const ns = await topo.ns(`r${i}`);
      await topo.veth(rootNs, `sn-h${i}`, ns, `sn-r${i}`);
      await topo.attach(rootNs, `sn-h${i}`, 'sn-br');
      await ns.addr(`sn-r${i}`, `10.204.2.1${i}/24`);
      await ns.ip('route', 'add', 'default', 'via', '10.204.2.254');
      stops.push(await startPeerServer(ns, `rs${i}`));
    }
    await run('nft', ['-f', '-'], { input: foreign });
    foreignBefore = (await run('nft', ['-j', 'list', 'table', 'ip', 'snat-human'])).stdout;
    ipvs = await NetlinkIpvsClient.open();
    link = new RtLinkClient();
  });
  afterAll(async () => {
    await reconciler().reconcile(emptyDesired()).catch(() => undefined);
    for (const s of stops) await s();
    ipvs?.close();
    link?.close();
    await topo.destroy();
    await run('nft', ['delete', 'table', 'ip', 'snat-human']).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });

  const foreignIntact = async (): Promise<void> => {
    expect((await run('nft', ['-j', 'list', 'table', 'ip', 'snat-human'])).stdout).toBe(foreignBefore);
  };

  it('without snat, new connections fail: the replies go around the director', async () => {
    const r = await reconciler().reconcile(desired({ snat: false }));
    expect(r.errors).toEqual([]);
    expect(r.nftOps).toBe(0);
    expect(await tally(client, vip, 2)).toEqual({ 'error:timeout': 2 });
    expect(await tables()).toBe('table ip snat-human');
  });

  it('with snat, connections work, spread by weight, and the real servers see the director\'s address', async () => {
    const r = await reconciler().reconcile(desired({ snat: true }));
    expect(r.errors).toEqual([]);
    expect(r.nftOps).toBe(1);
    expect((await run('sysctl', ['-n', 'net.ipv4.vs.conntrack'])).stdout.trim()).toBe('1');
    expect(await tally(client, vip, 9)).toEqual({ 'rs1 10.204.2.1': 3, 'rs2 10.204.2.1': 6 });
    await foreignIntact();
  });

  it('an agent restart drops no held connection and does not rewrite an unchanged table; snat off keeps it too', async () => {
    const held = await hold(client, vip);
    const first = await held.say('one');
    expect(first).toMatch(/^rs[12] 10\.204\.2\.1 one$/);
    const before = await ourTable();
    const r = await reconciler().reconcile(desired({ snat: true }));
    expect(r.nftOps).toBe(0);
    expect(await ourTable()).toBe(before); // same handles: not rewritten
    expect(await held.say('two')).toBe(first.replace('one', 'two'));
    // Turning snat off removes the table; the held connection's NAT lives in conntrack and stays.
    const off = await reconciler().reconcile(desired({ snat: false }));
    expect(off.nftOps).toBe(1);
    expect(await tables()).toBe('table ip snat-human');
    expect(await held.say('three')).toBe(first.replace('one', 'three'));
    await held.stop();
    await foreignIntact();
  });

  it('with a gateway address on the real servers\' subnet, the source is that address (it moves with VRRP)', async () => {
    const r = await reconciler().reconcile(desired({ snat: true, gateway: '10.204.2.253/24' }));
    expect(r.errors).toEqual([]);
    expect((await run('nft', ['list', 'table', 'inet', 'lvs-operator'])).stdout).toContain('snat ip to 10.204.2.253');
    expect(await tally(client, vip, 3)).toEqual({ 'rs1 10.204.2.253': 1, 'rs2 10.204.2.253': 2 });
  });

  // kube-proxy (iptables or nftables mode) on a director DNATs a LoadBalancer address with ipMode
  // VIP in nat prerouting at priority -100. The agent's claim (an identity DNAT at -101) binds the
  // connection first, and the kernel runs no later NAT chain for a bound connection.
  it('a kube-proxy-like DNAT of the VIP does not take the service\'s connections: the claim binds them first; without it, it would', async () => {
    const mimic = `table ip kp-mimic {\n chain pre {\n type nat hook prerouting priority -100; policy accept;\n ip daddr ${vip} tcp dport 80 counter dnat to 10.204.2.11:8080\n }\n}\n`;
    // IPVS's counters are summed by its estimator every 2 s: read them once they stand still.
    const ipvsConnections = async (): Promise<number> => {
      const read = async () => Number((await run('ipvsadm', ['-Ln', '--stats', '--exact', '-t', `${vip}:80`])).stdout.split('\n').find((l) => l.startsWith('TCP'))?.trim().split(/\s+/)[2]);
      let last = await read();
      for (;;) {
        await new Promise((r) => setTimeout(r, 2500));
        const now = await read();
        if (now === last) return now;
        last = now;
      }
    };
    const mimicPackets = async (): Promise<number> => Number(/counter packets (\d+)/.exec((await run('nft', ['list', 'table', 'ip', 'kp-mimic'])).stdout)?.[1] ?? NaN);
    await run('nft', ['-f', '-'], { input: mimic });
    try {
      const r = await reconciler().reconcile(desired({ snat: true }));
      expect(r.errors).toEqual([]);
      expect((await run('nft', ['list', 'chain', 'inet', 'lvs-operator', 'dstnat'])).stdout).toContain(`ip daddr ${vip} tcp dport 80 dnat ip to ${vip}`);
      const first = await ipvsConnections();
      expect(await tally(client, vip, 6)).toEqual({ 'rs1 10.204.2.1': 2, 'rs2 10.204.2.1': 4 });
      expect(await ipvsConnections()).toBe(first + 6);
      expect(await mimicPackets()).toBe(0);
      // Without the claim the mimic takes them: all to rs1, and IPVS never sees them.
      await run('nft', ['-f', '-'], { input: 'flush chain inet lvs-operator dstnat\ndelete chain inet lvs-operator dstnat\n' });
      const before = await ipvsConnections();
      expect(await tally(client, vip, 6)).toEqual({ 'rs1 10.204.2.1': 6 });
      expect(await ipvsConnections()).toBe(before);
      expect(await mimicPackets()).toBeGreaterThan(0);
      // The next pass puts the claim back.
      const again = await reconciler().reconcile(desired({ snat: true }));
      expect(again.nftOps).toBe(1);
      expect(await tally(client, vip, 3)).toEqual({ 'rs1 10.204.2.1': 1, 'rs2 10.204.2.1': 2 });
    } finally {
      await run('nft', ['delete', 'table', 'ip', 'kp-mimic']).catch(() => undefined);
    }
    await foreignIntact();
  });

  it('deleting the service, or an uninstall, leaves no nftables or IPVS residue; the foreign table stays', async () => {
    const r = await reconciler().reconcile(desired({ service: false, gateway: '10.204.2.253/24' }));
    expect(r.errors).toEqual([]);
    expect((await run('nft', ['list', 'ruleset'])).stdout).not.toContain('lvs-operator');
    expect(await tables()).toBe('table ip snat-human');
    expect((await run('ipvsadm', ['-Ln'])).stdout).not.toContain(vip);
    await reconciler().reconcile(desired({ snat: true }));
    expect(await tables()).toContain('table inet lvs-operator');
    const u = await reconciler().reconcile(emptyDesired());
    expect(u.errors).toEqual([]);
    expect(await tables()).toBe('table ip snat-human');
    expect((await run('ipvsadm', ['-Ln'])).stdout).not.toContain(vip);
    await foreignIntact();
  });
});
