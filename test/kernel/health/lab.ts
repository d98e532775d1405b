// The health probes' lab: the root namespace probes (as the agent would), a server namespace on a
// bridge holds the real peers (dnsmasq, Python's smtpd, an SCTP listener), each case on its own
// address so a keepalived in a third namespace can check the same targets and its log can say which.
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { rootNs, Topology, type Netns } from '../../lab/netns.js';
import { spawnTracked } from '../../lab/reaper.js';

const peersScript = fileURLToPath(new URL('./peers.py', import.meta.url));

/** Addresses of the server namespace and what answers there. */
export const A = {
  prober: '10.77.0.1',
  /** A second source address of the prober, the only one that bindOnly accepts. */
  proberAlt: '10.77.0.9',
  proberV6: 'fd77::1',
  keepalived: '10.77.0.5',
  keepalivedV6: 'fd77::5',
  /** dnsmasq, SCTP listener, smtpd on :25 */
  main: '10.77.0.2',
  mainV6: 'fd77::2',
  /** dnsmasq, smtpd, SCTP: but only packets from proberAlt get in */
  bindOnly: '10.77.0.3',
  /** SCTP dropped (no ABORT, no answer) */
  sctpDropped: '10.77.0.4',
  /** dnsmasq answers NXDOMAIN / NODATA here as anywhere, own addresses for keepalived's log */
  dnsNx: '10.77.0.12',
  dnsNoData: '10.77.0.13',
  /** nothing listens on :53 (ICMP port unreachable) */
  dnsDown: '10.77.0.14',
  /** UDP to :53 dropped */
  dnsDropped: '10.77.0.19',
  smtp: '10.77.0.15',
  /** greets 554 */
  smtpRefuses: '10.77.0.16',
  /** smtpd greeting in two lines */
  smtpMultiline: '10.77.0.20',
  ping: '10.77.0.17',
  pingV6: 'fd77::17',
  /** ICMP dropped */
  pingDropped: '10.77.0.18',
  pingDroppedV6: 'fd77::18',
  /** routed through the server namespace to an unreachable route: ICMP host unreachable */
  unreachable: '10.78.0.1',
} as const;

/** 50 answering and 50 silent addresses for the concurrency test. */
export const manyUp = Array.from({ length: 50 }, (_, i) => `10.77.1.${i + 1}`);
export const manyDropped = Array.from({ length: 50 }, (_, i) => `10.77.2.${i + 1}`);

export const DNS_NAME = 'web.lab.test';
export const SCTP_PORT = 3868;

export interface HealthLab {
  srv: Netns;
  kad: Netns;
  /** dnsmasq's log (--log-queries), to see where queries came from. */
  dnsLog(): string;
  destroy(): Promise<void>;
}

