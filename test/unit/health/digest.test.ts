import { execFile, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchDigest } from '../../../src/health/digest.js';
import { closedPort, httpServer, httpsServer, makeCert, silentServer, type Cert, type Handler } from './servers.js';

const run = promisify(execFile);
const md5 = (s: string): string => createHash('md5').update(s).digest('hex');

// keepalived's own genhash, when installed, is the reference the digest must agree with.
const hasGenhash = (() => {
  try {
    execFileSync('genhash', ['-h'], { stdio: 'ignore' });
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'ENOENT';
  }
})();

async function genhash(args: string[]): Promise<string> {
  const { stdout } = await run('genhash', args, { timeout: 10_000 });
  return stdout.trim().split(/\s+/).at(-1)!.toLowerCase();
}

const handler: Handler = (req, res) => {
  if (req.url === '/missing') {
    res.statusCode = 404;
    return res.end('not here');
  }
  // Chunked, in pieces, with bytes that are not UTF-8: the hash must be over raw, de-chunked bytes.
  res.write(Buffer.from([0xde, 0xad, 0xbe, 0xef]));
  res.write(`path=${req.url} host=${req.headers.host}\n`);
  setTimeout(() => res.end('tail\n'), 5);
};

describe('fetchDigest (genhash equivalent)', () => {
  let http: Awaited<ReturnType<typeof httpServer>>;
  let https: Awaited<ReturnType<typeof httpsServer>>;
  let cert: Cert;
  beforeAll(async () => {
    cert = makeCert();
    http = await httpServer(handler);
    https = await httpsServer(cert, handler);
  });
  afterAll(async () => {
    await http.close();
    await https.close();
    cert.cleanup();
  });

  it('hashes the body of an http URL', async () => {
    const r = await fetchDigest({ url: `http://127.0.0.1:${http.port}/status?full=1` });
    const body = Buffer.concat([
      Buffer.from([0xde, 0xad, 0xbe, 0xef]),
      Buffer.from(`path=/status?full=1 host=127.0.0.1:${http.port}\ntail\n`),
    ]);
    expect(r).toMatchObject({ status: 200, bytes: body.length, md5: createHash('md5').update(body).digest('hex') });
  });

  it('connects to connectAddress while keeping the URL host as Host header', async () => {
    const r = await fetchDigest({ url: `http://www.example.test:${http.port}/`, connectAddress: '127.0.0.1' });
    expect(http.requests.at(-1)!.headers.host).toBe(`www.example.test:${http.port}`);
    expect(r.status).toBe(200);
  });

  it('reports the status with the digest, and rejects with probe-style reasons', async () => {
    expect(await fetchDigest({ url: `http://127.0.0.1:${http.port}/missing` })).toMatchObject({
      status: 404,
      md5: md5('not here'),
    });
    await expect(fetchDigest({ url: `http://127.0.0.1:${await closedPort()}/` })).rejects.toThrow('connect ECONNREFUSED');
    await expect(fetchDigest({ url: 'ftp://127.0.0.1/' })).rejects.toThrow(/unsupported URL scheme/);
    const silent = await silentServer();
    try {
      await expect(fetchDigest({ url: `http://127.0.0.1:${silent.port}/`, timeoutMs: 150 })).rejects.toThrow('timeout after 150ms');
    } finally {
      await silent.close();
    }
  });

  it('fetches https URLs without verification by default, with SNI from the Host name', async () => {
    const r = await fetchDigest({ url: `https://127.0.0.1:${https.port}/`, host: 'www.example.test' });
    expect(r.status).toBe(200);
    expect(https.servernames.at(-1)).toBe('www.example.test');
    await expect(fetchDigest({ url: `https://127.0.0.1:${https.port}/`, tlsVerify: true, sni: 'localhost' })).rejects.toThrow(
      /SELF_SIGNED/,
    );
  });

  it.runIf(hasGenhash)('agrees with keepalived genhash over HTTP', async () => {
    const ours = await fetchDigest({ url: `http://127.0.0.1:${http.port}/a/b?c=d`, host: 'vhost.test' });
    const theirs = await genhash(['-s', '127.0.0.1', '-p', String(http.port), '-u', '/a/b?c=d', '-V', 'vhost.test']);
    expect(theirs).toMatch(/^[0-9a-f]{32}$/);
    expect(ours.md5).toBe(theirs);
  });

  it.runIf(hasGenhash)('agrees with keepalived genhash over HTTPS', async () => {
    const ours = await fetchDigest({ url: `https://127.0.0.1:${https.port}/x`, host: 'vhost.test' });
    const theirs = await genhash(['-S', '-s', '127.0.0.1', '-p', String(https.port), '-u', '/x', '-V', 'vhost.test']);
    expect(theirs).toMatch(/^[0-9a-f]{32}$/);
    expect(ours.md5).toBe(theirs);
  });
});
