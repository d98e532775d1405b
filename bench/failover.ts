// `npm run bench:failover [-- --advert-ms 100 --connections 20]`: in the lab, a client holds
// long-lived connections and steady new-connection load through a DR VIP served by two directors;
// the master's kernel is killed; measured: the time from the kill until the VIP serves a new
// connection again, and the long-lived connections lost. First a pair of our agents (VRRP v3,
// sync daemon on), then, in the same run, a pair of keepalived 2.2.7 in two other director kernels
// with the same advert interval, priorities, IPVS table and lvs_sync_daemon.
// Prints progress on stderr; the last line on stdout is one JSON object.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { labSubnet, type LabNodeHandle } from '../test/lab/cluster.js';
import { waitFor } from '../test/lab/agents.js';
import { createEnv, vip, type E2eEnv } from '../e2e/env.js';
import { holdConnections, longestGapMs, recoveryMs, sleep, startEchoServer, startProbes, type EchoServer } from './failover-traffic.js';

const { values } = parseArgs({ options: { 'advert-ms': { type: 'string', default: '100' }, connections: { type: 'string', default: '20' } } });
const advertMs = Number(values['advert-ms']);
const connections = Number(values.connections);
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
  const [d1, d2] = env.directors as [LabNodeHandle, LabNodeHandle];
  const oursHolders = async (): Promise<string[]> => [...((await holdsOn(d1, vip)) ? ['d1'] : []), ...((await holdsOn(d2, vip)) ? ['d2'] : [])];
  if (!(await waitFor(async () => (await oursHolders()).join() === 'd1', 90_000))) throw new Error('ours: d1 never became the only master');
  if (!(await waitFor(async () => (await d2.exec('ipvsadm -Sn')).includes(`${vip}:${port}`) && (await d2.exec('ipvsadm -Sn')).split('\n').filter((l) => l.startsWith('-a')).length === 3, 60_000))) throw new Error('ours: d2 not programmed');
  log('ours: d1 master, d2 backup; drill');
  const ours = await drill(env, vip, d2, () => d1.crash(), oursHolders, 'd2');
  log(`ours: ${JSON.stringify(ours)}`);

  // --- keepalived: two more director kernels (k1 150, k2 100) whose agents direct nothing.
  await env.apply([{ apiVersion: 'v1', kind: 'Node', metadata: { name: 'k1' } }, { apiVersion: 'v1', kind: 'Node', metadata: { name: 'k2' } }]);
  const k1 = await env.lab.node('k1', `${labSubnet}.13`);
  const k2 = await env.lab.node('k2', `${labSubnet}.14`);
  // The real servers accept the keepalived VIP as ours (the agents' arp_ignore/arp_announce stay set).
  for (const rs of env.realServers) await rs.ns.ip('addr', 'add', `${kaVip}/32`, 'dev', 'lo');
  const dir = join(env.lab.dir, 'keepalived');
  for (const [n, prio] of [[k1, 150], [k2, 100]] as const) {
    const d = join(dir, n.name);
    mkdirSync(d, { recursive: true });
    writeFileSync(join(d, 'keepalived.conf'), keepalivedConf(n.name, prio));
    await n.exec(`nohup keepalived -n -l -D -f ${d}/keepalived.conf -p /run/ka.pid -r /run/ka-vrrp.pid -c /run/ka-check.pid > ${d}/keepalived.log 2>&1 &\necho started`);
  }
  const kaHolders = async (): Promise<string[]> => [...((await holdsOn(k1, kaVip)) ? ['k1'] : []), ...((await holdsOn(k2, kaVip)) ? ['k2'] : [])];
  if (!(await waitFor(async () => (await kaHolders()).join() === 'k1', 60_000))) throw new Error(`keepalived: k1 never became the only master; see ${dir}`);
  if (!(await waitFor(async () => (await k2.exec('ipvsadm -Sn')).split('\n').filter((l) => l.startsWith('-a')).length === 3, 60_000))) throw new Error('keepalived: k2 not programmed');
  log('keepalived: k1 master, k2 backup; drill');
  const ka = await drill(env, kaVip, k2, () => k1.crash(), kaHolders, 'k2');
  log(`keepalived: ${JSON.stringify(ka)}`);

  const ratio = ours.recoveryMs !== undefined && ka.recoveryMs !== undefined ? Math.round((ours.recoveryMs / ka.recoveryMs) * 100) / 100 : null;
  console.log(JSON.stringify({
    advert_ms: advertMs,
    ours_ms: ours.recoveryMs ?? null,
    keepalived_ms: ka.recoveryMs ?? null,
    ratio,
    ours_lost: ours.lost,
    keepalived_lost: ka.lost,
    established: connections,
    ours_established: ours.established,
    keepalived_established: ka.established,
  }));
} finally {
  for (const e of echo) await e.stop();
  await env.destroy();
}
