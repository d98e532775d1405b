// The migration of docs/migrating-from-keepalived.md, run end to end on two director kernels: a
// keepalived 2.2.7 pair (VRRP with PASS auth, lvs_sync_daemon, two DR services with TCP_CHECK)
// carries long-lived connections; `lvs-operator import --adopt` translates its configuration;
// the backup's keepalived stops with --dont-release-ipvs and our agent adopts its table and joins
// the virtual router (pinned router id, same password) as backup; our director's priority is
// raised and it takes the VIP from keepalived's master; the old master's keepalived stops the same
// way and its agent adopts and joins as backup. Counted: held connections lost over the whole
// cutover (target 0) and the longest gap in new connections while the VIP moves.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { holdConnections, knowsEvery, longestGapMs, sleep, startEchoServer, startProbes, type EchoServer } from '../bench/failover-traffic.js';
import { labSubnet, type LabNodeHandle } from '../test/lab/cluster.js';
import { waitFor } from '../test/lab/agents.js';
import { projectRoot } from '../test/lab/paths.js';
import { createEnv, holdsVip, vip, vipHolders, type E2eEnv } from './env.js';

const echoPort = 7000;
const routerId = 51;
const rsAddresses = [1, 2, 3].map((i) => `${labSubnet}.${20 + i}`);

/** keepalived.conf of one director of the pair: the seed articles' master/backup, with sync. */
function keepalivedConf(name: string, state: 'MASTER' | 'BACKUP', priority: number): string {
  const realServer = (a: string, port: number): string =>
    `  real_server ${a} ${port} {\n    weight 1\n    TCP_CHECK {\n      connect_timeout 1\n    }\n  }\n`;
  const service = (port: number): string =>
    `virtual_server ${vip} ${port} {\n  delay_loop 2\n  lb_algo rr\n  lb_kind DR\n  protocol TCP\n${rsAddresses.map((a) => realServer(a, port)).join('')}}\n`;
  return `global_defs {
  router_id ${name}
  lvs_sync_daemon eth0 VI_1 id 9
}
vrrp_instance VI_1 {
  state ${state}
  interface eth0
  virtual_router_id ${routerId}
  priority ${priority}
  advert_int 1
  authentication {
    auth_type PASS
    auth_pass s3cret
  }
  virtual_ipaddress {
    ${vip}
  }
}
${service(80)}${service(echoPort)}`;
}

interface Vs {
  metadata: { name: string };
  status?: { conditions?: { type: string; status: string; reason?: string }[]; directors?: { node: string; vrrpState?: string }[] };
}