export async function startHealthLab(): Promise<HealthLab> {
  const topo = new Topology('hp');
  const stops: Array<() => Promise<void>> = [];
  try {
    await topo.bridge(rootNs, 'hp-br');
    for (const cidr of [`${A.prober}/16`, `${A.proberAlt}/16`]) await rootNs.addr('hp-br', cidr);
    for (const cidr of [`${A.proberV6}/64`]) await rootNs.ip('addr', 'add', cidr, 'dev', 'hp-br', 'nodad');
    await rootNs.ip('route', 'add', '10.78.0.0/24', 'via', A.main);

    const srv = await topo.ns('srv');
    await topo.veth(rootNs, 'hp-srv', srv, 'hp-srv-p', 'eth0');
    await topo.attach(rootNs, 'hp-srv', 'hp-br');
    const v4 = [A.main, A.bindOnly, A.sctpDropped, A.dnsNx, A.dnsNoData, A.dnsDown, A.dnsDropped, A.smtp, A.smtpRefuses, A.smtpMultiline, A.ping, A.pingDropped, ...manyUp, ...manyDropped];
    // one `ip -batch` instead of a hundred ip processes (each start costs in UML)
    await srv.exec('ip', ['-batch', '-'], { input: v4.map((a) => `addr add ${a}/16 dev eth0\n`).join('') });
    for (const a of [A.mainV6, A.pingV6, A.pingDroppedV6]) await srv.ip('addr', 'add', `${a}/64`, 'dev', 'eth0', 'nodad');
    await srv.sysctl('net.ipv4.ip_forward', 1);
    await srv.ip('route', 'add', 'unreachable', '10.78.0.0/24');
    const drops = [
      ['-d', A.pingDropped, '-p', 'icmp', '-j', 'DROP'],
      ['-d', '10.77.2.0/24', '-p', 'icmp', '-j', 'DROP'],
      ['-d', A.bindOnly, '!', '-s', A.proberAlt, '-j', 'DROP'],
      ['-d', A.sctpDropped, '-p', 'sctp', '-j', 'DROP'],
      ['-d', A.dnsDropped, '-p', 'udp', '-j', 'DROP'],
    ];
    for (const rule of drops) await srv.exec('iptables', ['-A', 'INPUT', ...rule]);
    await srv.exec('ip6tables', ['-A', 'INPUT', '-d', A.pingDroppedV6, '-p', 'ipv6-icmp', '--icmpv6-type', 'echo-request', '-j', 'DROP']);

    const kad = await topo.ns('kad');
    await topo.veth(rootNs, 'hp-kad', kad, 'hp-kad-p', 'eth0');
    await topo.attach(rootNs, 'hp-kad', 'hp-br');
    await kad.addr('eth0', `${A.keepalived}/16`);
    await kad.ip('addr', 'add', `${A.keepalivedV6}/64`, 'dev', 'eth0', 'nodad');

    const dns = await startDnsmasq(srv, [A.main, A.bindOnly, A.dnsNx, A.dnsNoData, A.dnsDropped, A.mainV6]);
    stops.push(dns.stop);
    for (const [what, addr, port, ...rest] of [
      ['smtpd', A.main, '25'], ['smtpd', A.smtp, '25'], ['smtpd', A.bindOnly, '25'], ['greet', A.smtpRefuses, '25', '554 5.3.2 no SMTP service here'],
      ['smtpd-multiline', A.smtpMultiline, '25'],
      ['sctp', '0.0.0.0', String(SCTP_PORT)], ['sctp', A.mainV6, String(SCTP_PORT)],
    ] as const) {
      stops.push(await startPeer(srv, [what, addr, port, ...rest]));
    }
    return {
      srv,
      kad,
      dnsLog: dns.log,
      destroy: async () => {
        for (const s of stops.splice(0).reverse()) await s();
        await rootNs.ip('route', 'del', '10.78.0.0/24').catch(() => undefined);
        await topo.destroy();
      },
    };
  } catch (err) {
    for (const s of stops.reverse()) await s();
    await topo.destroy();
    throw err;
  }
}

function started(child: ChildProcess, what: string, ready: RegExp, output: () => string): Promise<void> {
  return new Promise((resolve, reject) => {
    const check = (): void => {
      if (ready.test(output())) resolve();
    };
    child.stdout?.on('data', check);
    child.stderr?.on('data', check);
    child.once('close', (code) => reject(new Error(`${what} exited (${code}): ${output().slice(-2000)}`)));
  });
}

async function startPeer(ns: Netns, args: readonly string[]): Promise<() => Promise<void>> {
  const [cmd, ...rest] = ns.command('/usr/bin/python3', [peersScript, ...args]);
  const { child, stop } = spawnTracked(cmd!, rest, { name: `peer ${args.join(' ')}`, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d));
  child.stderr!.on('data', (d: Buffer) => (out += d));
  await started(child, `peer ${args.join(' ')}`, /^ready$/m, () => out);
  return stop;
}

/** dnsmasq answering for lab.test only: web has an A record (no AAAA), every other name is NXDOMAIN. */
async function startDnsmasq(ns: Netns, listen: string[]): Promise<{ log: () => string; stop: () => Promise<void> }> {
  const args = ['-k', '--conf-file=/dev/null', '--no-resolv', '--no-hosts', '--no-poll', '--bind-interfaces',
    `--listen-address=${listen.join(',')}`, '--port=53', '--user=root', '--group=root', '--pid-file', '--log-queries', '--log-facility=-',
    '--local=/lab.test/', `--host-record=${DNS_NAME},10.77.0.80`];
  const [cmd, ...rest] = ns.command('dnsmasq', args);
  const { child, stop } = spawnTracked(cmd!, rest, { name: 'dnsmasq', stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d));
  child.stderr!.on('data', (d: Buffer) => (out += d));
  await started(child, 'dnsmasq', /started, version/, () => out);
  let stopped = false;
  return { log: () => out, stop: async () => { if (!stopped) { stopped = true; await stop(); } } };
}
