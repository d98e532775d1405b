import { createHash } from 'node:crypto';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deadlineSignal, probeHttp } from '../../../src/health/probes/index.js';
import type { HttpProbeSpec, ProbeResult } from '../../../src/health/types.js';
import { closedPort, httpServer, silentServer, type Running } from './servers.js';

const md5 = (s: string): string => createHash('md5').update(s).digest('hex');

async function probe(port: number, extra: Partial<HttpProbeSpec> = {}): Promise<ProbeResult> {
  const spec: HttpProbeSpec = { type: 'http', timeoutMs: 2000, ...extra };
  const d = deadlineSignal(spec.timeoutMs);
  try {
    return await probeHttp({ address: '127.0.0.1', port }, spec, d.signal);
  } finally {
    d.dispose();
  }
}

describe('HTTP GET probe against a real http.Server', () => {
  let server: Awaited<ReturnType<typeof httpServer>>;
  beforeAll(async () => {
    server = await httpServer((req, res) => {
      switch (req.url) {
        case '/fail':
          res.statusCode = 500;
          return res.end('boom');
        case '/chunked':
          // No Content-Length: Node sends it chunked; the digest is over the de-chunked body.
          res.write('hello ');
          return setTimeout(() => res.end('world\n'), 5);
        case '/big':
          return res.end('x'.repeat(100));
        case '/stall-body':
          res.writeHead(200, { 'Content-Length': '100' });
          return res.write('partial');
        case '/hangup':
          return req.socket.destroy();
        default:
          res.setHeader('Content-Type', 'text/plain');
          return res.end('hello');
      }
    });
  });
  afterAll(() => server.close());

  it('passes on 200 and sends Host, Connection: close and the path', async () => {
    const r = await probe(server.port, { path: '/health?x=1' });
    expect(r).toEqual({ ok: true, latencyMs: expect.any(Number) });
    const req = server.requests.at(-1)!;
    expect(req.url).toBe('/health?x=1');
    expect(req.headers.host).toBe(`127.0.0.1:${server.port}`);
    expect(req.headers.connection).toBe('close');
    expect(req.headers['accept-encoding']).toBeUndefined(); // the digest must be over the identity body
  });

  it('uses the configured Host header (keepalived virtualhost)', async () => {
    await probe(server.port, { host: 'www.example.test' });
    expect(server.requests.at(-1)!.headers.host).toBe('www.example.test');
  });

  it('fails on a status outside the expected list', async () => {
    expect(await probe(server.port, { path: '/fail' })).toMatchObject({ ok: false, reason: 'status 500 not in [200]' });
    expect(await probe(server.port, { path: '/fail', expectStatus: [200, 500] })).toMatchObject({ ok: true });
    expect(await probe(server.port, { expectStatus: [204, 301] })).toMatchObject({
      ok: false,
      reason: 'status 200 not in [204,301]',
    });
  });

  it('compares the body MD5 like keepalived digest', async () => {
    expect(await probe(server.port, { digest: md5('hello') })).toMatchObject({ ok: true });
    expect(await probe(server.port, { digest: md5('hello').toUpperCase() })).toMatchObject({ ok: true });
    expect(await probe(server.port, { path: '/chunked', digest: md5('hello world\n') })).toMatchObject({ ok: true });
    const bad = await probe(server.port, { digest: md5('other') });
    expect(bad.ok).toBe(false);
    expect(bad.reason).toBe(`digest mismatch: got ${md5('hello')}`);
  });

  it('refuses bodies over maxBodyBytes when hashing', async () => {
    const r = await probe(server.port, { path: '/big', digest: md5('x'.repeat(100)), maxBodyBytes: 10 });
    expect(r).toMatchObject({ ok: false, reason: 'body exceeds 10 bytes' });
    expect(await probe(server.port, { path: '/big', digest: md5('x'.repeat(100)) })).toMatchObject({ ok: true });
  });

  it('times out when the body stalls and a digest needs it', async () => {
    expect(await probe(server.port, { path: '/stall-body', digest: md5('x'), timeoutMs: 200 })).toMatchObject({
      ok: false,
      reason: 'timeout after 200ms',
    });
  });

  it('fails when the server hangs up without answering', async () => {
    const r = await probe(server.port, { path: '/hangup' });
    expect(r.ok).toBe(false);
    expect(r.reason).toMatch(/ECONNRESET/);
  });

  it('opens a fresh connection per probe (no keep-alive)', async () => {
    const before = server.peers.length;
    for (let i = 0; i < 3; i++) expect((await probe(server.port)).ok).toBe(true);
    const ports = new Set(server.peers.slice(before).map((p) => p.port));
    expect(ports.size).toBe(3);
  });

  it('originates from bindAddress', async () => {
    await probe(server.port, { bindAddress: '127.0.0.2' });
    expect(server.peers.at(-1)!.address).toBe('127.0.0.2');
  });

  it('reports refused connections', async () => {
    expect(await probe(await closedPort())).toMatchObject({ ok: false, reason: 'connect ECONNREFUSED' });
  });

  describe('against a server that accepts and never answers', () => {
    let silent: Running;
    beforeAll(async () => {
      silent = await silentServer();
    });
    afterAll(() => silent.close());

    it('times out, the deadline covering connect and response', async () => {
      expect(await probe(silent.port, { timeoutMs: 200 })).toMatchObject({ ok: false, reason: 'timeout after 200ms' });
    });
  });

  it('fails on a non-HTTP answer', async () => {
    const garbage = net.createServer((s) => s.end('SSH-2.0-OpenSSH\r\n\r\n'));
    await new Promise<void>((r) => garbage.listen(0, '127.0.0.1', () => r()));
    try {
      const r = await probe((garbage.address() as net.AddressInfo).port);
      expect(r.ok).toBe(false);
      expect(r.reason).toMatch(/^HPE_/);
    } finally {
      garbage.close();
    }
  });
});
