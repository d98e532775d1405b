import dgram from 'node:dgram';
import { once } from 'node:events';
import http from 'node:http';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deadlineSignal, probeHttp, probeTcp, probeUdp } from '../../../src/health/probes/index.js';

// Hosts without IPv6 on lo cannot run these; everything else does.
const hasV6 = await new Promise<boolean>((resolve) => {
  const s = net.createServer();
  s.once('error', () => resolve(false));
  s.listen(0, '::1', () => s.close(() => resolve(true)));
});

describe.runIf(hasV6)('probes over IPv6 (::1)', () => {
  let server: http.Server;
  let port = 0;
  const hosts: Array<string | undefined> = [];
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      hosts.push(req.headers.host);
      res.end('v6');
    });
    server.listen(0, '::1');
    await once(server, 'listening');
    port = (server.address() as net.AddressInfo).port;
  });
  afterAll(() => {
    server.closeAllConnections();
    server.close();
  });

  const signal = (): AbortSignal => deadlineSignal(2000).signal;

  it('TCP and HTTP reach [::1], with a bracketed Host header', async () => {
    expect(await probeTcp({ address: '::1', port }, { type: 'tcp', timeoutMs: 2000 }, signal())).toMatchObject({ ok: true });
    expect(await probeHttp({ address: '::1', port }, { type: 'http', timeoutMs: 2000 }, signal())).toMatchObject({ ok: true });
    expect(hosts.at(-1)).toBe(`[::1]:${port}`);
  });

  it('UDP uses an IPv6 socket and sees ICMPv6 port unreachable', async () => {
    const s = dgram.createSocket('udp6');
    s.bind(0, '::1');
    await once(s, 'listening');
    const closed = s.address().port;
    s.close();
    expect(await probeUdp({ address: '::1', port: closed }, { type: 'udp', timeoutMs: 2000 }, signal())).toMatchObject({
      ok: false,
      reason: 'port unreachable (ECONNREFUSED)',
    });
  });
});
