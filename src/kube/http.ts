import * as http from 'node:http';
import * as https from 'node:https';
import * as tls from 'node:tls';
import { createInterface } from 'node:readline';
import type { ClusterAccess } from './config.js';
import type { Fence } from './fence.js';

/**
 * A small JSON-over-HTTP transport for the Kubernetes API (authentication comes from
 * client-node's KubeConfig, see config.ts). Why not client-node's generated clients: they
 * turn timestamps into Date objects while watches deliver strings, so one cache would hold
 * two shapes; and server-side apply on /status, metadata-only lists and watch timeouts each
 * need exact control of content type, Accept header and query, simplest to give here.
 */

export class KubeApiError extends Error {
  constructor(
    readonly status: number,
    /** `reason` of the returned metav1.Status (NotFound, Conflict, Expired, Gone, ...). */
    readonly reason: string,
    message: string,
    readonly body: unknown,
  ) {
    super(message);
    this.name = 'KubeApiError';
  }
}

export function isNotFound(err: unknown): boolean {
  return err instanceof KubeApiError && err.status === 404;
}
export function isConflict(err: unknown): boolean {
  return err instanceof KubeApiError && err.status === 409;
}
export function isAlreadyExists(err: unknown): boolean {
  return err instanceof KubeApiError && err.status === 409 && err.reason === 'AlreadyExists';
}
/** The resourceVersion asked for is older than etcd keeps: relist. */
export function isGone(err: unknown): boolean {
  return err instanceof KubeApiError && (err.status === 410 || err.reason === 'Expired' || err.reason === 'Gone');
}

export type Query = Record<string, string | number | boolean | undefined>;

export interface RequestOptions {
  query?: Query;
  body?: unknown;
  contentType?: string;
  accept?: string;
  /** Whole-request timeout; the default suits ordinary (non-watch) calls. */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Not sent once closed; aborted in flight when it closes (see fence.ts). */
  fence?: Fence | undefined;
}

/** One watch event as the API server sends it (`{"type":"ADDED","object":{...}}`). */
export interface WatchEvent<T = unknown> {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: T;
}

export interface WatchOptions {
  query?: Query;
  accept?: string;
  /** Abort the stream when nothing (not even a bookmark) arrived for this long; guards half-open TCP. */
  idleTimeoutMs: number;
  signal: AbortSignal;
}

function toUrl(server: string, path: string, query?: Query): URL {
  const url = new URL(server.replace(/\/+$/, '') + path);
  for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
  return url;
}

function statusError(status: number, text: string): KubeApiError {
  let body: unknown = text;
  let reason = http.STATUS_CODES[status] ?? 'Unknown';
  let message = `HTTP ${status}`;
  try {
    const parsed = JSON.parse(text) as { reason?: string; message?: string };
    body = parsed;
    if (parsed.reason) reason = parsed.reason;
    if (parsed.message) message = parsed.message;
  } catch {
    if (text) message = `HTTP ${status}: ${text.slice(0, 500)}`;
  }
  return new KubeApiError(status, reason, message, body);
}

export class KubeHttp {
  private agent: http.Agent | undefined;

  constructor(readonly access: ClusterAccess) {}

  get server(): string {
    return this.access.server;
  }

  /** Connection options for one request; re-read every time so rotated tokens are picked up. */
  private async connect(url: URL): Promise<{ mod: typeof http | typeof https; opts: https.RequestOptions }> {
    const auth = await this.access.requestOptions();
    const isHttps = url.protocol === 'https:';
    if (!this.agent) {
      // The certificate material is fixed for the life of the process; only headers rotate. One
      // secure context for every connection (building one per TLS handshake dominated the CPU
      // profile when thousands of status writes went out), and a bounded pool of kept-alive
      // connections: requests beyond it queue instead of each opening its own TLS session.
      this.agent = isHttps
        ? new https.Agent({
            keepAlive: true,
            maxSockets: 32,
            secureContext: tls.createSecureContext({ ca: auth.ca, cert: auth.cert, key: auth.key }),
            ...(auth.rejectUnauthorized !== undefined ? { rejectUnauthorized: auth.rejectUnauthorized } : {}),
            ...(auth.servername !== undefined ? { servername: auth.servername } : {}),
          })
        : new http.Agent({ keepAlive: true, maxSockets: 32 });
    }
    return { mod: isHttps ? https : http, opts: { headers: { ...auth.headers }, agent: this.agent } };
  }

