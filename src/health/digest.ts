import type { IncomingHttpHeaders } from 'node:http';
import type { ProbeTarget } from './types.js';
import { abortText, deadlineSignal, describeError } from './probes/abort.js';
import { hashBody, openGet } from './probes/http.js';

export interface DigestOptions {
  /** `http://` or `https://` URL; its host and port are also the default connect address and Host header. */
  url: string;
  /** Connect here instead of the URL's host (genhash `-s`), e.g. one real server behind a name. */
  connectAddress?: string;
  /** Host header (genhash `-V`); default: the URL's host[:port]. */
  host?: string;
  /** TLS server name; default: the Host header's name unless it is an IP (genhash `-I`). */
  sni?: string;
  /** Verify the server certificate; default false, like genhash. */
  tlsVerify?: boolean;
  ca?: string | Buffer;
  bindAddress?: string;
  /** Default 5000 ms. */
  timeoutMs?: number;
  /** Default 64 MiB. */
  maxBodyBytes?: number;
}

export interface DigestResult {
  status: number;
  /** Lower-case hex MD5 of the (de-chunked) body: the value for `healthCheck.digest`, same as keepalived's genhash. */
  md5: string;
  bytes: number;
  headers: IncomingHttpHeaders;
}

/**
 * The genhash equivalent: GET the URL once on a fresh connection and hash the body.
 * Rejects with an Error whose message is a probe-style reason (`connect ECONNREFUSED`, `timeout after 5000ms`).
 */
export async function fetchDigest(opts: DigestOptions, signal?: AbortSignal): Promise<DigestResult> {
  const url = new URL(opts.url);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new Error(`unsupported URL scheme ${url.protocol} (want http: or https:)`);
  }
  const tls = url.protocol === 'https:';
  const target: ProbeTarget = {
    address: opts.connectAddress ?? url.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: url.port ? Number(url.port) : tls ? 443 : 80,
  };
  const timeoutMs = opts.timeoutMs ?? 5000;
  const deadline = deadlineSignal(timeoutMs, signal);
  const req = openGet(target, {
    type: tls ? 'https' : 'http',
    timeoutMs,
    path: `${url.pathname}${url.search}`,
    host: opts.host ?? url.host,
    ...(opts.sni !== undefined ? { sni: opts.sni } : {}),
    ...(opts.tlsVerify !== undefined ? { tlsVerify: opts.tlsVerify } : {}),
    ...(opts.ca !== undefined ? { ca: opts.ca } : {}),
    ...(opts.bindAddress !== undefined ? { bindAddress: opts.bindAddress } : {}),
  });
  return await new Promise<DigestResult>((resolve, reject) => {
    const fail = (reason: string): void => {
      deadline.dispose();
      req.destroy();
      reject(new Error(reason));
    };
    if (deadline.signal.aborted) return fail(abortText(deadline.signal));
    deadline.signal.addEventListener('abort', () => fail(abortText(deadline.signal)), { once: true });
    req.once('error', (err) => fail(describeError(err)));
    req.once('response', (res) => {
      hashBody(res, opts.maxBodyBytes ?? 64 * 1024 * 1024, (err, md5, bytes) => {
        if (err || md5 === undefined) return fail(err ?? 'no body');
        deadline.dispose();
        resolve({ status: res.statusCode ?? 0, md5, bytes: bytes ?? 0, headers: res.headers });
      });
    });
    req.end();
  });
}
