// A real server for the health-check kernel tests: HTTP or HTTPS (optionally requiring a client
// certificate) whose answers the test sets per path over stdin, logging every request as
// "<name> <path> <status> <client address>" to a shared file, so tests count probe arrivals in arrival order.
// argv: scheme host port name logFile [certDir] [clientCaFile]
// stdin lines: "status <path> <code>" | "body <path> <text...>"
import { appendFileSync, readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const [scheme, host, port, name, logFile, certDir = '', clientCa = ''] = process.argv.slice(2);
const status = new Map();
const body = new Map();
const handler = (req, res) => {
  const path = (req.url ?? '/').split('?')[0];
  const code = status.get(path) ?? 200;
  appendFileSync(logFile, `${name} ${path} ${code} ${req.socket.remoteAddress}\n`);
  res.writeHead(code, { 'Content-Type': 'text/plain' });
  res.end(body.get(path) ?? `${name}\n`);
};
const server = scheme === 'https'
  ? https.createServer({
    key: readFileSync(join(certDir, 'key.pem')), cert: readFileSync(join(certDir, 'cert.pem')),
    ...(clientCa ? { requestCert: true, rejectUnauthorized: true, ca: readFileSync(clientCa) } : {}),
  }, handler)
  : http.createServer(handler);
// A refused client certificate never reaches the handler: log the handshake failure instead.
server.on('tlsClientError', (_err, socket) => appendFileSync(logFile, `${name} tls refused ${socket.remoteAddress}\n`));
server.listen(Number(port), host, () => process.stdout.write('listening\n'));
createInterface({ input: process.stdin }).on('line', (line) => {
  const [cmd, path, ...rest] = line.split(' ');
  if (cmd === 'status') status.set(path, Number(rest[0]));
  if (cmd === 'body') body.set(path, rest.join(' '));
});
