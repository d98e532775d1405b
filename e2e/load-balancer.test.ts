import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { holdConnections, knowsEvery, recoveryMs, sleep, startEchoServer, startProbes, type EchoServer } from '../bench/failover-traffic.js';
import { waitFor } from '../test/lab/agents.js';
import { labSubnet, type LabNodeHandle } from '../test/lab/cluster.js';
import { tallyConnections } from '../test/lab/servers.js';
import { createEnv, vipHolders, type E2eEnv } from './env.js';

// A Service of type LoadBalancer served by two directors, its endpoints (hand-made EndpointSlice:
// no EndpointSlice controller in the lab) on real servers whose replies do NOT pass the directors:
// the client is on their own LAN, so without source NAT they answer it directly from their own
// address and the client drops the reply, as with pods whose node routes around the director.
// The derived VirtualServices source-NAT to the group's gateway address on that LAN, which moves
// with VRRP, so synced connections survive a crash of the master (docs/architecture.md, Source NAT).
const ns = 'lb';
const pool = `${labSubnet}.100-${labSubnet}.101`;
const gateway = `${labSubnet}.2`;
const echoPort = 7000;
const plainPort = 8080; // a hand-written VirtualService of the same VIP and endpoints, snat off
const held = 12;
const rsAddress = (i: number): string => `${labSubnet}.${20 + i}`;

const group = {
  apiVersion: 'lvs.dev/v1alpha1', kind: 'DirectorGroup', metadata: { name: 'edge' },
  spec: {
    nodeSelector: { matchLabels: { 'lvs.dev/director': 'edge' } }, interface: 'eth0',
    // keepalived's default: faster adverts let a stall of one lab kernel make the other take over (see failover.test.ts).
    vrrp: { version: 3, advertIntervalMs: 1000 },
    sync: { enabled: true, syncId: 9 },
    gatewayAddresses: [{ address: `${gateway}/24`, interface: 'eth0' }],
  },
};
const addressPool = { apiVersion: 'lvs.dev/v1alpha1', kind: 'AddressPool', metadata: { name: 'lab' }, spec: { addresses: [pool], directorGroup: 'edge' } };
const service = {
  apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: ns, annotations: { 'lvs.dev/scheduler': 'rr' } },
  spec: {
    type: 'LoadBalancer', loadBalancerClass: 'lvs.dev/ipvs',
    ports: [{ name: 'http', port: 80, targetPort: 80, protocol: 'TCP' }, { name: 'echo', port: echoPort, targetPort: echoPort, protocol: 'TCP' }],
  },
};
const slice = {
  apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
  metadata: { name: 'web-lab', namespace: ns, labels: { 'kubernetes.io/service-name': 'web', 'endpointslice.kubernetes.io/managed-by': 'e2e.lvs.dev' } },
  addressType: 'IPv4',
  ports: [{ name: 'http', port: 80, protocol: 'TCP' }, { name: 'echo', port: echoPort, protocol: 'TCP' }],
  endpoints: [1, 2, 3].map((i) => ({ addresses: [rsAddress(i)], conditions: { ready: true }, nodeName: `rs-${i}` })),
};
const plain = (vip: string, snat: boolean) => ({
  apiVersion: 'lvs.dev/v1alpha1', kind: 'VirtualService', metadata: { name: 'web-plain', namespace: ns },
  spec: { vip, port: plainPort, protocol: 'TCP', scheduler: 'rr', directorGroup: 'edge', forwarding: { method: 'NAT', snat }, backends: { service: { name: 'web', port: 'http' } } },
});

interface Svc { status?: { loadBalancer?: { ingress?: { ip?: string; ipMode?: string }[] } } }
interface Pool { status?: { allocated?: number; free?: string } }
interface VsList { items: { metadata: { name: string }; spec: { vip: string; port: number; forwarding?: { method: string; snat?: boolean } } }[] }

