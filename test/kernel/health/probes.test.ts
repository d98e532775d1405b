import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeEchoRequest } from '../../../src/health/probes/icmp-echo.js';
import { deadlineSignal, probeDns, probePing, probeSctp, probeSmtp } from '../../../src/health/probes/index.js';
import { openEchoSocket } from '../../../src/health/probes/ping.js';
import { sockaddrIn } from '../../../src/vrrp/runtime/sockaddr.js';
import { nativeBinding } from '../../../src/vrrp/runtime/native.js';
import type { DnsProbeSpec, Probe, ProbeResult, ProbeSpec } from '../../../src/health/types.js';
import { assertInLab } from '../../lab/inside.js';
import { rootNs, type Netns } from '../../lab/netns.js';
import { waitUntil } from '../vrrp/routers.js';
import { A, DNS_NAME, manyDropped, manyUp, SCTP_PORT, startHealthLab, type HealthLab } from './lab.js';

// The DNS, SMTP, ping and SCTP probes against real servers in a lab namespace: dnsmasq, Python's
// smtpd, the kernel's ICMP and SCTP; failures made by the kernel too (ICMP port and host
// unreachable, SCTP ABORT) or by iptables (silence).
async function run<S extends ProbeSpec>(probe: Probe<S>, address: string, port: number, spec: S): Promise<ProbeResult> {
  const d = deadlineSignal(spec.timeoutMs);
  try {
    return await probe({ address, port }, spec, d.signal);
  } finally {
    d.dispose();
  }
}

const dns = (address: string, extra: Partial<DnsProbeSpec> = {}): Promise<ProbeResult> =>
  run(probeDns, address, 53, { type: 'dns', timeoutMs: 2000, queryName: DNS_NAME, queryType: 'A', ...extra });
const smtp = (address: string, extra: { bindAddress?: string; timeoutMs?: number } = {}): Promise<ProbeResult> =>
  run(probeSmtp, address, 25, { type: 'smtp', timeoutMs: 2000, helo: 'checker.lab.test', ...extra });
const ping = (address: string, extra: { bindAddress?: string; timeoutMs?: number } = {}): Promise<ProbeResult> =>
  run(probePing, address, 0, { type: 'ping', timeoutMs: 2000, ...extra });
const sctp = (address: string, port = SCTP_PORT, extra: { bindAddress?: string; timeoutMs?: number } = {}): Promise<ProbeResult> =>
  run(probeSctp, address, port, { type: 'sctp', timeoutMs: 2000, ...extra });

/** Named counters of /proc/net/snmp-style files in `ns` ("Tcp: ... / Tcp: ..." pairs, or "Name value" lines). */
async function counters(ns: Netns, file: string): Promise<Record<string, number>> {
  const text = (await ns.exec('cat', [file])).stdout;
  const out: Record<string, number> = {};
  const lines = text.trim().split('\n');
  if (file.endsWith('/sctp/snmp')) {
    for (const l of lines) {
      const [k, v] = l.trim().split(/\s+/);
      out[k!] = Number(v);
    }
    return out;
  }
  for (let i = 0; i + 1 < lines.length; i += 2) {
    const names = lines[i]!.split(/\s+/);
    const values = lines[i + 1]!.split(/\s+/);
    names.slice(1).forEach((n, j) => (out[`${names[0]!.replace(':', '')}${n}`] = Number(values[j + 1])));
  }
  return out;
}

