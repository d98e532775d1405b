// HTTP or HTTPS server for health-check tests: answers GET with its name and a status that can
// be changed at run time by writing a number to its stdin.
// Usage: node http-server.mjs <http|https> <listen-ip> <port> <name> [status] [certDir]
import http from 'node:http';
import https from 'node:https';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';

const [scheme, host, port, name, status = '200', certDir] = process.argv.slice(2);
let code = Number(status);
const handler = (req, res) => {
  res.writeHead(code, { 'content-type': 'text/plain', connection: 'close' });
  res.end(`${name}\n`);
};
const server = scheme === 'https'
  ? https.createServer({ key: readFileSync(`${certDir}/key.pem`), cert: readFileSync(`${certDir}/cert.pem`) }, handler)
  : http.createServer(handler);
createInterface({ input: process.stdin }).on('line', (l) => { code = Number(l.trim()) || code; });
server.listen(Number(port), host, () => process.stdout.write(`listening ${host}:${port}\n`));
