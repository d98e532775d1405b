// Traffic for failover drills (e2e/failover.test.ts, bench/failover.ts), one process per role:
//   server <ip> <port> <name>            answers each line with "<name> <line>" (connections stay open)
//   hold <ip> <port> <count> <everyMs>   keeps <count> connections open, each sends a line every
//                                        <everyMs> and expects its echo; prints {"ev":"ready"} once every
//                                        connection has been answered, and a JSON report on each stdin line
//   probe <ip> <port> <everyMs> <timeoutMs>  starts a fresh connection every <everyMs> (overlapping),
//                                        prints {"ev":"probe","start":ms,"end":ms,"ok":bool,"by":name,"why"?:failure}
// A connection of `hold` is lost when it closes, errors or leaves a line unanswered for 15 s.
import net from 'node:net';
import { createInterface } from 'node:readline';

const [mode, host = '', portText = '0', a = '', b = ''] = process.argv.slice(2);
const port = Number(portText);
const out = (o) => process.stdout.write(`${JSON.stringify(o)}\n`);

if (mode === 'server') {
  const server = net.createServer((sock) => {
    sock.on('error', () => {});
    // readline re-emits the socket's errors (a client killed mid-connection resets it).
    createInterface({ input: sock }).on('error', () => {}).on('line', (line) => sock.write(`${a} ${line}\n`));
  });
  server.listen(port, host, () => out({ ev: 'listening' }));
} else if (mode === 'hold') {
  const count = Number(a);
  const everyMs = Number(b);
  const conns = [];
  let ready = false;
  for (let i = 0; i < count; i++) {
    const c = { id: i, sent: 0, answered: 0, by: '', lost: '', lostAt: 0, port: 0, lastAnswer: 0, maxGapMs: 0, pending: 0 };
    conns.push(c);
    const sock = net.connect({ host, port, noDelay: true });
    c.sock = sock;
    const lose = (why) => { if (!c.lost) { c.lost = why; c.lostAt = Date.now(); } };
    sock.on('error', (e) => lose(`error:${e.code ?? e.message}`));
    sock.on('close', () => lose('closed'));
    createInterface({ input: sock }).on('error', () => {}).on('line', (line) => {
      const now = Date.now();
      if (c.lastAnswer) c.maxGapMs = Math.max(c.maxGapMs, now - c.lastAnswer);
      c.lastAnswer = now;
      c.answered++;
      c.pending = 0;
      c.by = line.split(' ')[0];
      if (!ready && conns.every((x) => x.answered > 0)) { ready = true; out({ ev: 'ready' }); }
    });
    sock.on('connect', () => {
      c.port = sock.localPort;
      const tick = () => {
        if (c.lost) return;
        if (c.pending && Date.now() - c.pending > 15_000) { lose('timeout'); sock.destroy(); return; }
        if (!c.pending) c.pending = Date.now();
        sock.write(`ping ${c.id} ${c.sent++}\n`);
        setTimeout(tick, everyMs);
      };
      tick();
    });
  }
  const report = () => ({
    ev: 'report',
    established: conns.filter((c) => c.answered > 0).length,
    lost: conns.filter((c) => c.lost).length,
    reasons: conns.filter((c) => c.lost).map((c) => c.lost),
    maxGapMs: Math.max(0, ...conns.map((c) => c.maxGapMs)),
    answered: conns.reduce((n, c) => n + c.answered, 0),
    by: conns.map((c) => c.by),
    ports: conns.map((c) => c.port),
    // Which connections were lost, when, and through which real server: ties a loss to a handover.
    lostDetail: conns.filter((c) => c.lost).map((c) => ({ port: c.port, by: c.by, at: new Date(c.lostAt).toISOString(), why: c.lost })),
  });
  createInterface({ input: process.stdin }).on('line', () => out(report()));
  process.stdin.on('end', () => { out(report()); process.exit(0); });
} else if (mode === 'probe') {
  const everyMs = Number(a);
  const timeoutMs = Number(b);
  const once = () => {
    const start = Date.now();
    let data = '';
    let done = false;
    const sock = net.connect({ host, port });
    let connected = false;
    // `why` tells a failure's kind: a reset before or after the handshake, a timeout, a close.
    const finish = (ok, why) => {
      if (done) return;
      done = true;
      sock.destroy();
      out({ ev: 'probe', start, end: Date.now(), ok, by: ok ? data.trim().split(' ')[0] : '', ...(ok ? {} : { why: `${why}${connected ? ' after connect' : ''}` }) });
    };
    sock.setTimeout(timeoutMs, () => finish(false, 'timeout'));
    sock.on('connect', () => { connected = true; sock.write('probe\n'); });
    sock.on('data', (d) => { data += d; if (data.includes('\n')) finish(true); });
    sock.on('error', (e) => finish(false, e.code ?? 'error'));
    sock.on('close', () => finish(false, 'closed'));
  };
  setInterval(once, everyMs);
  process.stdin.on('end', () => process.exit(0));
  process.stdin.resume();
} else {
  process.stderr.write('usage: failover-traffic.mjs server|hold|probe ...\n');
  process.exit(2);
}
