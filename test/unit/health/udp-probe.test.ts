import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deadlineSignal, probeUdp } from '../../../src/health/probes/index.js';
import { matches } from '../../../src/health/probes/udp.js';
import type { ProbeResult, UdpProbeSpec } from '../../../src/health/types.js';
import { closedUdpPort, udpServer } from './servers.js';

async function probe(port: number, extra: Partial<UdpProbeSpec> = {}, parent?: AbortSignal): Promise<ProbeResult> {
  const spec: UdpProbeSpec = { type: 'udp', timeoutMs: 2000, ...extra };
  const d = deadlineSignal(spec.timeoutMs, parent);
  try {
    return await probeUdp({ address: '127.0.0.1', port }, spec, d.signal);
  } finally {
    d.dispose();
  }
}

const bytes = (s: string): Buffer => Buffer.from(s, 'latin1');

describe('UDP probe against real dgram sockets', () => {
  let echo: Awaited<ReturnType<typeof udpServer>>;
  let mute: Awaited<ReturnType<typeof udpServer>>;
  beforeAll(async () => {
    echo = await udpServer((m) => Buffer.concat([bytes('PONG:'), m]));
    mute = await udpServer(() => null);
  });
  afterAll(async () => {
    await echo.close();
    await mute.close();
  });

  it('sends the payload and matches the reply exactly, by prefix or by regex', async () => {
    const payload = bytes('ping\x00\xff');
    expect(await probe(echo.port, { payload, expectReply: { kind: 'exact', bytes: bytes('PONG:ping\x00\xff') } })).toMatchObject({ ok: true });
    expect(echo.received.at(-1)).toEqual(payload);
    expect(await probe(echo.port, { payload, expectReply: { kind: 'prefix', bytes: bytes('PONG:') } })).toMatchObject({ ok: true });
    expect(await probe(echo.port, { payload, expectReply: { kind: 'regex', pattern: /^PONG:ping\x00\xff$/g } })).toMatchObject({ ok: true });
    expect(await probe(echo.port, { expectReply: { kind: 'any' } })).toMatchObject({ ok: true });
  });

  it('fails on a reply that does not match', async () => {
    expect(await probe(echo.port, { payload: bytes('x'), expectReply: { kind: 'exact', bytes: bytes('PONG:y') } })).toMatchObject({
      ok: false,
      reason: 'reply mismatch (6 bytes)',
    });
    expect(await probe(echo.port, { expectReply: { kind: 'prefix', bytes: bytes('PONG:longer') } })).toMatchObject({ ok: false });
  });

  it('times out when a reply is required and none comes', async () => {
    expect(await probe(mute.port, { timeoutMs: 150, expectReply: { kind: 'any' } })).toEqual({
      ok: false,
      latencyMs: expect.any(Number),
      reason: 'timeout after 150ms',
    });
  });

  it('without expectReply, silence until the deadline is success', async () => {
    const before = mute.received.length;
    expect(await probe(mute.port, { timeoutMs: 150 })).toEqual({ ok: true, latencyMs: expect.any(Number) });
    expect(mute.received.length).toBe(before + 1);
  });

  it('without expectReply, quietMs ends the wait before the deadline', async () => {
    const r = await probe(mute.port, { timeoutMs: 10_000, quietMs: 30 });
    expect(r.ok).toBe(true);
    expect(r.latencyMs).toBeLessThan(10_000);
  });

  it('without expectReply, any reply passes at once', async () => {
    const r = await probe(echo.port, { timeoutMs: 10_000 });
    expect(r).toEqual({ ok: true, latencyMs: expect.any(Number) });
    expect(r.latencyMs).toBeLessThan(10_000);
  });

  it('fails on ICMP port unreachable, with or without expectReply', async () => {
    const port = await closedUdpPort();
    const failure = { ok: false, reason: 'port unreachable (ECONNREFUSED)' };
    expect(await probe(port)).toMatchObject(failure);
    expect(await probe(port, { quietMs: 1000 })).toMatchObject(failure);
    expect(await probe(port, { expectReply: { kind: 'any' } })).toMatchObject(failure);
  });

  it('a cancellation is not mistaken for silence', async () => {
    const controller = new AbortController();
    const pending = probe(mute.port, { timeoutMs: 5000 }, controller.signal);
    setTimeout(() => controller.abort(), 20);
    expect(await pending).toMatchObject({ ok: false, reason: 'aborted' });
  });

  it('originates from bindAddress', async () => {
    await probe(echo.port, { bindAddress: '127.0.0.2', expectReply: { kind: 'any' } });
    expect(echo.senders.at(-1)).toBe('127.0.0.2');
  });
});

describe('UDP reply matching', () => {
  it('regex flags g/y do not make repeated tests stateful', () => {
    const m = { kind: 'regex', pattern: /ok/g } as const;
    expect(matches(m, bytes('ok'))).toBe(true);
    expect(matches(m, bytes('ok'))).toBe(true);
  });
  it('prefix longer than the reply does not match', () => {
    expect(matches({ kind: 'prefix', bytes: bytes('abc') }, bytes('ab'))).toBe(false);
  });
});
