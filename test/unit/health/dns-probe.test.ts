import dgram from 'node:dgram';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { deadlineSignal, probeDns } from '../../../src/health/probes/index.js';
import type { DnsProbeSpec, ProbeResult } from '../../../src/health/types.js';
import { closedUdpPort } from './servers.js';

// The probe's handling of what may come back, on loopback; real DNS servers (dnsmasq) answer it in
// test/kernel/health/probes.test.ts.
async function probe(port: number, extra: Partial<DnsProbeSpec> = {}): Promise<ProbeResult> {
  const spec: DnsProbeSpec = { type: 'dns', timeoutMs: 1000, queryName: 'www.example.org', queryType: 'A', ...extra };
  const d = deadlineSignal(spec.timeoutMs);
  try {
    return await probeDns({ address: '127.0.0.1', port }, spec, d.signal);
  } finally {
    d.dispose();
  }
}

/** The query turned into a response with `rcode`, optionally with another id or QR clear. */
function answer(q: Buffer, o: { rcode?: number; idDelta?: number; qr?: boolean } = {}): Buffer {
  const r = Buffer.from(q);
  r.writeUInt16BE((q.readUInt16BE(0) + (o.idDelta ?? 0)) & 0xffff, 0);
  r.writeUInt16BE((o.qr === false ? 0 : 0x8000) | 0x0100 | (o.rcode ?? 0), 2);
  return r;
}

const sockets: dgram.Socket[] = [];
afterEach(() => sockets.splice(0).forEach((s) => s.close()));

/** A UDP server that answers each query with the datagrams `replies` makes, in order. */
async function server(replies: (q: Buffer) => Buffer[]): Promise<{ port: number; queries: Buffer[] }> {
  const s = dgram.createSocket('udp4');
  sockets.push(s);
  const queries: Buffer[] = [];
  s.on('message', (q, peer) => {
    queries.push(q);
    for (const r of replies(q)) s.send(r, peer.port, peer.address);
  });
  s.bind(0, '127.0.0.1');
  await once(s, 'listening');
  return { port: s.address().port, queries };
}

describe('DNS probe on loopback', () => {
  it('skips a short datagram, another id and a query, then passes on the answer', async () => {
    const s = await server((q) => [Buffer.alloc(5), answer(q, { idDelta: 1, rcode: 3 }), answer(q, { qr: false, rcode: 3 }), answer(q)]);
    expect(await probe(s.port)).toEqual({ ok: true, latencyMs: expect.any(Number) });
    expect(s.queries).toHaveLength(1);
    expect(s.queries[0]!.readUInt16BE(2)).toBe(0x0100); // RD, as keepalived
  });

  it('fails on the first answer with an error RCODE, whatever follows', async () => {
    const s = await server((q) => [answer(q, { rcode: 3 }), answer(q)]);
    expect(await probe(s.port)).toMatchObject({ ok: false, reason: 'rcode 3 (NXDOMAIN)' });
  });

  it('uses a fresh random id per probe', async () => {
    const s = await server((q) => [answer(q)]);
    for (let i = 0; i < 8; i++) await probe(s.port);
    expect(new Set(s.queries.map((q) => q.readUInt16BE(0))).size).toBeGreaterThan(1);
  });

  it('fails at once on ICMP port unreachable, and at the deadline when nothing answers', async () => {
    expect(await probe(await closedUdpPort())).toMatchObject({ ok: false, reason: 'port unreachable (ECONNREFUSED)' });
    const mute = await server(() => []);
    expect(await probe(mute.port, { timeoutMs: 100 })).toMatchObject({ ok: false, reason: 'timeout after 100ms' });
  });

  it('fails without sending when the name cannot be encoded', async () => {
    const s = await server((q) => [answer(q)]);
    expect(await probe(s.port, { queryName: 'a..b' })).toMatchObject({ ok: false, reason: 'DNS name "a..b" has an empty label' });
    expect(s.queries).toHaveLength(0);
  });
});