describe('cutover of a live keepalived pair to lvs-operator', () => {
  let env: E2eEnv;
  let dir: string;
  const echo: EchoServer[] = [];
  const d = (i: number): LabNodeHandle => env.directors[i]!;
  const table = async (n: LabNodeHandle): Promise<string[]> =>
    (await n.exec('ipvsadm -S -n')).split('\n').map((l) => l.trim()).filter((l) => l.startsWith('-a ') || l.startsWith('-A ')).sort();
  const kubectl = async (args: string[], input?: string): Promise<string> => {
    const r = await env.lab.api.kubectl(args, input === undefined ? {} : { input });
    if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr.trim()}`);
    return r.stdout;
  };
  const keepalivedRunning = async (n: LabNodeHandle): Promise<boolean> => (await n.exec('pgrep -x keepalived || true')).trim() !== '';
  const startKeepalived = async (n: LabNodeHandle, state: 'MASTER' | 'BACKUP', priority: number): Promise<void> => {
    const kd = join(dir, n.name);
    mkdirSync(kd, { recursive: true });
    writeFileSync(join(kd, 'keepalived.conf'), keepalivedConf(n.name, state, priority));
    // -I (--dont-release-ipvs): what the migration needs when keepalived stops; -n -l: its log in a file.
    await n.exec(`cd ${kd} && nohup /usr/sbin/keepalived -n -l -D -I --no-syslog -f ${kd}/keepalived.conf -p ${kd}/keepalived.pid -c ${kd}/checkers.pid -r ${kd}/vrrp.pid > ${kd}/keepalived.log 2>&1 < /dev/null &`);
  };
  const stopKeepalived = async (n: LabNodeHandle): Promise<void> => {
    await n.exec(`kill -TERM $(cat ${join(dir, n.name, 'keepalived.pid')})`);
    expect(await waitFor(async () => !(await keepalivedRunning(n)), 20_000)).toBe(true);
  };
  /** Everything needed to tell why a step did not come: statuses, tables, the agents' last words. */
  const diagnose = async (): Promise<string> => {
    const tail = (f: string): string => {
      try {
        return readFileSync(f, 'utf8').slice(-4000);
      } catch (e) {
        return String(e);
      }
    };
    const out = [JSON.stringify((await services()).items.map((v) => ({ name: v.metadata.name, status: v.status })), null, 1)];
    for (const n of env.directors) {
      out.push(`--- ${n.name} ipvsadm ---\n${(await table(n)).join('\n')}\n--- ${n.name} agent ---\n${tail(join(env.lab.dir, 'nodes', n.name, 'agent.log'))}`);
      out.push(`--- ${n.name} keepalived ---\n${tail(join(dir, n.name, 'keepalived.log'))}`);
      const vrrpLines = tail(join(env.lab.dir, 'nodes', n.name, 'agent.log')).length > 0
        ? readFileSync(join(env.lab.dir, 'nodes', n.name, 'agent.log'), 'utf8').split('\n').filter((l) => /vrrp/i.test(l)).slice(-30).join('\n') : '';
      out.push(`--- ${n.name} agent, VRRP lines ---\n${vrrpLines}`);
      out.push(`--- ${n.name} addresses, VRRP metrics, adverts on the wire ---\n${await n.exec('ip -o addr show dev eth0; curl -s http://127.0.0.1:9477/metrics | grep -i vrrp | grep -v "^#"; timeout 4 tcpdump -c 6 -nvi eth0 ip proto 112 2>&1 || true').catch(String)}`);
    }
    return out.join('\n');
  };
  const step = async (what: string, cond: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> => {
    if (!(await waitFor(cond, timeoutMs))) throw new Error(`${what}: not reached in ${timeoutMs} ms\n${await diagnose()}`);
  };
  const services = (): Promise<{ items: Vs[] }> => env.getJson<{ items: Vs[] }>(['get', 'virtualservices', '-n', 'legacy']);

  beforeAll(async () => {
    env = await createEnv('cutover', 2, (l) => console.log(l));
    dir = join(env.lab.dir, 'keepalived');
    for (const rs of env.realServers) {
      echo.push(await startEchoServer(rs.ns, echoPort, rs.name));
      // The real servers' own init script of the keepalived era (LVS-DR): VIP on lo, no ARP for it.
      await rs.ns.exec('ip', ['addr', 'add', `${vip}/32`, 'dev', 'lo']);
      for (const [k, v] of [['arp_ignore', '1'], ['arp_announce', '2']]) {
        for (const dev of ['all', 'eth0']) await rs.ns.exec('sysctl', ['-qw', `net.ipv4.conf.${dev}.${k}=${v}`]);
      }
    }
  }, 600_000);
  afterAll(async () => {
    for (const n of env?.directors ?? []) await n.exec('pkill -x keepalived || true').catch(() => undefined);
    for (const e of echo) await e.stop();
    await env?.destroy();
  });

  it('keepalived master and backup, our agents idle: keepalived serves, nothing of its is touched', async () => {
    await startKeepalived(d(0), 'MASTER', 150);
    await startKeepalived(d(1), 'BACKUP', 100);
    expect(await waitFor(async () => (await vipHolders(env.directors)).join() === 'd1', 30_000)).toBe(true);
    for (const n of env.directors) expect(await waitFor(async () => (await table(n)).length === 8, 30_000)).toBe(true);
    const daemons = await d(1).exec('ipvsadm -L --daemon');
    expect(daemons).toMatch(/backup sync daemon \(mcast=eth0, syncid=9/);
  });

  it('import --adopt, hand the backup over, take the VIP with a higher priority, then the old master: 0 held connections lost', async () => {
    // 0. Translate the master's configuration as the guide says.
    writeFileSync(join(dir, 'master.conf'), keepalivedConf('d1', 'MASTER', 150));
    const imported = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'import', '--adopt', '--namespace', 'legacy', '--group', 'edge-ka',
      '--node-selector', 'lvs.dev/migrated=true', join(dir, 'master.conf')], { cwd: projectRoot, encoding: 'utf8' });
    expect(imported.status, imported.stderr).toBe(0);
    expect(imported.stderr).toContain(`virtual_router_id ${routerId} is pinned to ${vip}`);
    const kinds = parseAllDocuments(imported.stdout).map((x) => (x.toJS() as { kind: string }).kind);
    expect(kinds.sort()).toEqual(['DirectorGroup', 'RealServer', 'RealServer', 'RealServer', 'RealServer', 'RealServer', 'RealServer', 'Secret', 'VirtualService', 'VirtualService']);

    // 1. Install without directors: nothing is programmed, keepalived keeps serving.
    await kubectl(['create', 'namespace', 'legacy']);
    await kubectl(['apply', '-f', '-'], imported.stdout);
    expect(await waitFor(async () => (await services()).items.length === 2 && (await services()).items.every((v) =>
      v.status?.conditions?.some((c) => c.reason === 'NoDirectors')), 30_000)).toBe(true);

    const held = holdConnections(env.client, vip, echoPort, 12, 200);
    await held.ready;
    const { ports } = await held.report();

    // 2. The backup: keepalived stops leaving its table, our agent adopts it and joins as backup.
    await stopKeepalived(d(1));
    expect((await table(d(1))).length).toBe(8);
    await kubectl(['annotate', 'node', 'd2', 'lvs.dev/vrrp-priority=100', '--overwrite']);
    await kubectl(['label', 'node', 'd2', 'lvs.dev/migrated=true']);
    await step('d2 adopts and is backup', async () => {
      const s = await services();
      return s.items.every((v) => v.status?.directors?.some((x) => x.node === 'd2' && x.vrrpState === 'Backup'));
    });
    expect(await vipHolders(env.directors)).toEqual(['d1']);
    expect(await table(d(1))).toEqual(await table(d(0)));
    // keepalived's master sync daemon feeds our backup: it knows every held connection.
    await step('d2 knows every held connection', async () => knowsEvery(await d(1).exec('ipvsadm -Lnc'), vip, echoPort, ports), 30_000);

    // 3. Our director takes the VIP: priority above keepalived's master (150), same router id.
    const probes = startProbes(env.client, vip, echoPort, 20, 2000);
    await sleep(1000);
    const raisedAt = Date.now();
    await kubectl(['annotate', 'node', 'd2', 'lvs.dev/vrrp-priority=200', '--overwrite']);
    await step('d2 takes the VIP', async () => (await vipHolders(env.directors)).join() === 'd2', 30_000);
    const tookMs = Date.now() - raisedAt;
    await sleep(3000);
    await probes.stop();
    const gapMs = longestGapMs(probes.probes, raisedAt);
    const failed = probes.probes.filter((p) => !p.ok && p.start >= raisedAt).length;
    expect(await keepalivedRunning(d(0))).toBe(true); // keepalived on d1 lives on as backup

    // The old master: keepalived stops leaving its table; its agent adopts it and joins as backup.
    await stopKeepalived(d(0));
    await kubectl(['label', 'node', 'd1', 'lvs.dev/migrated=true']);
    await step('d1 adopts and is backup, d2 master, Ready', async () => {
      const s = await services();
      return s.items.every((v) => {
        const states = Object.fromEntries((v.status?.directors ?? []).map((x) => [x.node, x.vrrpState]));
        return states.d1 === 'Backup' && states.d2 === 'Master' && v.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
      });
    });
    expect(await holdsVip(d(0))).toBe(false);
    expect(await table(d(0))).toEqual(await table(d(1)));
    expect(await table(d(0))).toHaveLength(8);

    await sleep(2000);
    const report = await held.report();
    await held.stop();
    console.log(`cutover: ${JSON.stringify({ held: report.established, lost: report.lost, lostDetail: report.lostDetail, vipMovedMs: tookMs, newConnectionGapMs: gapMs, failedNewConnections: failed, probes: probes.probes.length })}`);
    expect(report.established).toBe(12);
    expect(report.lost).toBe(0);
    // The held connections are answered by our master now.
    const after = holdConnections(env.client, vip, echoPort, 3, 200);
    await after.ready;
    await after.stop();
  });
});
