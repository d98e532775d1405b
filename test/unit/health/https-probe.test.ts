import { createHash } from 'node:crypto';
import { once } from 'node:events';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deadlineSignal, probeHttps } from '../../../src/health/probes/index.js';
import type { HttpsProbeSpec, ProbeResult } from '../../../src/health/types.js';
import { httpServer, httpsServer, makeCert, type Cert } from './servers.js';

const md5 = (s: string): string => createHash('md5').update(s).digest('hex');

async function probe(port: number, extra: Partial<HttpsProbeSpec> = {}): Promise<ProbeResult> {
  const spec: HttpsProbeSpec = { type: 'https', timeoutMs: 2000, ...extra };
  const d = deadlineSignal(spec.timeoutMs);
  try {
    return await probeHttps({ address: '127.0.0.1', port }, spec, d.signal);
  } finally {
    d.dispose();
  }
}

describe('HTTPS GET probe against a real https.Server with a self-signed cert', () => {
  let cert: Cert;
  let server: Awaited<ReturnType<typeof httpsServer>>;
  beforeAll(async () => {
    cert = makeCert();
    server = await httpsServer(cert, (req, res) => {
      if (req.url === '/fail') res.statusCode = 503;
      res.end('secure hello');
    });
  });
  afterAll(async () => {
    await server.close();
    cert.cleanup();
  });

  it('passes without verification by default, like SSL_GET', async () => {
    expect(await probe(server.port)).toEqual({ ok: true, latencyMs: expect.any(Number) });
    expect(server.servernames.at(-1)).toBe(false); // no Host name, so no SNI
  });

  it('checks status and digest over TLS', async () => {
    expect(await probe(server.port, { digest: md5('secure hello') })).toMatchObject({ ok: true });
    expect(await probe(server.port, { path: '/fail' })).toMatchObject({ ok: false, reason: 'status 503 not in [200-299]' });
    expect((await probe(server.port, { digest: md5('nope') })).reason).toMatch(/^digest mismatch/);
  });

  it('sends SNI from the Host header name, or the explicit sni', async () => {
    await probe(server.port, { host: 'www.example.test:8443' });
    expect(server.servernames.at(-1)).toBe('www.example.test');
    expect(server.requests.at(-1)!.headers.host).toBe('www.example.test:8443');
    await probe(server.port, { host: 'www.example.test', sni: 'other.example.test' });
    expect(server.servernames.at(-1)).toBe('other.example.test');
    await probe(server.port, { host: '127.0.0.1:443' });
    expect(server.servernames.at(-1)).toBe(false); // IP literals are not sent as SNI
    await probe(server.port, { host: 'www.example.test', sni: false });
    expect(server.servernames.at(-1)).toBe(false); // keepalived without enable_sni
    expect(server.requests.at(-1)!.headers.host).toBe('www.example.test');
  });

  it('presents a client certificate to a server that requires one (keepalived SSL { certificate key })', async () => {
    const client = makeCert();
    const strict = https.createServer({ key: cert.key, cert: cert.cert, requestCert: true, rejectUnauthorized: true, ca: client.cert }, (_q, res) => res.end('ok'));
    strict.listen(0, '127.0.0.1');
    await once(strict, 'listening');
    const port = (strict.address() as AddressInfo).port;
    try {
      expect(await probe(port, { clientCert: { cert: client.cert, key: client.key } })).toMatchObject({ ok: true });
      const without = await probe(port);
      expect(without.ok).toBe(false);
      expect(await probe(port, { clientCertError: 'client certificate Secret lvs-system/probe not found' }))
        .toMatchObject({ ok: false, reason: 'client certificate Secret lvs-system/probe not found' });
    } finally {
      strict.closeAllConnections();
      await new Promise((r) => strict.close(r));
      client.cleanup();
    }
  });

  it('with tlsVerify, rejects the self-signed chain', async () => {
    const r = await probe(server.port, { tlsVerify: true, sni: 'localhost' });
    expect(r.ok).toBe(false);
    expect(r.reason).toMatch(/^DEPTH_ZERO_SELF_SIGNED_CERT/);
  });

  it('with tlsVerify and the CA, passes for the right name and fails for a wrong one', async () => {
    expect(await probe(server.port, { tlsVerify: true, ca: cert.cert, sni: 'localhost' })).toMatchObject({ ok: true });
    // No SNI: the name checked is the address, which the cert lists as an IP SAN.
    expect(await probe(server.port, { tlsVerify: true, ca: cert.cert })).toMatchObject({ ok: true });
    const wrong = await probe(server.port, { tlsVerify: true, ca: cert.cert, sni: 'wrong.example.test' });
    expect(wrong.ok).toBe(false);
    expect(wrong.reason).toMatch(/^ERR_TLS_CERT_ALTNAME_INVALID/);
  });

  it('fails against a plain-HTTP port', async () => {
    const plain = await httpServer((_q, s) => s.end('plain'));
    try {
      const r = await probe(plain.port);
      expect(r.ok).toBe(false);
      expect(r.reason).toMatch(/SSL|ssl|EPROTO/);
    } finally {
      await plain.close();
    }
  });
});