describe('health probes against real servers', () => {
  let lab: HealthLab;
  beforeAll(async () => {
    assertInLab();
    lab = await startHealthLab();
  });
  afterAll(async () => lab?.destroy());

  describe('DNS (dnsmasq)', () => {
    it('passes on an answer, over IPv4 and IPv6', async () => {
      expect(await dns(A.main)).toMatchObject({ ok: true });
      expect(await dns(A.mainV6)).toMatchObject({ ok: true });
      expect(lab.dnsLog()).toMatch(new RegExp(`query\\[A\\] ${DNS_NAME.replace(/\./g, '\\.')} from ${A.prober}`));
      expect(lab.dnsLog()).toContain(`query[A] ${DNS_NAME} from ${A.proberV6}`);
    });

    it('fails on NXDOMAIN with the RCODE; a name without that type (NODATA, NOERROR) passes, as keepalived', async () => {
      expect(await dns(A.main, { queryName: 'nope.lab.test' })).toMatchObject({ ok: false, reason: 'rcode 3 (NXDOMAIN)' });
      expect(await dns(A.main, { queryType: 'AAAA' })).toMatchObject({ ok: true });
      expect(lab.dnsLog()).toContain(`query[AAAA] ${DNS_NAME} from ${A.prober}`);
    });

    it('server down: ICMP port unreachable fails at once; a dropped query times out', async () => {
      expect(await dns(A.dnsDown)).toMatchObject({ ok: false, reason: 'port unreachable (ECONNREFUSED)' });
      expect(await dns(A.dnsDropped, { timeoutMs: 500 })).toMatchObject({ ok: false, reason: 'timeout after 500ms' });
    });
  });

  describe('SMTP (Python smtpd)', () => {
    it('greeting, HELO, QUIT against a real server, ending with FIN on both sides (no RST)', async () => {
      const srvBefore = await counters(lab.srv, '/proc/net/snmp');
      const ourBefore = await counters(rootNs, '/proc/net/snmp');
      for (let i = 0; i < 5; i++) expect(await smtp(A.smtp)).toMatchObject({ ok: true });
      const srvAfter = await counters(lab.srv, '/proc/net/snmp');
      const ourAfter = await counters(rootNs, '/proc/net/snmp');
      expect(srvAfter.TcpPassiveOpens! - srvBefore.TcpPassiveOpens!).toBe(5);
      expect(srvAfter.TcpOutRsts! - srvBefore.TcpOutRsts!).toBe(0);
      expect(srvAfter.TcpEstabResets! - srvBefore.TcpEstabResets!).toBe(0);
      expect(ourAfter.TcpOutRsts! - ourBefore.TcpOutRsts!).toBe(0);
    });

    it('a 554 greeting fails with its code; a closed port is refused', async () => {
      expect(await smtp(A.smtpRefuses)).toMatchObject({ ok: false, reason: 'greeting 554, want 220: "5.3.2 no SMTP service here"' });
      expect(await smtp(A.dnsDown)).toMatchObject({ ok: false, reason: 'connect ECONNREFUSED' });
    });
  });

  describe('ping (ICMP and ICMPv6 echo on raw sockets)', () => {
    it('an up host answers over IPv4 and IPv6; a host dropping ICMP times out', async () => {
      expect(await ping(A.ping)).toMatchObject({ ok: true });
      expect(await ping(A.pingV6)).toMatchObject({ ok: true });
      expect(await ping(A.pingDropped, { timeoutMs: 500 })).toMatchObject({ ok: false, reason: 'timeout after 500ms' });
      expect(await ping(A.pingDroppedV6, { timeoutMs: 500 })).toMatchObject({ ok: false, reason: 'timeout after 500ms' });
    });

    it('a router saying host unreachable fails at once, naming the error and the router', async () => {
      expect(await ping(A.unreachable)).toMatchObject({ ok: false, reason: `destination unreachable (ICMP type 3 code 1) from ${A.main}` });
    });

    it('the kernel queues on each ping socket only the replies with its id (the socket filter)', async () => {
      const n = nativeBinding();
      const ids = [0x1111, 0x2222];
      const got: number[][] = [[], []];
      const fds = ids.map((id) => openEchoSocket(n, 'IPv4', id));
      const watches = fds.map((fd, i) => n.recvStart(fd, (_err, data) => {
        if (data) got[i]!.push(data.readUInt16BE((data[0]! & 0x0f) * 4 + 4));
      }));
      try {
        // in this order on one path: unfiltered, the second socket would see the first reply first
        ids.forEach((id, i) => n.sendto(fds[i]!, encodeEchoRequest('IPv4', { id, seq: 1, payload: Buffer.alloc(8) }), sockaddrIn(n.constants.AF_INET, A.ping)));
        await waitUntil('both replies', () => got.every((g) => g.length > 0), 5000);
        expect(got).toEqual([[0x1111], [0x2222]]);
      } finally {
        watches.forEach((w) => n.recvStop(w));
        fds.forEach((fd) => n.close(fd));
      }
    });

    it('50 live and 50 silent addresses pinged at once: each probe takes only its own answer', async () => {
      // twice: the first round also resolves 100 neighbours (ARP), the second finds them cached
      for (const round of ['cold', 'warm']) {
        const began = performance.now();
        const [up, dropped] = await Promise.all([
          Promise.all(manyUp.map((a) => ping(a, { timeoutMs: 3000 }))),
          Promise.all(manyDropped.map((a) => ping(a, { timeoutMs: 3000 }))),
        ]);
        const upMs = up.map((r) => r.latencyMs).sort((x, y) => x - y);
        console.log(`health-figures ping x100 concurrent (${round} ARP): ${up.filter((r) => r.ok).length}/50 up passed, ${dropped.filter((r) => !r.ok).length}/50 dropped failed; up latency median ${upMs[25]!.toFixed(1)} ms max ${upMs[49]!.toFixed(1)} ms; all done in ${(performance.now() - began).toFixed(0)} ms`);
        expect(up.map((r) => r.ok)).toEqual(manyUp.map(() => true));
        expect(dropped.map((r) => r.reason)).toEqual(manyDropped.map(() => 'timeout after 3000ms'));
      }
    });
  });

  describe('SCTP (the kernel\'s SCTP)', () => {
    it('an association to a listener passes and ends with SHUTDOWN, not ABORT (IPv4 and IPv6)', async () => {
      const before = await counters(lab.srv, '/proc/net/sctp/snmp');
      expect(await sctp(A.main)).toMatchObject({ ok: true });
      expect(await sctp(A.mainV6)).toMatchObject({ ok: true });
      // the SHUTDOWN completes after close() returns: wait for the server side to count it
      let after = before;
      for (let i = 0; i < 100 && after.SctpShutdowns! - before.SctpShutdowns! < 2; i++) {
        await new Promise((r) => setTimeout(r, 20));
        after = await counters(lab.srv, '/proc/net/sctp/snmp');
      }
      expect(after.SctpPassiveEstabs! - before.SctpPassiveEstabs!).toBe(2);
      expect(after.SctpShutdowns! - before.SctpShutdowns!).toBe(2);
      expect(after.SctpAborteds! - before.SctpAborteds!).toBe(0);
    });

    it('a closed port answers the INIT with ABORT: refused at once; a dropped INIT times out', async () => {
      expect(await sctp(A.main, SCTP_PORT + 1)).toMatchObject({ ok: false, reason: 'connect ECONNREFUSED' });
      expect(await sctp(A.sctpDropped, SCTP_PORT, { timeoutMs: 500 })).toMatchObject({ ok: false, reason: 'timeout after 500ms' });
    });
  });

  it('every probe originates from bindAddress (the target accepts only that source)', async () => {
    const alt = { bindAddress: A.proberAlt };
    expect(await dns(A.bindOnly, alt)).toMatchObject({ ok: true });
    expect(await smtp(A.bindOnly, alt)).toMatchObject({ ok: true });
    expect(await ping(A.bindOnly, alt)).toMatchObject({ ok: true });
    expect(await sctp(A.bindOnly, SCTP_PORT, alt)).toMatchObject({ ok: true });
    expect(lab.dnsLog()).toContain(`query[A] ${DNS_NAME} from ${A.proberAlt}`);
    const short = { timeoutMs: 300 };
    for (const r of await Promise.all([dns(A.bindOnly, short), smtp(A.bindOnly, short), ping(A.bindOnly, short), sctp(A.bindOnly, SCTP_PORT, short)])) {
      expect(r).toMatchObject({ ok: false, reason: 'timeout after 300ms' });
    }
  });
});
