// Opens <count> TCP connections to <host>:<port> one after another and prints a JSON tally of the
// names that answered ({"rs1": 3, "rs2": 3, "error:ECONNREFUSED": 1}).
import net from 'node:net';
const [host, port, count, timeoutMs = '3000'] = process.argv.slice(2);
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
for (let i = 0; i < Number(count); i++) await once();
process.stdout.write(JSON.stringify(tally) + '\n');
