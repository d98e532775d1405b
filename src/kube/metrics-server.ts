import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

/**
 * The HTTP endpoint every operator process exposes: Prometheus `/metrics`, liveness
 * `/healthz` and readiness `/readyz`. Probes answer 200 or 503 with a short text reason,
 * as kubelet and humans with curl both read it.
 */

export interface Probe {
  /** undefined when healthy, otherwise why not. */
  (): string | undefined;
}

export interface MetricsServerOptions {
  registry: Registry;
  port: number;
  /** Default: `::` with IPv4 mapped (both families), or 0.0.0.0 on a host without IPv6. */
  host?: string;
  healthz?: Probe;
  readyz?: Probe;
}

export class MetricsServer {
  private readonly server: http.Server;
  private readonly documents = new Map<string, () => Promise<unknown>>();

  constructor(private readonly o: MetricsServerOptions) {
    this.server = http.createServer((req, res) => void this.handle(req, res));
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD' }).end();
      return;
    }
    try {
      if (path === '/metrics') {
        const body = await this.o.registry.metrics();
        res.writeHead(200, { 'Content-Type': this.o.registry.contentType }).end(body);
      } else if (path === '/healthz' || path === '/livez') {
        this.probe(res, this.o.healthz);
      } else if (path === '/readyz') {
        this.probe(res, this.o.readyz);
      } else if (path !== undefined && this.documents.has(path)) {
        const body = `${JSON.stringify(await this.documents.get(path)!())}\n`;
        res.writeHead(200, { 'Content-Type': 'application/json' }).end(body);
      } else {
        res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found\n');
      }
    } catch (err) {
      res.writeHead(500, { 'Content-Type': 'text/plain' }).end(`${String(err)}\n`);
    }
  }

  private probe(res: http.ServerResponse, p: Probe | undefined): void {
    const why = p?.();
    if (why === undefined) res.writeHead(200, { 'Content-Type': 'text/plain' }).end('ok\n');
    else res.writeHead(503, { 'Content-Type': 'text/plain' }).end(`${why}\n`);
  }

  /** Serves what `read` resolves with as JSON at `path` (read on every request). */
  serveJson(path: string, read: () => Promise<unknown>): void {
    this.documents.set(path, read);
  }

  /** Listens; resolves with the bound port (useful with port 0). */
  async listen(): Promise<number> {
    if (this.o.host !== undefined) return this.listenOn(this.o.host);
    try {
      // Dual stack: probes and scrapes may come over IPv4 or IPv6 (single-stack IPv6 clusters).
      return await this.listenOn('::');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'EAFNOSUPPORT' && code !== 'EADDRNOTAVAIL') throw err;
      return this.listenOn('0.0.0.0');
    }
  }

  private listenOn(host: string): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen({ port: this.o.port, host, ipv6Only: false }, () => {
        this.server.off('error', reject);
        resolve((this.server.address() as AddressInfo).port);
      });
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.closeAllConnections();
      this.server.close(() => resolve());
    });
  }
}
