import type { ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { holdConnections, knowsEvery, longestGapMs, recoveryMs, sleep, startEchoServer, startProbes, type EchoServer } from '../bench/failover-traffic.js';
import { waitFor } from '../test/lab/agents.js';
import { LabCluster, labSubnet, type LabNodeHandle } from '../test/lab/cluster.js';
import type { Netns } from '../test/lab/netns.js';
import { startLvsOperator } from '../test/lab/programs.js';

// The classic LVS-NAT pair (keepalived: vrrp_sync_group of the service VIP's instance and the
// gateway's): two directors with an outer interface (eth0: clients, the service VIP) and an inner
// one (eth1: the real servers' LAN). The real servers' ONLY way back is their default route via
// the gateway address 10.251.0.1, which the master holds with the service VIP. A crash of the
// master must move both: new connections are served again, held ones survive (sync daemon).
const inner = '10.251.0';
const gateway = `${inner}.1`;
const vip = `${labSubnet}.100`;
const port = 7000;
const held = 20;

const objects = [
  { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'web' } },
  {
    apiVersion: 'lvs.dev/v1alpha1', kind: 'DirectorGroup', metadata: { name: 'nat' },
    spec: {
      nodeSelector: { matchLabels: { 'lvs.dev/director': 'nat' } }, interface: 'eth0',
      vrrp: { version: 3, advertIntervalMs: 1000 },
      sync: { enabled: true, syncId: 13 },
      gatewayAddresses: [{ address: `${gateway}/24`, interface: 'eth1' }],
    },
  },
  {
    apiVersion: 'lvs.dev/v1alpha1', kind: 'VirtualService', metadata: { name: 'echo', namespace: 'web' },
    spec: {
      vip, port, protocol: 'TCP', scheduler: 'rr', forwarding: { method: 'NAT' }, directorGroup: 'nat',
      backends: { realServerSelector: { matchLabels: { app: 'echo' } } },
      healthCheck: { type: 'TCP', port, intervalSeconds: 2, timeoutSeconds: 1, rise: 1, fall: 2 },
    },
  },
  ...[1, 2, 3].map((i) => ({
    apiVersion: 'lvs.dev/v1alpha1', kind: 'RealServer', metadata: { name: `rs-${i}`, namespace: 'web', labels: { app: 'echo' } },
    spec: { address: `${inner}.${20 + i}`, port },
  })),
];

/** Which addresses a director holds now: the service VIP on eth0, the gateway (with its /24) on eth1. */
async function holds(n: LabNodeHandle): Promise<{ vip: boolean; gateway: boolean }> {
  const out = await n.exec('ip -o addr show').catch(() => '');
  return { vip: out.includes(`${vip}/32`), gateway: out.includes(`${gateway}/24`) };
}

