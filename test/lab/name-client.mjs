// Opens TCP connections to <host>:<port> one after another, each answered by a name server with
// its name, and prints a JSON tally of who answered ({"rs1": 3, "rs2": 3, "error:ECONNREFUSED": 1}).
// <limit> is a number of connections, or `<n>ms` to keep going for that long (steady load).
import net from 'node:net';
const [host, port, limit, timeoutMs = '3000'] = process.argv.slice(2);
const tally = {};
const once = () => new Promise((resolve) => {
  let data = '';
  const sock = net.connect({ host, port: Number(port) });
  const done = (key) => { tally[key] = (tally[key] ?? 0) + 1; sock.destroy(); resolve(); };
  sock.setTimeout(Number(timeoutMs), () => done('error:timeout'));
  sock.on('data', (d) => { data += d; });
  sock.on('end', () => done(data.trim() || 'error:empty'));
  sock.on('error', (e) => done(`error:${e.code ?? e.message}`));
});
if (limit.endsWith('ms')) {
  const end = Date.now() + Number(limit.slice(0, -2));
  while (Date.now() < end) await once();
} else {
  for (let i = 0; i < Number(limit); i++) await once();
}
process.stdout.write(JSON.stringify(tally) + '\n');
