// `npm run bench:failover [-- --advert-ms 100 --connections 20]`: in the lab, a client holds
// long-lived connections and steady new-connection load through a DR VIP served by two directors;
// the master's kernel is killed; measured: the time from the kill until the VIP serves a new
// connection again, and the long-lived connections lost. First a pair of our agents (VRRP v3,
// sync daemon on), then, in the same run, a pair of keepalived 2.2.7 in two other director kernels
// with the same advert interval, priorities, IPVS table and lvs_sync_daemon.
// Each side runs --rounds drills (the killed master reboots and preempts back in between); the
// figures are medians, lost connections are summed over the rounds.
// Prints progress on stderr; the last line on stdout is one JSON object.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { labKernel } from '../test/lab/kernel.js';
import { labSubnet, type LabNodeHandle } from '../test/lab/cluster.js';
import { waitFor } from '../test/lab/agents.js';
import { createEnv, vip, type E2eEnv } from '../e2e/env.js';
import { holdConnections, longestGapMs, recoveryMs, sleep, startEchoServer, startProbes, type EchoServer } from './failover-traffic.js';

const { values } = parseArgs({ options: { 'advert-ms': { type: 'string', default: '100' }, connections: { type: 'string', default: '20' }, rounds: { type: 'string', default: '3' } } });
const advertMs = Number(values['advert-ms']);
const connections = Number(values.connections);
// The kill lands at a random point of the advert cycle: one round varies by up to an interval.
const rounds = Math.max(1, Number(values.rounds));
if (!Number.isInteger(advertMs) || advertMs < 10 || advertMs % 10 !== 0) throw new Error('--advert-ms: a multiple of 10 (VRRPv3 centiseconds)');
const log = (s: string): void => console.error(`bench: ${s}`);
const port = 7000;
const kaVip = `${labSubnet}.101`;
const realServers = [1, 2, 3].map((i) => `${labSubnet}.${20 + i}`);

interface Drill { recoveryMs: number | undefined; gapMs: number; lost: number; established: number; reasons: string[] }

/** Long-lived connections + probes through `target`, then `kill()` the master; what the client saw. */
async function drill(env: E2eEnv, target: string, backup: LabNodeHandle, kill: () => void, holders: () => Promise<string[]>, backupName: string): Promise<Drill> {
  const held = holdConnections(env.client, target, port, connections, 200);
  await held.ready;
  // Kill only once the backup has every connection from the sync daemon (as an operator would
  // expect in steady state: a connection older than a sync period).
  const synced = await waitFor(async () => {
    const lines = (await backup.exec('ipvsadm -Lnc')).split('\n').filter((l) => l.includes(`${target}:${port}`) && l.includes('ESTABLISHED'));
    return lines.length >= connections;
  }, 30_000);
  log(`backup ${backupName} has the connection entries: ${synced}`);
  const probes = startProbes(env.client, target, port, 10, 3000);
  await sleep(1500);
  const killAt = Date.now();
  kill();
  const moved = await waitFor(async () => (await holders()).join() === backupName, 15_000);
  log(`VIP on ${backupName}: ${moved}`);
  await sleep(4000);
  await probes.stop();
  await sleep(1000);
  const r = await held.report();
  await held.stop();
  return { recoveryMs: recoveryMs(probes.probes, killAt), gapMs: longestGapMs(probes.probes, killAt), lost: r.lost, established: r.established, reasons: r.reasons };
}

function keepalivedConf(node: string, priority: number): string {
  const lines = [
    'global_defs {', `  router_id ${node}`, '  vrrp_version 3', '  vrrp_garp_master_delay 0',
    '  lvs_sync_daemon eth0 KA id 9', '}',
    'vrrp_instance KA {', '  state BACKUP', '  interface eth0', '  virtual_router_id 60', `  priority ${priority}`,
    `  advert_int ${advertMs / 1000}`, '  garp_master_repeat 5', '  virtual_ipaddress {', `    ${kaVip}/32 dev eth0`, '  }', '}',
    `virtual_server ${kaVip} ${port} {`, '  delay_loop 2', '  lb_algo rr', '  lb_kind DR', '  protocol TCP',
    ...realServers.flatMap((rs) => [`  real_server ${rs} ${port} {`, '    weight 1', '    TCP_CHECK {', '      connect_timeout 1', '    }', '  }']),
    '}',
  ];
  return `${lines.join('\n')}\n`;
}

