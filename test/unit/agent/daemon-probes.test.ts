// The agent answers /healthz while it still waits for its first list of the cluster (a slow API
// server must not get it killed by its liveness probe), and /readyz only after its first pass.
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startAgentDaemon, type AgentDaemon } from '../../../src/agent/daemon.js';
import { MemoryOwnershipStore } from '../../../src/agent/ownership.js';
import { Reconciler } from '../../../src/agent/reconciler.js';
import { FakeIpvsClient } from '../../../src/ipvs/fake.js';
import { FakeLinkClient, FakeSysctl, type RtLinkClient } from '../../../src/link/index.js';
import { MetricsServer } from '../../../src/kube/metrics-server.js';
import { Registry } from 'prom-client';
import { silent } from '../vrrp/wire.js';

const closers: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
});

/** An API server that holds every list until `answer()`, then lists nothing; watches stay open. */
async function slowApiServer() {
  const held: http.ServerResponse[] = [];
  let answering = false;
  const empty = (res: http.ServerResponse): void => void res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ kind: 'List', apiVersion: 'v1', metadata: { resourceVersion: '1' }, items: [] }));
  const server = http.createServer((req, res) => {
    if (/[?&]watch=(true|1)/.test(req.url ?? '')) return void res.writeHead(200, { 'Content-Type': 'application/json' }).flushHeaders();
    if (req.method !== 'GET') return void res.writeHead(404, { 'Content-Type': 'application/json' }).end('{"kind":"Status","code":404,"reason":"NotFound"}');
    if (answering) empty(res);
    else held.push(res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  closers.push(() => new Promise((r) => { server.closeAllConnections(); server.close(() => r(undefined)); }));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    held,
    answer() { answering = true; for (const res of held.splice(0)) empty(res); },
  };
}

async function freePort(): Promise<number> {
  const s = http.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

async function until<T>(f: () => Promise<T | undefined>, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('agent probes', () => {
  it('/healthz answers before the first list, /readyz only after the first pass', { timeout: 20_000 }, async () => {
    const api = await slowApiServer();
    const port = await freePort();
    const ipvs = new FakeIpvsClient();
    const link = new FakeLinkClient(['lo', 'eth0']);
    const kernel = { ipvs, observer: ipvs, link: link as unknown as RtLinkClient, reconciler: new Reconciler({ ipvs, link, sysctl: new FakeSysctl(), store: new MemoryOwnershipStore() }), close: () => undefined };
    let daemon: AgentDaemon | undefined;
    const starting = startAgentDaemon({
      node: 'n1', stateDir: '/nonexistent', kernel, leadership: () => false, log: silent,
      access: { server: api.url, source: 'test', requestOptions: async () => ({ headers: {} }) },
      metrics: { port, host: '127.0.0.1' },
    }).then((d) => (daemon = d));
    closers.push(async () => (await starting.catch(() => undefined))?.stop());
    const base = `http://127.0.0.1:${port}`;

    await until(async () => ((await fetch(`${base}/healthz`)).ok ? true : undefined));
    expect(api.held.length).toBeGreaterThan(0); // the lists are still unanswered
    const notReady = await fetch(`${base}/readyz`);
    expect([notReady.status, await notReady.text()]).toEqual([503, 'waiting for the API server to list the cluster state\n']);
    expect((await fetch(`${base}/metrics`)).status).toBe(200);
    expect(daemon).toBeUndefined();

    api.answer();
    await starting;
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
  });
});

describe('MetricsServer', () => {
  it('binds both address families by default', async () => {
    const server = new MetricsServer({ registry: new Registry(), port: 0, healthz: () => undefined });
    const port = await server.listen();
    closers.push(() => server.close());
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    expect((await fetch(`http://[::1]:${port}/healthz`)).status).toBe(200);
  });
});
