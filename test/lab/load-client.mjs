// Steady load for no-drop tests: opens TCP connections to <host>:<port> back to back (each must
// be answered with a name) until <durationMs> has passed, then prints a JSON tally including
// failures ({"rs1": 120, "rs2": 240, "error:ECONNREFUSED": 0}).
import net from 'node:net';
const [host, port, durationMs, timeoutMs = '2000'] = process.argv.slice(2);
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
const end = Date.now() + Number(durationMs);
while (Date.now() < end) await once();
process.stdout.write(JSON.stringify(tally) + '\n');
