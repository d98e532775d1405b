// A real server: answers every line with "<name> <line>". Usage: node echo-server.mjs NAME PORT
import { createServer } from 'node:net';

const [name = 'rs', port = '80'] = process.argv.slice(2);
createServer((s) => {
  let buf = '';
  s.on('data', (d) => {
    buf += d.toString();
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      s.write(`${name} ${buf.slice(0, i)}\n`);
      buf = buf.slice(i + 1);
    }
  });
  s.on('error', () => s.destroy());
}).listen(Number(port), '0.0.0.0');
