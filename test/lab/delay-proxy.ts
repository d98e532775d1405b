// A TCP proxy in front of the API server that can hold back its answers: TLS passes through
// untouched, requests reach the server at once, and every byte the server sends back is
// delivered `delayMs` late (in order). Models an API server that stalls while it still
// applies what it receives, the case where a leader that waits for answers acts too long.
import { type Server, type Socket, connect, createServer } from 'node:net';
import type { ClusterAccess } from '../../src/kube/config.js';

export interface DelayProxy {
  /** `https://<listen address>:<port>` */
  readonly url: string;
  /** Delay of the server's bytes from now on (already queued bytes keep theirs). */
  delayMs: number;
  /** The same access through this proxy. */
  access(via: ClusterAccess): ClusterAccess;
  close(): Promise<void>;
}

function pipeDelayed(from: Socket, to: Socket, delay: () => number): void {
  // One chain per direction so chunks stay in order even when the delay changes.
  let chain = Promise.resolve();
  from.on('data', (chunk: Buffer) => {
    const due = Date.now() + delay();
    chain = chain.then(async () => {
      const wait = due - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      if (!to.destroyed) to.write(chunk);
    });
  });
  from.on('end', () => void chain.then(() => to.end()));
  from.on('close', () => void chain.then(() => to.destroy()));
}

/** `listen`: the address it listens on (the lab LAN's host address, for lab kernels to reach it). */
export async function startDelayProxy(target: string, listen = '127.0.0.1'): Promise<DelayProxy> {
  const { hostname, port } = new URL(target);
  const sockets = new Set<Socket>();
  const proxy = {
    url: '',
    delayMs: 0,
    access(via: ClusterAccess): ClusterAccess {
      return { server: proxy.url, source: `${via.source} via delay proxy`, namespace: via.namespace, requestOptions: () => via.requestOptions() };
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
  const server: Server = createServer((client) => {
    const upstream = connect(Number(port), hostname.replace(/^\[|\]$/g, ''));
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => undefined);
    }
    // Requests go straight through; a client that gives up closes its side at once.
    client.pipe(upstream);
    client.on('close', () => upstream.destroy());
    pipeDelayed(upstream, client, () => proxy.delayMs);
  });
  await new Promise<void>((r) => server.listen(0, listen, r));
  const addr = server.address();
  if (!addr || typeof addr === 'string') throw new Error('proxy has no port');
  proxy.url = `https://${listen}:${addr.port}`;
  return proxy;
}