  /** One request; resolves with the parsed JSON body, rejects with KubeApiError on a non-2xx status. */
  async request<T>(method: string, path: string, o: RequestOptions = {}): Promise<T> {
    const { fence } = o;
    const signal = fence && o.signal ? AbortSignal.any([o.signal, fence.signal]) : (fence?.signal ?? o.signal);
    const url = toUrl(this.server, path, o.query);
    const { mod, opts } = await this.connect(url);
    // The last moment before the request leaves: connect() may have waited for a token.
    fence?.check();
    signal?.throwIfAborted();
    const headers = opts.headers as Record<string, string>;
    headers.Accept = o.accept ?? 'application/json';
    let payload: string | undefined;
    if (o.body !== undefined) {
      payload = JSON.stringify(o.body);
      headers['Content-Type'] = o.contentType ?? 'application/json';
      headers['Content-Length'] = String(Buffer.byteLength(payload));
    }
    return new Promise<T>((resolve, reject) => {
      const req = mod.request(url, { ...opts, method, headers, timeout: o.timeoutMs ?? 30_000, signal }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const status = res.statusCode ?? 0;
          if (status < 200 || status >= 300) return reject(statusError(status, text));
          try {
            resolve((text ? JSON.parse(text) : undefined) as T);
          } catch (err) {
            reject(err);
          }
        });
      });
      req.on('timeout', () => req.destroy(new Error(`${method} ${url.pathname}: timed out`)));
      req.on('error', reject);
      req.end(payload);
    });
  }

  /**
   * Streams a watch. Resolves when the server ends the stream (its timeoutSeconds) or the
   * signal aborts; rejects on a non-200 answer, a broken connection or idle timeout.
   */
  async watch<T>(path: string, onEvent: (ev: WatchEvent<T>) => void, o: WatchOptions): Promise<void> {
    const url = toUrl(this.server, path, { ...o.query, watch: true });
    const { mod, opts } = await this.connect(url);
    const headers = { ...(opts.headers as Record<string, string>), Accept: o.accept ?? 'application/json' };
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      const finish = (err?: unknown) => {
        if (settled) return;
        settled = true;
        clearInterval(idle);
        o.signal.removeEventListener('abort', onAbort);
        req.destroy();
        if (err === undefined) resolve();
        else reject(err instanceof Error ? err : new Error(String(err)));
      };
      const onAbort = () => finish();
      // Idle detection without a timer per chunk: re-arming a timeout on every chunk read the clock
      // (a syscall) each time, seconds of a lab kernel's start at 10,000 objects. A quarter-period
      // tick counts chunks; four ticks without one end the watch (idle for 1 to 1.25 periods).
      let chunks = 0;
      let seen = 0;
      let quiet = 0;
      const idle = setInterval(() => {
        quiet = chunks === seen ? quiet + 1 : 0;
        seen = chunks;
        if (quiet >= 4) finish(new Error('watch idle timeout'));
      }, Math.max(1, Math.floor(o.idleTimeoutMs / 4)));
      const touch = () => {
        chunks++;
      };
      if (o.signal.aborted) return finish();
      o.signal.addEventListener('abort', onAbort);
      const req = mod.request(url, { ...opts, method: 'GET', headers }, (res) => {
        const status = res.statusCode ?? 0;
        if (status !== 200) {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => finish(statusError(status, Buffer.concat(chunks).toString('utf8'))));
          res.on('error', finish);
          return;
        }
        touch();
        res.on('data', touch);
        res.on('error', (e) => finish(settled ? undefined : e));
        const lines = createInterface({ input: res, crlfDelay: Infinity });
        lines.on('line', (line) => {
          if (settled || line.trim() === '') return;
          let ev: WatchEvent<T>;
          try {
            ev = JSON.parse(line) as WatchEvent<T>;
          } catch (err) {
            return finish(new Error(`undecodable watch event: ${String(err)}`));
          }
          try {
            onEvent(ev);
          } catch (err) {
            finish(err);
          }
        });
        // readline re-emits input errors; the response's own handler above deals with them.
        lines.on('error', () => undefined);
        lines.on('close', () => finish());
      });
      req.on('error', (e) => finish(o.signal.aborted ? undefined : e));
      req.end();
    });
  }

  /** Closes pooled connections (tests, shutdown). */
  close(): void {
    this.agent?.destroy();
    this.agent = undefined;
  }
}
