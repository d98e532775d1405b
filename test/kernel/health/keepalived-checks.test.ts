import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deadlineSignal, runProbe } from '../../../src/health/probes/index.js';
import type { ProbeSpec } from '../../../src/health/types.js';
import { assertInLab } from '../../lab/inside.js';
import { labDir } from '../../lab/paths.js';
import { spawnTracked, tempDir, track } from '../../lab/reaper.js';
import { waitUntil } from '../vrrp/routers.js';
import { A, DNS_NAME, startHealthLab, type HealthLab } from './lab.js';

// Real keepalived 2.2.7 runs DNS_CHECK, SMTP_CHECK and PING_CHECK against the same servers as our
// probes; its IPVS table (ipvsadm -S -n, real servers in only after a passing check: `alpha`)
// must agree with our probes' verdicts, case by case.
interface Case {
  name: string;
  vs: string;
  proto: 'TCP' | 'UDP';
  rs: string;
  port: number;
  /** keepalived's checker block */
  check: string[];
  ours: ProbeSpec;
  up: boolean;
  /** Where keepalived differs on purpose (docs/keepalived-mapping.md). */
  keepalivedUp?: boolean;
}

const dnsCheck = (type: string, name: string): string[] => ['DNS_CHECK {', `type ${type}`, `name ${name}`, 'connect_timeout 1', 'retry 0', '}'];
const smtpCheck = ['SMTP_CHECK {', 'helo_name checker.lab.test', 'connect_timeout 1', 'retry 0', '}'];
const pingCheck = ['PING_CHECK {', 'connect_timeout 1', 'retry 0', '}'];
const dns = (queryType: 'A' | 'AAAA', queryName: string): ProbeSpec => ({ type: 'dns', timeoutMs: 1000, queryType, queryName });
const smtp: ProbeSpec = { type: 'smtp', timeoutMs: 1000, helo: 'checker.lab.test' };
const ping: ProbeSpec = { type: 'ping', timeoutMs: 1000 };

const cases: Case[] = [
  { name: 'DNS answer', vs: '10.99.0.1', proto: 'UDP', rs: A.main, port: 53, check: dnsCheck('A', DNS_NAME), ours: dns('A', DNS_NAME), up: true },
  { name: 'DNS NXDOMAIN', vs: '10.99.0.2', proto: 'UDP', rs: A.dnsNx, port: 53, check: dnsCheck('A', 'nope.lab.test'), ours: dns('A', 'nope.lab.test'), up: false },
  { name: 'DNS NODATA', vs: '10.99.0.3', proto: 'UDP', rs: A.dnsNoData, port: 53, check: dnsCheck('AAAA', DNS_NAME), ours: dns('AAAA', DNS_NAME), up: true },
  { name: 'DNS server down', vs: '10.99.0.4', proto: 'UDP', rs: A.dnsDown, port: 53, check: dnsCheck('A', DNS_NAME), ours: dns('A', DNS_NAME), up: false },
  { name: 'SMTP', vs: '10.99.0.5', proto: 'TCP', rs: A.smtp, port: 25, check: smtpCheck, ours: smtp, up: true },
  { name: 'SMTP 554 greeting', vs: '10.99.0.6', proto: 'TCP', rs: A.smtpRefuses, port: 25, check: smtpCheck, ours: smtp, up: false },
  // keepalived reads the first line only and takes `220-` for a bad banner; RFC 5321 allows it
  { name: 'SMTP multi-line greeting', vs: '10.99.0.9', proto: 'TCP', rs: A.smtpMultiline, port: 25, check: smtpCheck, ours: smtp, up: true, keepalivedUp: false },
  { name: 'ping', vs: '10.99.0.7', proto: 'TCP', rs: A.ping, port: 80, check: pingCheck, ours: ping, up: true },
  { name: 'ping dropped', vs: '10.99.0.8', proto: 'TCP', rs: A.pingDropped, port: 80, check: pingCheck, ours: ping, up: false },
  { name: 'ping IPv6', vs: 'fd99::7', proto: 'TCP', rs: A.pingV6, port: 80, check: pingCheck, ours: ping, up: true },
  { name: 'ping IPv6 dropped', vs: 'fd99::8', proto: 'TCP', rs: A.pingDroppedV6, port: 80, check: pingCheck, ours: ping, up: false },
];