const env = await createEnv('fobench', 2, log);
const echo: EchoServer[] = [];
try {
  for (const rs of env.realServers) echo.push(await startEchoServer(rs.ns, port, rs.name));
  const holdsOn = async (n: LabNodeHandle, addr: string): Promise<boolean> => (await n.exec('ip -o addr show dev eth0').catch(() => '')).includes(`${addr}/32`);

  // --- ours: d1 (priority 150) and d2 (100), VRRP v3, sync daemon on.
  const k = await env.lab.api.kubectl(['annotate', 'node', 'd1', 'lvs.dev/vrrp-priority=150']);
  if (k.code !== 0) throw new Error(k.stderr);
  await env.apply([
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'web' } },
    {
      apiVersion: 'lvs.dev/v1alpha1', kind: 'DirectorGroup', metadata: { name: 'edge' },
      spec: { nodeSelector: { matchLabels: { 'lvs.dev/director': 'edge' } }, interface: 'eth0', vrrp: { version: 3, advertIntervalMs: advertMs }, sync: { enabled: true, syncId: 9 } },
    },
    {
      apiVersion: 'lvs.dev/v1alpha1', kind: 'VirtualService', metadata: { name: 'echo', namespace: 'web' },
      spec: { vip, port, protocol: 'TCP', scheduler: 'rr', forwarding: { method: 'DR' }, backends: { realServerSelector: { matchLabels: { app: 'echo' } } }, healthCheck: { type: 'TCP', intervalSeconds: 2, timeoutSeconds: 1, rise: 1, fall: 2 }, directorGroup: 'edge' },
    },
    ...realServers.map((address, i) => ({ apiVersion: 'lvs.dev/v1alpha1', kind: 'RealServer', metadata: { name: `rs-${i + 1}`, namespace: 'web', labels: { app: 'echo' } }, spec: { address, port, nodeName: `rs-${i + 1}` } })),
  ]);
  let d1 = env.directors[0]!;
  const d2 = env.directors[1]!;
  const oursHolders = async (): Promise<string[]> => [...((await holdsOn(d1, vip)) ? ['d1'] : []), ...((await holdsOn(d2, vip)) ? ['d2'] : [])];
  const programmed = async (n: LabNodeHandle): Promise<boolean> => (await n.exec('ipvsadm -Sn')).split('\n').filter((l) => l.startsWith('-a')).length === 3;
  if (!(await waitFor(() => programmed(d2), 60_000))) throw new Error('ours: d2 not programmed');
  const ours: Drill[] = [];
  for (let r = 0; r < rounds; r++) {
    if (r > 0) d1 = await env.lab.node('d1', `${labSubnet}.11`); // reboots; preempts back (priority 150)
    if (!(await waitFor(async () => (await oursHolders()).join() === 'd1' && (await programmed(d1)), 120_000))) throw new Error('ours: d1 never became the only master');
    await sleep(2000);
    log(`ours round ${r + 1}: d1 master, d2 backup; drill`);
    ours.push(await drill(env, vip, d2, () => d1.crash(), oursHolders, 'd2'));
    log(`ours: ${JSON.stringify(ours.at(-1))}`);
  }

  // --- keepalived: two more director kernels (k1 150, k2 100) whose agents direct nothing.
  await env.apply([{ apiVersion: 'v1', kind: 'Node', metadata: { name: 'k1' } }, { apiVersion: 'v1', kind: 'Node', metadata: { name: 'k2' } }]);
  let k1 = await env.lab.node('k1', `${labSubnet}.13`);
  const k2 = await env.lab.node('k2', `${labSubnet}.14`);
  // The real servers accept the keepalived VIP as ours (the agents' arp_ignore/arp_announce stay set).
  for (const rs of env.realServers) await rs.ns.ip('addr', 'add', `${kaVip}/32`, 'dev', 'lo');
  const dir = join(env.lab.dir, 'keepalived');
  const startKeepalived = async (n: LabNodeHandle, prio: number, round: number): Promise<void> => {
    const d = join(dir, n.name);
    mkdirSync(d, { recursive: true });
    writeFileSync(join(d, 'keepalived.conf'), keepalivedConf(n.name, prio));
    await n.exec(`nohup keepalived -n -l -D -f ${d}/keepalived.conf -p /run/ka.pid -r /run/ka-vrrp.pid -c /run/ka-check.pid > ${d}/keepalived-${round}.log 2>&1 &\necho started`);
  };
  await startKeepalived(k1, 150, 0);
  await startKeepalived(k2, 100, 0);
  const kaHolders = async (): Promise<string[]> => [...((await holdsOn(k1, kaVip)) ? ['k1'] : []), ...((await holdsOn(k2, kaVip)) ? ['k2'] : [])];
  if (!(await waitFor(() => programmed(k2), 60_000))) throw new Error('keepalived: k2 not programmed');
  const ka: Drill[] = [];
  for (let r = 0; r < rounds; r++) {
    if (r > 0) {
      k1 = await env.lab.node('k1', `${labSubnet}.13`);
      await startKeepalived(k1, 150, r);
    }
    if (!(await waitFor(async () => (await kaHolders()).join() === 'k1' && (await programmed(k1)), 120_000))) throw new Error(`keepalived: k1 never became the only master; see ${dir}`);
    await sleep(2000);
    log(`keepalived round ${r + 1}: k1 master, k2 backup; drill`);
    ka.push(await drill(env, kaVip, k2, () => k1.crash(), kaHolders, 'k2'));
    log(`keepalived: ${JSON.stringify(ka.at(-1))}`);
  }

  const median = (xs: (number | undefined)[]): number | null => {
    const v = xs.filter((x): x is number => x !== undefined).sort((a, b) => a - b);
    if (v.length < xs.length || v.length === 0) return null; // a round that never recovered
    return v.length % 2 ? v[(v.length - 1) / 2]! : (v[v.length / 2 - 1]! + v[v.length / 2]!) / 2;
  };
  const oursMs = median(ours.map((d) => d.recoveryMs));
  const kaMs = median(ka.map((d) => d.recoveryMs));
  console.log(JSON.stringify({
    kernel: labKernel().release,
    advert_ms: advertMs,
    ours_ms: oursMs,
    keepalived_ms: kaMs,
    ratio: oursMs !== null && kaMs !== null ? Math.round((oursMs / kaMs) * 100) / 100 : null,
    ours_lost: ours.reduce((n, d) => n + d.lost, 0),
    keepalived_lost: ka.reduce((n, d) => n + d.lost, 0),
    established: Math.min(...ours.map((d) => d.established), ...ka.map((d) => d.established)),
    rounds,
    ours_samples_ms: ours.map((d) => d.recoveryMs ?? null),
    keepalived_samples_ms: ka.map((d) => d.recoveryMs ?? null),
  }));
} finally {
  for (const e of echo) await e.stop();
  await env.destroy();
}
