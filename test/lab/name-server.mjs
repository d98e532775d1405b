// A tiny TCP server for packet tests: answers every connection with its own name and closes.
// Usage: node name-server.mjs <listen-ip> <port> <name>
import net from 'node:net';
const [host, port, name] = process.argv.slice(2);
const server = net.createServer((sock) => {
  sock.on('error', () => {});
  sock.end(`${name}\n`);
});
server.listen(Number(port), host, () => process.stdout.write(`listening ${host}:${port}\n`));
