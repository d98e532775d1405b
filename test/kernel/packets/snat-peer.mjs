// Peers for the source-NAT tests: a server that answers each line with its name and the address
// the connection came from, and clients that count those answers or hold one connection open.
//   server <ip> <port> <name>   answers "<name> <peer-address> <line>"; ends after the line "close"
//   tally <ip> <port> <count>   <count> connections one after another; prints {"rs1 10.0.0.1": 3}
//   hold <ip> <port>            one connection; sends stdin lines, prints the answers
import net from 'node:net';
import { createInterface } from 'node:readline';
const [mode, host, port, arg] = process.argv.slice(2);

if (mode === 'server') {
  const server = net.createServer((sock) => {
    sock.on('error', () => {});
    createInterface({ input: sock }).on('line', (line) => {
      const peer = sock.remoteAddress.replace(/^::ffff:/, '');
      if (line === 'close') sock.end(`${arg} ${peer}\n`);
      else sock.write(`${arg} ${peer} ${line}\n`);
    });
  });
  server.listen(Number(port), host, () => process.stdout.write(`listening ${host}:${port}\n`));
} else if (mode === 'tally') {
  const tally = {};
  for (let i = 0; i < Number(arg); i++) {
    await new Promise((resolve) => {
      let data = '';
      const sock = net.connect({ host, port: Number(port) }, () => sock.write('close\n'));
      const done = (key) => { tally[key] = (tally[key] ?? 0) + 1; sock.destroy(); resolve(); };
      sock.setTimeout(3000, () => done('error:timeout'));
      sock.on('data', (d) => { data += d; });
      sock.on('end', () => done(data.trim() || 'error:empty'));
      sock.on('error', (e) => done(`error:${e.code ?? e.message}`));
    });
  }
  process.stdout.write(JSON.stringify(tally) + '\n');
} else if (mode === 'hold') {
  const sock = net.connect({ host, port: Number(port) }, () => process.stdout.write('connected\n'));
  // A line unanswered this long is reported, so a broken connection reads as an answer too.
  sock.setTimeout(5000, () => process.stdout.write('error:timeout\n'));
  sock.on('error', (e) => { process.stdout.write(`error:${e.code ?? e.message}\n`); process.exit(1); });
  sock.on('close', () => { process.stdout.write('closed\n'); process.exit(0); });
  sock.pipe(process.stdout);
  createInterface({ input: process.stdin }).on('line', (line) => sock.write(`${line}\n`));
}
