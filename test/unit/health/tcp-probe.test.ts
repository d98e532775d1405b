import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deadlineSignal, probeTcp } from '../../../src/health/probes/index.js';
import type { ProbeResult, TcpProbeSpec } from '../../../src/health/types.js';
import { closedPort, fullBacklogListener, tcpServer } from './servers.js';

async function probe(port: number, extra: Partial<TcpProbeSpec> = {}, signal?: AbortSignal): Promise<ProbeResult> {
  const spec: TcpProbeSpec = { type: 'tcp', timeoutMs: 2000, ...extra };
  const d = deadlineSignal(spec.timeoutMs, signal);
  try {
    return await probeTcp({ address: '127.0.0.1', port }, spec, d.signal);
  } finally {
    d.dispose();
  }
}

async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((r) => setTimeout(r, 5));
}

describe('TCP probe against real sockets', () => {
  let server: Awaited<ReturnType<typeof tcpServer>>;
  beforeAll(async () => {
    server = await tcpServer();
  });
  afterAll(() => server.close());

  it('passes when the handshake completes and closes with a FIN, not an RST', async () => {
    const r = await probe(server.port);
    expect(r).toMatchObject({ ok: true });
    expect(r.reason).toBeUndefined();
    expect(r.latencyMs).toBeGreaterThan(0);
    await until(() => server.closes.length > 0);
    expect(server.closes).toEqual(['fin']);
  });

  it('reports a refused connection', async () => {
    const r = await probe(await closedPort());
    expect(r).toMatchObject({ ok: false, reason: 'connect ECONNREFUSED' });
  });

  it('originates from bindAddress (keepalived bindto)', async () => {
    const before = server.peers.length;
    const r = await probe(server.port, { bindAddress: '127.0.0.2' });
    expect(r.ok).toBe(true);
    expect(server.peers.slice(before)).toEqual(['127.0.0.2']);
  });

  it('fails clearly when bindAddress is not local', async () => {
    const r = await probe(server.port, { bindAddress: '192.0.2.1' });
    expect(r).toMatchObject({ ok: false, reason: 'bind EADDRNOTAVAIL' });
  });

  it('times out when SYNs are dropped (full accept queue)', async () => {
    execFileSync('python3', ['--version'], { stdio: 'ignore' }); // the listener below needs it
    const listener = await fullBacklogListener();
    try {
      const r = await probe(listener.port, { timeoutMs: 200 });
      expect(r).toMatchObject({ ok: false, reason: 'timeout after 200ms' });
    } finally {
      await listener.close();
    }
  });

  it('says "aborted" when cancelled rather than timed out', async () => {
    const r = await probe(server.port, {}, AbortSignal.abort());
    expect(r).toMatchObject({ ok: false, reason: 'aborted' });
  });
});
