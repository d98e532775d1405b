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
        case '/moved':
          res.statusCode = 301;
          return res.end();
        case '/status-page':
          res.write('<html>status: ');
          return setTimeout(() => res.end('<b>OK</b></html>'), 5);
        case '/huge':
          // 2 MiB of padding, then a word the regex would find only past the first MiB.
          return res.end(`${'alive '}${'.'.repeat(2 * 1024 * 1024)}late`);
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
    expect(await probe(server.port, { path: '/fail' })).toMatchObject({ ok: false, reason: 'status 500 not in [200-299]' });
    expect(await probe(server.port, { path: '/fail', expectStatus: [200, 500] })).toMatchObject({ ok: true });
    expect(await probe(server.port, { expectStatus: [204, 301] })).toMatchObject({
      ok: false,
      reason: 'status 200 not in [204,301]',
    });
  });

  it('accepts any 2xx by default, as keepalived, and codes and ranges when given', async () => {
    expect(await probe(server.port, { path: '/moved' })).toMatchObject({ ok: false, reason: 'status 301 not in [200-299]' });
    expect(await probe(server.port, { path: '/moved', expectStatus: [[200, 299], 301] })).toMatchObject({ ok: true });
    expect(await probe(server.port, { path: '/fail', expectStatus: [[500, 599]] })).toMatchObject({ ok: true });
    expect(await probe(server.port, { expectStatus: [[300, 399], 404] })).toMatchObject({ ok: false, reason: 'status 200 not in [300-399,404]' });
  });

  it('checks every URL on its own connection, in order; the first failing one fails the probe', async () => {
    const before = server.requests.length;
    expect(await probe(server.port, { urls: [{ path: '/a' }, { path: '/moved', expectStatus: [301] }] })).toMatchObject({ ok: true });
    expect(server.requests.slice(before).map((r) => r.url)).toEqual(['/a', '/moved']);
    const r = await probe(server.port, { urls: [{ path: '/a' }, { path: '/fail' }, { path: '/never' }] });
    expect(r).toMatchObject({ ok: false, reason: '/fail: status 500 not in [200-299]' });
    expect(server.requests.at(-1)!.url).toBe('/fail');
    // URLs take the probe's own settings they do not set.
    expect(await probe(server.port, { expectStatus: [500], urls: [{ path: '/fail' }] })).toMatchObject({ ok: true });
  });

  it('matches a regex over the whole body, across chunks (keepalived regex, regex_no_match)', async () => {
    expect(await probe(server.port, { path: '/status-page', regex: /status: <b>OK/ })).toMatchObject({ ok: true });
    expect(await probe(server.port, { path: '/status-page', regex: /DOWN/ })).toMatchObject({ ok: false, reason: 'body does not match /DOWN/' });
    expect(await probe(server.port, { path: '/status-page', regex: /DOWN/, regexNoMatch: true })).toMatchObject({ ok: true });
    expect(await probe(server.port, { path: '/status-page', regex: /OK/, regexNoMatch: true })).toMatchObject({ ok: false, reason: 'body matches /OK/' });
    // A status outside the list fails before the body is looked at.
    expect(await probe(server.port, { path: '/fail', regex: /boom/ })).toMatchObject({ ok: false, reason: 'status 500 not in [200-299]' });
  });

  it('tries a regex on the first maxBodyBytes of a larger body', async () => {
    expect(await probe(server.port, { path: '/huge', regex: /^alive/ })).toMatchObject({ ok: true });
    expect(await probe(server.port, { path: '/huge', regex: /late/ })).toMatchObject({ ok: false, reason: 'body does not match /late/' });
    expect(await probe(server.port, { path: '/huge', regex: /late/, maxBodyBytes: 3 * 1024 * 1024 })).toMatchObject({ ok: true });
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
