// Real servers on 127.0.0.1 for the probe tests.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';

export interface Running {
  port: number;
  close(): Promise<void>;
}

function trackSockets(server: net.Server): () => void {
  const sockets = new Set<net.Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.on('secureConnection', (s: net.Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  return () => sockets.forEach((s) => s.destroy());
}

async function listen(server: net.Server, host = '127.0.0.1', port = 0): Promise<Running> {
  const kill = trackSockets(server);
  server.listen(port, host);
  await once(server, 'listening');
  const addr = server.address() as net.AddressInfo;
  return {
    port: addr.port,
    close: () =>
      new Promise<void>((resolve) => {
        kill();
        server.close(() => resolve());
      }),
  };
}

/**
 * Accepts TCP connections, greets with a banner (as SSH or SMTP do, so a client that
 * closes without reading it causes an RST) and records how each connection ended.
 */
export async function tcpServer(): Promise<
  Running & { peers: string[]; closes: Array<'fin' | 'error'>; server: net.Server }
> {
  const peers: string[] = [];
  const closes: Array<'fin' | 'error'> = [];
  const server = net.createServer((s) => {
    peers.push(s.remoteAddress ?? '?');
    s.write('SSH-2.0-test\r\n');
    s.on('end', () => {
      closes.push('fin');
      s.end();
    });
    s.on('error', () => closes.push('error'));
  });
  return { ...(await listen(server)), peers, closes, server };
}

/** Accepts and then never says a word. */
export async function silentServer(): Promise<Running> {
  return listen(net.createServer(() => {}));
}

/** A port that nothing listens on (briefly bound, then released). */
export async function closedPort(): Promise<number> {
  const r = await listen(net.createServer());
  await r.close();
  return r.port;
}

export type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

export interface Peer {
  address: string | undefined;
  port: number | undefined;
}

/** http.Server that records each request and its peer (read at arrival: a closed socket forgets it). */
export async function httpServer(
  handler: Handler,
  port = 0,
): Promise<Running & { requests: http.IncomingMessage[]; peers: Peer[] }> {
  const requests: http.IncomingMessage[] = [];
  const peers: Peer[] = [];
  const server = http.createServer((req, res) => {
    requests.push(req);
    peers.push({ address: req.socket.remoteAddress, port: req.socket.remotePort });
    handler(req, res);
  });
  return { ...(await listen(server, '127.0.0.1', port)), requests, peers };
}

export interface Cert {
  dir: string;
  key: Buffer;
  cert: Buffer;
  cleanup(): void;
}

/** Self-signed cert for CN=localhost (SAN localhost, 127.0.0.1), made with the openssl CLI. */
export function makeCert(): Cert {
  execFileSync('openssl', ['version'], { stdio: 'ignore' }); // throws with a clear ENOENT if missing
  const dir = mkdtempSync(join(tmpdir(), 'lvs-health-tls-'));
  execFileSync(
    'openssl',
    [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1',
      '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
    ],
    { stdio: 'ignore' },
  );
  return {
    dir,
    key: readFileSync(join(dir, 'key.pem')),
    cert: readFileSync(join(dir, 'cert.pem')),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export async function httpsServer(
  cert: Cert,
  handler: Handler,
): Promise<Running & { requests: http.IncomingMessage[]; servernames: Array<string | false | null> }> {
  const requests: http.IncomingMessage[] = [];
  const servernames: Array<string | false | null> = [];
  const server = https.createServer({ key: cert.key, cert: cert.cert }, (req, res) => {
    requests.push(req);
    handler(req, res);
  });
  server.on('secureConnection', (s) => servernames.push(s.servername));
  return { ...(await listen(server)), requests, servernames };
}

/** UDP server that answers every datagram with `reply(msg)` (echo by default), or not at all when it returns null. */
export async function udpServer(
  reply: (msg: Buffer) => Buffer | null = (m) => m,
): Promise<Running & { received: Buffer[]; senders: string[] }> {
  const socket = dgram.createSocket('udp4');
  const received: Buffer[] = [];
  const senders: string[] = [];
  socket.on('message', (msg, rinfo) => {
    received.push(msg);
    senders.push(rinfo.address);
    const out = reply(msg);
    if (out) socket.send(out, rinfo.port, rinfo.address);
  });
  socket.bind(0, '127.0.0.1');
  await once(socket, 'listening');
  return {
    port: socket.address().port,
    received,
    senders,
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}

export async function closedUdpPort(): Promise<number> {
  const s = await udpServer();
  await s.close();
  return s.port;
}

/**
 * A listener whose accept queue is full: with backlog 0 and nobody calling accept(),
 * the kernel completes one handshake and then drops further SYNs, so a connect hangs.
 * Node always accepts, hence a small python3 process.
 */
export async function fullBacklogListener(): Promise<Running> {
  const child: ChildProcess = spawn(
    'python3',
    [
      '-c',
      'import socket,sys,time\n' +
        's=socket.socket(); s.bind(("127.0.0.1",0)); s.listen(0)\n' +
        'print(s.getsockname()[1], flush=True)\n' +
        'time.sleep(60)\n',
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const [line] = (await once(child.stdout!, 'data')) as [Buffer];
  const port = Number(line.toString().trim());
  // Take the one queue slot ourselves so that the probe's SYN is the one dropped.
  const filler = net.connect(port, '127.0.0.1');
  await once(filler, 'connect');
  return {
    port,
    close: async () => {
      filler.destroy();
      child.kill();
      if (child.exitCode === null) await once(child, 'exit');
    },
  };
}