function keepalivedConf(): string {
  const lines = ['global_defs {', 'router_id hp-kad', '}'];
  for (const c of cases) {
    lines.push(`virtual_server ${c.vs} ${c.port} {`, 'delay_loop 1', 'lb_algo rr', 'lb_kind NAT', `protocol ${c.proto}`, 'alpha',
      `real_server ${c.rs} ${c.port} {`, ...c.check, '}', '}');
  }
  return `${lines.join('\n')}\n`;
}

const bracket = (a: string): string => (a.includes(':') ? `[${a}]` : a);
const esc = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('our DNS, SMTP and ping probes agree with keepalived 2.2.7\'s checkers', () => {
  let lab: HealthLab;
  let log = '';
  let stop: (() => Promise<void>) | undefined;
  beforeAll(async () => {
    assertInLab();
    lab = await startHealthLab();
    // pids repeat from one lab boot to the next: a stale pid file would make keepalived think it runs
    const dir = labDir('keepalived', 'health-checks');
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    track(tempDir(dir));
    writeFileSync(join(dir, 'keepalived.conf'), keepalivedConf());
    const [cmd, ...args] = lab.kad.command('keepalived', ['-n', '-l', '-D', '-C', '--no-syslog', '-f', join(dir, 'keepalived.conf'),
      '-p', join(dir, 'keepalived.pid'), '-c', join(dir, 'checkers.pid'), '-i', 'hp-kad']);
    const k = spawnTracked(cmd!, args, { name: 'keepalived checkers', stdio: ['ignore', 'pipe', 'pipe'] });
    k.child.stdout!.on('data', (d: Buffer) => (log += d));
    k.child.stderr!.on('data', (d: Buffer) => (log += d));
    stop = k.stop;
  });
  afterAll(async () => {
    await stop?.();
    await lab?.destroy();
  });

  it('case by case, keepalived\'s table and our verdicts are the expected ones', async () => {
    // keepalived's first verdict on each real server: after `Activating healthchecker for service
    // [rs]...`, the next line naming [rs] is its addition to the table or the check's failure
    const verdict = (c: Case): RegExp => new RegExp(`^(?!.*Activating).*${esc(`[${c.rs}]`)}`, 'm');
    await waitUntil('a first keepalived verdict on every real server', () => cases.every((c) => verdict(c).test(log)), 60_000, 100)
      .catch((e: Error) => { throw new Error(`${e.message}\n--- keepalived ---\n${log.slice(-6000)}`); });
    const table = (await lab.kad.exec('ipvsadm', ['-S', '-n'])).stdout;
    const rows = [];
    for (const c of cases) {
      const keepalivedUp = new RegExp(`-r ${esc(bracket(c.rs))}:${c.port}\\b`).test(table);
      const d = deadlineSignal(c.ours.timeoutMs);
      const ours = await runProbe({ address: c.rs, port: c.port }, c.ours, d.signal).finally(d.dispose);
      rows.push({ name: c.name, expected: c.up, keepalived: keepalivedUp, ours: ours.ok, reason: ours.reason ?? '' });
    }
    console.log(`health-figures keepalived vs ours:\n${rows.map((r) => `  ${r.name}: expected ${r.expected} keepalived ${r.keepalived} ours ${r.ours} ${r.reason}`).join('\n')}`);
    expect(rows.map((r) => ({ name: r.name, keepalived: r.keepalived, ours: r.ours })))
      .toEqual(cases.map((c) => ({ name: c.name, keepalived: c.keepalivedUp ?? c.up, ours: c.up })));
  });
});