describe('a LoadBalancer Service on two directors, with source NAT', () => {
  let env: E2eEnv;
  let vip = '';
  const echo: EchoServer[] = [];
  const d = (i: number): LabNodeHandle => env.directors[i]!;
  const programmed = async (n: LabNodeHandle, port: number): Promise<boolean> => {
    const s = await n.exec('ipvsadm -Sn').catch(() => '');
    return [1, 2, 3].every((i) => s.includes(`-a -t ${vip}:${port} -r ${rsAddress(i)}:${port === plainPort ? 80 : port} -m`));
  };
  /** The directors holding the gateway address (with its /24, unlike a VIP's /32). */
  const gatewayHolders = async (): Promise<string[]> => {
    const out: string[] = [];
    for (const n of env.directors) if ((await n.exec('ip -o addr show dev eth0').catch(() => '')).includes(`${gateway}/24`)) out.push(n.name);
    return out;
  };
  /** The peers each real server's echo port has established connections with. */
  const peersSeen = async (): Promise<string[]> => {
    const out: string[] = [];
    for (const rs of env.realServers) {
      const r = await rs.ns.exec('ss', ['-Htn', 'state', 'established', 'sport', '=', `:${echoPort}`]);
      for (const l of r.stdout.trim().split('\n').filter(Boolean)) out.push(l.trim().split(/\s+/).at(-1)!.replace(/:\d+$/, ''));
    }
    return out;
  };

  beforeAll(async () => {
    env = await createEnv('lb', 2, (l) => console.log(l));
    const r = await env.lab.api.kubectl(['annotate', 'node', 'd1', 'lvs.dev/vrrp-priority=150']);
    expect(r.code, r.stderr).toBe(0);
    for (const rs of env.realServers) echo.push(await startEchoServer(rs.ns, echoPort, rs.name));
  }, 600_000);
  afterAll(async () => {
    for (const e of echo) await e.stop();
    await env?.destroy();
  });

  it('the real servers reach the client directly, not through a director (what makes SNAT needed)', async () => {
    for (const rs of env.realServers) {
      const route = (await rs.ns.ip('route', 'get', `${labSubnet}.50`)).stdout;
      expect(route, route).not.toContain(' via ');
      expect(route).toContain('dev eth0');
    }
  });

  it('the Service gets an address of the pool with ipMode VIP, and one NAT+SNAT VirtualService per port', async () => {
    const started = Date.now();
    await env.apply([{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } }, group, addressPool, service, slice]);
    expect(await waitFor(async () => {
      const s = await env.getJson<Svc>(['get', 'service', 'web', '-n', ns]);
      vip = s.status?.loadBalancer?.ingress?.[0]?.ip ?? '';
      return vip !== '';
    }, 60_000)).toBe(true);
    const s = await env.getJson<Svc>(['get', 'service', 'web', '-n', ns]);
    expect(s.status?.loadBalancer?.ingress).toEqual([{ ip: `${labSubnet}.100`, ipMode: 'VIP' }]);
    const table = (await env.lab.api.kubectl(['get', 'svc', 'web', '-n', ns])).stdout;
    console.log(table);
    expect(table).toContain(vip);
    const list = await env.getJson<VsList>(['get', 'lvsvs', '-n', ns, '-l', 'lvs.dev/service-name=web']);
    expect(list.items.map((v) => `${v.metadata.name} ${v.spec.vip}:${v.spec.port} ${JSON.stringify(v.spec.forwarding)}`).sort()).toEqual([
      `web-${echoPort}-tcp ${vip}:${echoPort} {"method":"NAT","snat":true}`,
      `web-80-tcp ${vip}:80 {"method":"NAT","snat":true}`,
    ]);
    console.log((await env.lab.api.kubectl(['get', 'lvsvs', '-n', ns])).stdout);
    for (const n of env.directors) for (const port of [80, echoPort]) expect(await waitFor(() => programmed(n, port), 90_000)).toBe(true);
    expect(await waitFor(async () => (await vipHolders(env.directors)).join() === 'd1', 60_000)).toBe(true);
    expect(await waitFor(async () => (await gatewayHolders()).join() === 'd1', 10_000)).toBe(true);
    const rules = await d(0).exec('nft list table inet lvs-operator');
    expect(rules).toContain(`snat ip to ${gateway}`);
    console.log(`e2e-figures ${JSON.stringify({ step: 'service-programmed', ms: Date.now() - started })}`);
  });

  it('traffic through the VIP reaches every endpoint, round robin at equal weights', async () => {
    const tally = await tallyConnections(env.client, vip, 80, 9);
    console.log(`e2e-figures ${JSON.stringify({ step: 'spread', tally })}`);
    expect(tally).toEqual({ 'rs-1': 3, 'rs-2': 3, 'rs-3': 3 });
    const weights = (await d(0).exec('ipvsadm -Ln -t ' + `${vip}:80`)).split('\n').filter((l) => l.includes('Masq')).map((l) => l.trim().split(/\s+/)[3]);
    expect(weights).toEqual(['1', '1', '1']);
  });

  it('without source NAT (the same VIP and endpoints, snat false) new connections fail; with it they work', async () => {
    await env.apply([plain(vip, false)]);
    for (const n of env.directors) expect(await waitFor(() => programmed(n, plainPort), 60_000)).toBe(true);
    const off = await tallyConnections(env.client, vip, plainPort, 3);
    console.log(`e2e-figures ${JSON.stringify({ step: 'snat-off', tally: off })}`);
    expect(Object.keys(off).every((k) => k.startsWith('error:'))).toBe(true);
    await env.apply([plain(vip, true)]);
    expect(await waitFor(async () => (await d(0).exec('nft list table inet lvs-operator').catch(() => '')).includes(String(plainPort)), 30_000)).toBe(true);
    const on = await tallyConnections(env.client, vip, plainPort, 3);
    console.log(`e2e-figures ${JSON.stringify({ step: 'snat-on', tally: on })}`);
    expect(on).toEqual({ 'rs-1': 1, 'rs-2': 1, 'rs-3': 1 });
    await env.lab.api.kubectl(['delete', 'virtualservice', 'web-plain', '-n', ns]);
  });

  it('a crash of the master: held connections survive (synced, same gateway source), new ones are served again', async () => {
    const conns = holdConnections(env.client, vip, echoPort, held, 200);
    await conns.ready;
    const peers = await peersSeen();
    console.log(`e2e-figures ${JSON.stringify({ step: 'source-seen-by-real-servers', peers })}`);
    expect(peers.length).toBe(held);
    expect(new Set(peers)).toEqual(new Set([gateway]));
    const { ports } = await conns.report();
    expect(await waitFor(async () => knowsEvery(await d(1).exec('ipvsadm -Lnc'), vip, echoPort, ports), 30_000)).toBe(true);
    const probes = startProbes(env.client, vip, echoPort, 100, 2000);
    await sleep(1500);
    expect(probes.probes.some((p) => p.ok)).toBe(true);
    const killAt = Date.now();
    d(0).crash();
    expect(await waitFor(async () => (await vipHolders(env.directors)).join() === 'd2', 30_000)).toBe(true);
    expect(await waitFor(async () => (await gatewayHolders()).join() === 'd2', 10_000)).toBe(true);
    const movedMs = Date.now() - killAt;
    await sleep(5000);
    const report = await conns.report();
    await sleep(1000);
    const after = await conns.report();
    await probes.stop();
    await conns.stop();
    const since = probes.probes.filter((p) => p.start >= killAt);
    console.log(`e2e-figures ${JSON.stringify({
      step: 'failover', held, lost: report.lost, lostDetail: report.lostDetail, maxGapMs: report.maxGapMs,
      newConnections: since.length, failedNew: since.filter((p) => !p.ok).length, recoveryMs: recoveryMs(probes.probes, killAt), vipAndGatewayOnBackupMs: movedMs,
    })}`);
    expect(report.lost).toBe(0);
    expect(report.established).toBe(held);
    expect(after.answered).toBeGreaterThan(report.answered + held);
    expect(recoveryMs(probes.probes, killAt)).toBeDefined();
    expect(probes.probes.slice(-10).every((p) => p.ok)).toBe(true);
  });

  it('the Service deleted: derived VirtualServices, IPVS services and the nftables table gone from both directors, the address free', async () => {
    const start = Date.now();
    env.directors[0] = await env.lab.node('d1', `${labSubnet}.11`);
    for (const port of [80, echoPort]) expect(await waitFor(() => programmed(d(0), port), 120_000)).toBe(true);
    // What the deletion must remove is there on both directors first.
    for (const n of env.directors) {
      expect(await programmed(n, 80)).toBe(true);
      expect(await waitFor(async () => (await n.exec('nft list ruleset')).includes('table inet lvs-operator'), 30_000)).toBe(true);
    }
    console.log(`e2e-figures ${JSON.stringify({ step: 'd1-back-and-programmed', ms: Date.now() - start })}`);
    const deletedAt = Date.now();
    const r = await env.lab.api.kubectl(['delete', 'service', 'web', '-n', ns]);
    expect(r.code, r.stderr).toBe(0);
    expect(await waitFor(async () => (await env.getJson<VsList>(['get', 'lvsvs', '-n', ns])).items.length === 0, 30_000)).toBe(true);
    for (const n of env.directors) {
      expect(await waitFor(async () => !(await n.exec('ipvsadm -Sn')).includes(vip), 60_000)).toBe(true);
      expect(await waitFor(async () => !(await n.exec('nft list ruleset')).includes('lvs-operator'), 30_000)).toBe(true);
    }
    expect(await waitFor(async () => (await env.getJson<Pool>(['get', 'addresspool', 'lab'])).status?.allocated === 0, 30_000)).toBe(true);
    expect((await env.getJson<Pool>(['get', 'addresspool', 'lab'])).status?.free).toBe('2');
    console.log(`e2e-figures ${JSON.stringify({ step: 'service-deleted-all-clean', ms: Date.now() - deletedAt })}`);
  });
});
