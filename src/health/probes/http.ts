import { createHash } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { HttpProbeSpec, HttpsProbeSpec, Probe, ProbeTarget } from '../types.js';
import { describeError } from './abort.js';
import { probeSession } from './session.js';

export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
export const DEFAULT_EXPECT_STATUS: readonly number[] = [200];
const USER_AGENT = 'lvs-operator-healthcheck';

type GetSpec = Omit<HttpProbeSpec, 'type'> & Partial<Omit<HttpsProbeSpec, 'type'>> & { type: 'http' | 'https' };

/**
 * Starts one GET on a fresh connection (no agent, `Connection: close`), so every probe
 * exercises connect + accept like keepalived's HTTP_GET/SSL_GET do.
 */
export function openGet(target: ProbeTarget, spec: GetSpec): http.ClientRequest {
  const headers: Record<string, string> = { 'User-Agent': USER_AGENT, Accept: '*/*', Connection: 'close' };
  if (spec.host) headers.Host = spec.host;
  const common: http.RequestOptions = {
    host: target.address,
    port: target.port,
    path: spec.path ?? '/',
    method: 'GET',
    agent: false,
    headers,
    ...(spec.bindAddress ? { localAddress: spec.bindAddress } : {}),
  };
  if (spec.type === 'http') return http.request(common);
  const servername = spec.sni ?? sniFromHost(spec.host);
  return https.request({
    ...common,
    rejectUnauthorized: spec.tlsVerify ?? false,
    ...(servername ? { servername } : {}),
    ...(spec.ca ? { ca: spec.ca } : {}),
  });
}

/** Host header `name[:port]` -> `name`, unless it is an IP literal (SNI carries names only, RFC 6066). */
export function sniFromHost(host: string | undefined): string | undefined {
  if (!host) return undefined;
  const name = host.startsWith('[') ? host.slice(1, host.indexOf(']')) : host.replace(/:\d+$/, '');
  return name && net.isIP(name) === 0 ? name : undefined;
}

/** Streams the body into MD5 (genhash's digest), giving up past maxBytes. */
export function hashBody(
  res: http.IncomingMessage,
  maxBytes: number,
  done: (err: string | null, md5?: string, bytes?: number) => void,
): void {
  const md5 = createHash('md5');
  let bytes = 0;
  res.on('data', (chunk: Buffer) => {
    bytes += chunk.length;
    if (bytes > maxBytes) {
      done(`body exceeds ${maxBytes} bytes`);
      res.destroy();
      return;
    }
    md5.update(chunk);
  });
  res.once('end', () => done(null, md5.digest('hex'), bytes));
  res.once('error', (err) => done(describeError(err)));
}

const LINGER_MS = 1000;

function drainAndClose(req: http.ClientRequest, res: http.IncomingMessage, maxBytes: number): void {
  req.on('error', () => {});
  res.on('error', () => {});
  let bytes = 0;
  const timer = setTimeout(() => req.destroy(), LINGER_MS);
  timer.unref();
  res.on('data', (chunk: Buffer) => {
    bytes += chunk.length;
    if (bytes > maxBytes) req.destroy();
  });
  res.once('close', () => clearTimeout(timer));
}

const probeGet = (target: ProbeTarget, spec: GetSpec, signal: AbortSignal) =>
  probeSession(signal, (finish) => {
    const req = openGet(target, spec);
    const expect = spec.expectStatus ?? DEFAULT_EXPECT_STATUS;
    let handedOff = false;
    req.once('response', (res) => {
      const status = res.statusCode ?? 0;
      if (!expect.includes(status)) return finish(false, `status ${status} not in [${expect.join(',')}]`);
      const want = spec.digest?.toLowerCase();
      // Without a digest the status line is the verdict; the rest is drained in the background
      // so the connection still ends with a FIN rather than an RST.
      if (!want) {
        handedOff = true;
        finish(true);
        return drainAndClose(req, res, spec.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES);
      }
      hashBody(res, spec.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES, (err, md5) => {
        if (err) finish(false, err);
        else if (md5 !== want) finish(false, `digest mismatch: got ${md5}`);
        else finish(true);
      });
    });
    req.once('error', (err) => finish(false, describeError(err)));
    req.end();
    return () => {
      req.on('error', () => {});
      if (!handedOff) req.destroy();
    };
  });

/** keepalived HTTP_GET. */
export const probeHttp: Probe<HttpProbeSpec> = (target, spec, signal) => probeGet(target, spec, signal);

/** keepalived SSL_GET; certificates are not verified unless spec.tlsVerify. */
export const probeHttps: Probe<HttpsProbeSpec> = (target, spec, signal) => probeGet(target, spec, signal);
