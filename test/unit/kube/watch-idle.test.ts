import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeHttp } from '../../../src/kube/http.js';

// A watch whose server goes quiet ends with "watch idle timeout" after about idleTimeoutMs; one
// that keeps sending (events or bookmarks) is never cut, however long it lasts.
let server: Server;
let http: KubeHttp;
beforeAll(async () => {
  server = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    if (req.url?.includes('quiet')) return; // headers, then nothing
    let n = 0;
    const t = setInterval(() => {
      res.write(`${JSON.stringify({ type: 'BOOKMARK', object: { metadata: { resourceVersion: String(++n) } } })}\n`);
      if (n === 8) {
        clearInterval(t);
        res.end();
      }
    }, 60);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  http = new KubeHttp({ server: `http://127.0.0.1:${port}`, source: 'test', requestOptions: async () => ({ headers: {} }) });
});
afterAll(() => {
  http.close();
  server.close();
});

describe('watch idle timeout', () => {
  it('ends a watch whose server sends nothing', async () => {
    const t0 = performance.now();
    await expect(http.watch('/quiet', () => undefined, { idleTimeoutMs: 200, signal: new AbortController().signal })).rejects.toThrow(/watch idle timeout/);
    const ms = performance.now() - t0;
    expect(ms).toBeGreaterThanOrEqual(190);
  });

  it('keeps a watch that streams for longer than the idle timeout', async () => {
    const events: unknown[] = [];
    await http.watch('/busy', (ev) => events.push(ev), { idleTimeoutMs: 200, signal: new AbortController().signal });
    expect(events).toHaveLength(8); // 8 x 60 ms = 480 ms, more than twice the idle timeout
  });
});
