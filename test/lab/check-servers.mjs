// Every listener a health check may need, in one process per network namespace (one node per
// listener would not fit many configurations in one lab kernel's memory).
// Usage: node check-servers.mjs '<json [{kind, host, port}]>' [certDir]
//   kind tcp:   a TCP server that speaks just enough SMTP (220 banner, 250 to every line, 221 to
//               QUIT), so a bare connect (TCP_CHECK) and an SMTP_CHECK both pass
//   kind http, https: 200 "OK" to every request
//   kind dns, udp: UDP; answers a DNS query with NOERROR and one A record, its id kept (a UDP_CHECK
//               that sends a DNS query and wants its id back passes too)
// stdin: "down <host>" closes every listener of host (connects are refused, datagrams get ICMP
// port unreachable), "up <host>" opens them again; each command is acknowledged with a line.
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { createInterface } from 'node:readline';

const listeners = JSON.parse(process.argv[2] ?? '[]');
const certDir = process.argv[3] ?? '';

const web = (req, res) => {
  res.writeHead(200, { 'content-type': 'text/plain', connection: 'close' });
  res.end('OK\n');
};

function smtp(sock) {
  sock.on('error', () => {});
  sock.write('220 lab ESMTP\r\n');
  createInterface({ input: sock }).on('error', () => {}).on('line', (l) => {
    if (/^quit/i.test(l)) sock.end('221 bye\r\n');
    else sock.write('250 ok\r\n');
  });
}

function dnsAnswer(q) {
  if (q.length < 12) return q;
  // Header: id kept, QR + RD kept, NOERROR, one question, one answer; then the question, then an A record pointing at it.
  const qEnd = q.indexOf(0, 12) + 5;
  const head = Buffer.from(q.subarray(0, qEnd));
  head[2] = 0x80 | (q[2] & 0x01);
  head[3] = 0x00;
  head.writeUInt16BE(1, 4); head.writeUInt16BE(1, 6); head.writeUInt16BE(0, 8); head.writeUInt16BE(0, 10);
  const rr = Buffer.from([0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 1]);
  return Buffer.concat([head, rr]);
}

/** Opens one listener; resolves with its close function once it listens. */
function open({ kind, host, port }) {
  return new Promise((resolve, reject) => {
    if (kind === 'dns' || kind === 'udp') {
      const sock = createSocket(host.includes(':') ? 'udp6' : 'udp4');
      sock.on('message', (q, from) => sock.send(dnsAnswer(q), from.port, from.address));
      sock.once('error', reject);
      sock.bind(port, host, () => resolve(() => new Promise((r) => sock.close(() => r()))));
      return;
    }
    const server = kind === 'https'
      ? https.createServer({ key: readFileSync(`${certDir}/key.pem`), cert: readFileSync(`${certDir}/cert.pem`) }, web)
      : kind === 'http' ? http.createServer(web) : net.createServer(smtp);
    const sockets = new Set();
    server.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
    server.once('error', reject);
    server.listen(port, host, () => resolve(() => new Promise((r) => {
      server.close(() => r());
      for (const s of sockets) s.destroy();
    })));
  });
}

const open_ = new Map(); // host -> close functions
async function up(host) {
  const closes = await Promise.all(listeners.filter((l) => l.host === host).map(open));
  open_.set(host, closes);
}
async function down(host) {
  await Promise.all((open_.get(host) ?? []).map((c) => c()));
  open_.delete(host);
}

await Promise.all([...new Set(listeners.map((l) => l.host))].map(up));
process.stdout.write(`listening ${listeners.length}\n`);
// Commands run one after another, in order.
let chain = Promise.resolve();
createInterface({ input: process.stdin }).on('line', (line) => {
  const [cmd, host] = line.trim().split(/\s+/);
  chain = chain.then(() => (cmd === 'down' ? down(host) : up(host))).then(
    () => process.stdout.write(`${cmd} ${host}\n`),
    (e) => process.stdout.write(`failed ${cmd} ${host}: ${e.message}\n`),
  );
});
