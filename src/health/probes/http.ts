import { createHash } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import type { HttpProbeSpec, HttpsProbeSpec, Probe, ProbeResult, ProbeTarget, StatusMatch } from '../types.js';
import { describeError } from './abort.js';
import { probeSession } from './session.js';

export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
/** keepalived's default status_code: any 2xx (HTTP_DEFAULT_STATUS_CODE_MIN/MAX in check_http.h). */
export const DEFAULT_EXPECT_STATUS: readonly StatusMatch[] = [[200, 299]];
const USER_AGENT = 'lvs-operator-healthcheck';

/** One GET: the probe's settings with one URL's laid over them. */
type GetSpec = Omit<HttpProbeSpec, 'type' | 'urls'> & Partial<Omit<HttpsProbeSpec, 'type' | 'urls'>> & { type: 'http' | 'https' };

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
  const servername = spec.sni === false ? undefined : (spec.sni ?? sniFromHost(spec.host));
  return https.request({
    ...common,
    rejectUnauthorized: spec.tlsVerify ?? false,
    // Without a name Node would send the address as SNI; '' sends none (keepalived without enable_sni).
    servername: servername ?? '',
    ...(spec.ca ? { ca: spec.ca } : {}),
    ...(spec.clientCert ? { cert: spec.clientCert.cert, key: spec.clientCert.key } : {}),
  });
}

/** Host header `name[:port]` -> `name`, unless it is an IP literal (SNI carries names only, RFC 6066). */
export function sniFromHost(host: string | undefined): string | undefined {
  if (!host) return undefined;
  const name = host.startsWith('[') ? host.slice(1, host.indexOf(']')) : host.replace(/:\d+$/, '');
  return name && net.isIP(name) === 0 ? name : undefined;
}

export function statusAccepted(status: number, expect: readonly StatusMatch[]): boolean {
  return expect.some((m) => (typeof m === 'number' ? status === m : status >= m[0] && status <= m[1]));
}

const statusText = (expect: readonly StatusMatch[]): string =>
  expect.map((m) => (typeof m === 'number' ? String(m) : m[0] === m[1] ? String(m[0]) : `${m[0]}-${m[1]}`)).join(',');

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

interface Body {
  md5?: string;
  /** Whether the regex matched the body (its first maxBytes). */
  matched?: boolean;
}

/**
 * Reads the body for a digest and/or a regex. A digest needs the whole body (longer than
 * maxBytes fails); a regex is tried on the first maxBytes, read as UTF-8 (keepalived reads on
 * to the end; a health page larger than 1 MiB is not one).
 */
function readBody(res: http.IncomingMessage, maxBytes: number, digest: boolean, regex: RegExp | undefined, done: (err: string | null, body?: Body) => void): void {
  const md5 = digest ? createHash('md5') : undefined;
  const chunks: Buffer[] = [];
  let bytes = 0;
  let settled = false;
  const finish = (err: string | null, body?: Body): void => {
    if (settled) return;
    settled = true;
    done(err, body);
  };
  const verdict = (): Body => {
    const out: Body = {};
    if (md5) out.md5 = md5.digest('hex');
    if (regex) out.matched = regex.test(Buffer.concat(chunks).toString('utf8'));
    return out;
  };
  res.on('data', (chunk: Buffer) => {
    if (settled) return;
    const room = maxBytes - bytes;
    bytes += chunk.length;
    if (bytes > maxBytes) {
      if (md5) finish(`body exceeds ${maxBytes} bytes`);
      else {
        chunks.push(chunk.subarray(0, Math.max(0, room)));
        finish(null, verdict());
      }
      res.destroy();
      return;
    }
    md5?.update(chunk);
    if (regex) chunks.push(chunk);
  });
  res.once('end', () => finish(null, verdict()));
  res.once('error', (err) => finish(describeError(err)));
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

/** One URL: status, then digest and regex when set. */
const probeGet = (target: ProbeTarget, spec: GetSpec, signal: AbortSignal) =>
  probeSession(signal, (finish) => {
    if (spec.clientCertError) {
      finish(false, spec.clientCertError);
      return () => {};
    }
    const req = openGet(target, spec);
    const expect = spec.expectStatus ?? DEFAULT_EXPECT_STATUS;
    const maxBytes = spec.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
    let handedOff = false;
    req.once('response', (res) => {
      const status = res.statusCode ?? 0;
      if (!statusAccepted(status, expect)) return finish(false, `status ${status} not in [${statusText(expect)}]`);
      const want = spec.digest?.toLowerCase();
      // Without a digest or regex the status line is the verdict; the rest is drained in the
      // background so the connection still ends with a FIN rather than an RST.
      if (!want && !spec.regex) {
        handedOff = true;
        finish(true);
        return drainAndClose(req, res, maxBytes);
      }
      readBody(res, maxBytes, want !== undefined, spec.regex, (err, body) => {
        if (err || !body) return finish(false, err ?? 'no body');
        if (want && body.md5 !== want) return finish(false, `digest mismatch: got ${body.md5}`);
        if (spec.regex && body.matched === (spec.regexNoMatch ?? false)) {
          return finish(false, spec.regexNoMatch ? `body matches ${spec.regex}` : `body does not match ${spec.regex}`);
        }
        finish(true);
      });
    });
    req.once('error', (err) => finish(false, describeError(err)));
    req.end();
    return () => {
      req.on('error', () => {});
      if (!handedOff) req.destroy();
    };
  });

/** Every URL in order, each on its own connection; the first failure is the result (named by its path when there are several). */
async function probeUrls(target: ProbeTarget, spec: HttpProbeSpec | HttpsProbeSpec, signal: AbortSignal): Promise<ProbeResult> {
  const { urls, ...own } = spec;
  if (!urls) return probeGet(target, own, signal);
  const began = performance.now();
  for (const url of urls) {
    const r = await probeGet(target, { ...own, ...url }, signal);
    if (!r.ok) return { ok: false, latencyMs: performance.now() - began, reason: urls.length > 1 ? `${url.path ?? '/'}: ${r.reason ?? 'failed'}` : (r.reason ?? 'failed') };
  }
  return { ok: true, latencyMs: performance.now() - began };
}

/** keepalived HTTP_GET. */
export const probeHttp: Probe<HttpProbeSpec> = (target, spec, signal) => probeUrls(target, spec, signal);

/** keepalived SSL_GET; certificates are not verified unless spec.tlsVerify. */
export const probeHttps: Probe<HttpsProbeSpec> = (target, spec, signal) => probeUrls(target, spec, signal);
