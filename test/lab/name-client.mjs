// Opens TCP connections to <host>:<port> one after another, each answered by a name server with
// its name, and prints a JSON tally of who answered ({"rs1": 3, "rs2": 3, "error:ECONNREFUSED": 1}).
// <limit> is a number of connections, or `<n>ms` to keep going for that long (steady load).
// <mode> `http` sends a GET on each connection and tallies the answer's body instead.
import net from 'node:net';
const [host, port, limit, timeoutMs = '3000', mode = 'name'] = process.argv.slice(2);
const tally = {};
const once = () => new Promise((resolve) => {
  let data = '';
  const sock = net.connect({ host, port: Number(port) });
  const done = (key) => { tally[key] = (tally[key] ?? 0) + 1; sock.destroy(); resolve(); };
  sock.setTimeout(Number(timeoutMs), () => done('error:timeout'));
  if (mode === 'http') sock.on('connect', () => sock.write(`GET / HTTP/1.0\r\nHost: ${host}\r\n\r\n`));
  sock.on('data', (d) => { data += d; });
  const answer = () => (mode === 'http' ? data.split('\r\n\r\n').slice(1).join('\r\n\r\n') : data).trim();
  sock.on('end', () => done(answer() || 'error:empty'));
  sock.on('error', (e) => done(`error:${e.code ?? e.message}`));
});
if (limit.endsWith('ms')) {
  const end = Date.now() + Number(limit.slice(0, -2));
  while (Date.now() < end) await once();
} else {
  for (let i = 0; i < Number(limit); i++) await once();
}
process.stdout.write(JSON.stringify(tally) + '\n');
