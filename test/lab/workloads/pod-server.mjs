// The lab's workload: what the demo's and e2e's pods serve (run by the lvs-operator image's node,
// mounted from a ConfigMap). Every answer carries NAME (the node or pod name) so a client can
// tally who served it.
//   node pod-server.mjs http <port>              GET -> 200 "<NAME>\n", header x-client: the peer's address
//   node pod-server.mjs https <port> <tls dir>   the same over TLS (tls.crt, tls.key: a kubernetes.io/tls Secret)
//   node pod-server.mjs dns <port>               UDP: answers each query with its id, NXDOMAIN, the question echoed
//   node pod-server.mjs echo <port>              TCP: answers each line with "<NAME> <line>", connections stay open
//                                                (the server of bench/failover-traffic.mjs' hold and probe clients)
import { createSocket } from 'node:dgram';
import net from 'node:net';
import { networkInterfaces } from 'node:os';
import { createInterface } from 'node:readline';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';

const [mode, port, tlsDir] = process.argv.slice(2);
const name = process.env.NAME ?? 'unknown';
const log = (msg) => process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), name, msg })}\n`);
const handler = (req, res) => {
  // x-client: the address the connection came from (externalTrafficPolicy Local keeps the client's).
  res.writeHead(200, { 'content-type': 'text/plain', connection: 'close', 'x-client': (req.socket.remoteAddress ?? '').replace(/^::ffff:/, '') });
  res.end(`${name}\n`);
};

if (mode === 'http' || mode === 'https') {
  const server = mode === 'https'
    ? https.createServer({ key: readFileSync(`${tlsDir}/tls.key`), cert: readFileSync(`${tlsDir}/tls.crt`) }, handler)
    : http.createServer(handler);
  server.listen(Number(port), () => log(`${mode} on :${port}`));
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
} else if (mode === 'dns') {
  // One socket per local address, as DNS servers bind: an answer must come from the address the
  // query was sent to (a host-network pod's node has several; the kernel would pick the primary).
  const addresses = Object.values(networkInterfaces()).flat().filter((i) => i && i.family === 'IPv4').map((i) => i.address);
  const sockets = addresses.map((address) => {
    const sock = createSocket('udp4');
    sock.on('message', (q, from) => {
      if (q.length < 12) return;
      const a = Buffer.from(q);
      a[2] = 0x80 | (q[2] & 0x79); // QR=1, opcode and RD kept
      a[3] = 0x03; // RCODE 3: no such name
      a.writeUInt16BE(0, 6); a.writeUInt16BE(0, 8); a.writeUInt16BE(0, 10);
      sock.send(a, from.port, from.address);
    });
    sock.bind(Number(port), address);
    return sock;
  });
  log(`dns on udp ${addresses.map((a) => `${a}:${port}`).join(' ')}`);
  process.on('SIGTERM', () => { for (const s of sockets) s.close(); process.exit(0); });
} else if (mode === 'echo') {
  const server = net.createServer((sock) => {
    sock.on('error', () => {});
    createInterface({ input: sock }).on('error', () => {}).on('line', (line) => sock.write(`${name} ${line}\n`));
  });
  server.listen(Number(port), () => log(`echo on :${port}`));
} else {
  process.stderr.write(`usage: pod-server.mjs http|https|dns|echo <port> [tls dir]\n`);
  process.exit(2);
}