describe('LVS-NAT pair: the real servers\' gateway address moves with the service VIP', () => {
  let lab: LabCluster;
  const directors: LabNodeHandle[] = [];
  const echo: EchoServer[] = [];
  let controller: ChildProcess | undefined;
  let client: Netns;

  beforeAll(async () => {
    lab = await LabCluster.create({ name: 'natgw', progress: (l) => console.log(l) });
    const logs = join(lab.dir, 'logs');
    mkdirSync(logs, { recursive: true });
    const kubectl = async (args: string[], input?: string): Promise<void> => {
      const r = await lab.api.kubectl(args, input === undefined ? {} : { input });
      if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr.trim()}`);
    };
    await kubectl(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'lvs-system' } }));
    controller = await startLvsOperator(['controller', '--kubeconfig', lab.api.kubeconfigPath, '--metrics-port', '0', '--leader-election-namespace', 'lvs-system'], undefined, join(logs, 'controller.log'));
    await kubectl(['apply', '-f', '-'], [1, 2].map((i) => JSON.stringify({ apiVersion: 'v1', kind: 'Node', metadata: { name: `d${i}`, labels: { 'lvs.dev/director': 'nat' } } })).join('\n'));
    // d1 is the preferred master (keepalived MASTER 150 / BACKUP 100).
    await kubectl(['annotate', 'node', 'd1', 'lvs.dev/vrrp-priority=150']);
    for (const i of [1, 2]) directors.push(await lab.node(`d${i}`, `${labSubnet}.${10 + i}`, { nics: [{ bridge: 'inner', address: `${inner}.${10 + i}` }] }));
    for (const i of [1, 2, 3]) {
      const ns = await lab.host(`rs${i}`, `${inner}.${20 + i}`, 'inner');
      await ns.ip('route', 'add', 'default', 'via', gateway);
      echo.push(await startEchoServer(ns, port, `rs-${i}`));
    }
    client = await lab.host('client', `${labSubnet}.50`);
    await kubectl(['apply', '-f', '-'], objects.map((o) => JSON.stringify(o)).join('\n'));
  }, 600_000);
  afterAll(async () => {
    for (const e of echo) await e.stop();
    controller?.kill('SIGTERM');
    await lab?.destroy();
  });

  it('the master holds both addresses, the backup neither; both program the NAT service', async () => {
    const [d1, d2] = directors as [LabNodeHandle, LabNodeHandle];
    expect(await waitFor(async () => JSON.stringify(await holds(d1)) === '{"vip":true,"gateway":true}', 90_000)).toBe(true);
    expect(await holds(d2)).toEqual({ vip: false, gateway: false });
    for (const d of directors) {
      expect(await waitFor(async () => (await d.exec('ipvsadm -Sn')).includes(`-a -t ${vip}:${port} -r ${inner}.23:${port} -m`), 60_000)).toBe(true);
    }
    // A router id for the gateway on eth1, as for the VIP on eth0.
    const g = JSON.parse((await lab.api.kubectl(['get', 'directorgroup', 'nat', '-o', 'json'])).stdout) as { status?: { vrids?: { vip: string; interface: string }[] } };
    expect(g.status?.vrids?.map((v) => `${v.interface}/${v.vip}`).sort()).toEqual([`eth0/${vip}`, `eth1/${gateway}`]);
  });

  it('the master\'s inner link down: the group is one sync group, so the service VIP leaves with the gateway, and both come back', async () => {
    const [d1, d2] = directors as [LabNodeHandle, LabNodeHandle];
    const probes = startProbes(client, vip, port, 100, 2000);
    await sleep(1500);
    const downAt = Date.now();
    // Without a sync group the gateway instance alone would move: the VIP would stay on d1, whose
    // real servers could no longer answer through it.
    await d1.exec('ip link set eth1 down');
    expect(await waitFor(async () => JSON.stringify(await holds(d2)) === '{"vip":true,"gateway":true}', 30_000)).toBe(true);
    expect((await holds(d1)).vip).toBe(false);
    await sleep(3000);
    await d1.exec('ip link set eth1 up');
    // d1 has the higher priority and preempts once its link is back: both addresses return together.
    expect(await waitFor(async () => JSON.stringify(await holds(d1)) === '{"vip":true,"gateway":true}', 30_000)).toBe(true);
    expect(await waitFor(async () => JSON.stringify(await holds(d2)) === '{"vip":false,"gateway":false}', 10_000)).toBe(true);
    await sleep(3000);
    await probes.stop();
    const since = probes.probes.filter((p) => p.start >= downAt);
    console.log(`e2e-figures ${JSON.stringify({ drill: 'nat-gateway-inner-link-down', newConnections: since.length, failedNew: since.filter((p) => !p.ok).length, longestGapMs: longestGapMs(probes.probes, downAt) })}`);
    expect(probes.probes.slice(-10).every((p) => p.ok)).toBe(true);
  });

  it('a crash of the master: the gateway moves with the VIP, held connections survive, new ones are served again', async () => {
    const [d1, d2] = directors as [LabNodeHandle, LabNodeHandle];
    const conns = holdConnections(client, vip, port, held, 200);
    await conns.ready;
    const { ports } = await conns.report();
    // The backup must know every held connection before the master dies (sync daemon flush).
    expect(await waitFor(async () => knowsEvery(await d2.exec('ipvsadm -Lnc'), vip, port, ports), 30_000)).toBe(true);
    const probes = startProbes(client, vip, port, 100, 2000);
    await sleep(1500);
    expect(probes.probes.filter((p) => p.ok).length).toBeGreaterThan(5);
    const killAt = Date.now();
    d1.crash();
    expect(await waitFor(async () => JSON.stringify(await holds(d2)) === '{"vip":true,"gateway":true}', 30_000)).toBe(true);
    const movedMs = Date.now() - killAt;
    await sleep(5000);
    const report = await conns.report();
    await sleep(1000);
    const after = await conns.report();
    await probes.stop();
    await conns.stop();
    const all = probes.probes;
    const since = all.filter((p) => p.start >= killAt);
    const recovery = recoveryMs(all, killAt);
    const lastTen = all.slice(-10);
    console.log(`e2e-figures ${JSON.stringify({
      drill: 'nat-gateway-failover', held, lost: report.lost, lostDetail: report.lostDetail,
      newConnections: since.length, failedNew: since.filter((p) => !p.ok).length,
      recoveryMs: recovery, bothAddressesOnBackupMs: movedMs,
    })}`);
    expect(report.lost).toBe(0);
    expect(report.established).toBe(held);
    // The held connections keep being answered through the new master and its gateway address.
    expect(after.answered).toBeGreaterThan(report.answered + held);
    expect(recovery).toBeDefined();
    expect(lastTen.length).toBe(10);
    expect(lastTen.every((p) => p.ok)).toBe(true);
  });
});
