// The client: long-lived flows that send a line every 100 ms and new connections (connect, one
// line, close) every 100 ms, to HOST:PORT. Commands on stdin, one JSON answer line on stdout each:
//   open N    open N long-lived flows; answers when all are established
//   report    counters: flows alive and lost (reset, closed, error), new connections ok/failed
//             and the longest pause between two answers of a flow, since the last report
//   probe     every live flow must echo one more line; answers with the flows that did not
//             within 15 s (TCP's backoff by then: the flow is dead): {"silent": [...]}
// Usage: node flows.mjs HOST PORT
import { connect } from 'node:net';
import { createInterface } from 'node:readline';

const [host = '', port = '80'] = process.argv.slice(2);
const FLOW_PORT_BASE = 20000;
const flows = [];
let newOk = 0;
let newFailed = 0;
const failures = [];

function openFlow(id) {
  return new Promise((resolve) => {
    const f = { id, sock: undefined, lost: undefined, sent: 0, echoed: 0, server: undefined, waiters: [], lastEcho: 0, maxGap: 0 };
    // Below the ephemeral range (32768-60999): a new connection never reuses the 5-tuple of a
    // flow that was reset. The director keeps such a flow's IPVS entry (ESTABLISHED, 15 min) bound
    // to its real server, and with expire_nodest_conn at its default 0 the kernel drops a SYN that
    // matches it while that server is out of the service: the client's port allocator comes
    // round to those ports every few minutes at 10 connections a second, which made new
    // connections fail after rs3 came back only because the test reused the tuples it had killed.
    const s = connect({ host, port: Number(port), localPort: FLOW_PORT_BASE + id });
    f.sock = s;
    let buf = '';
    s.setNoDelay(true);
    s.on('connect', () => {
      f.sport = s.localPort;
      f.timer = setInterval(() => { s.write(`${id} ${++f.sent}\n`); }, 100);
      resolve(f);
    });
    s.on('data', (d) => {
      buf += d.toString();
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        const now = Date.now();
        if (f.lastEcho) f.maxGap = Math.max(f.maxGap, now - f.lastEcho);
        f.lastEcho = now;
        f.server = line.split(' ')[0];
        f.echoed = Number(line.split(' ')[2]);
        f.waiters = f.waiters.filter((w) => !w());
      }
    });
    const lose = (why) => {
      if (f.lost) return;
      f.lost = why;
      clearInterval(f.timer);
      f.waiters.forEach((w) => w());
      resolve(f);
    };
    s.on('error', (e) => lose(e.code ?? String(e)));
    s.on('close', () => lose('closed'));
    flows.push(f);
  });
}

function newConnection() {
  const started = Date.now();
  const s = connect({ host, port: Number(port) });
  // The kernel binds the source port at connect(), which net runs in the first tick for an IP
  // address: read it in the next one, before a refusal closes the handle, so a failure can be
  // traced to the director the router chose and to that director's IPVS entry.
  let sport;
  process.nextTick(() => { sport ??= s.address()?.port; });
  let done = false;
  const finish = (ok, why) => {
    if (done) return;
    done = true;
    clearTimeout(t);
    sport ??= s.address()?.port;
    s.destroy();
    if (ok) newOk++;
    else { newFailed++; failures.push({ why, sport, at: new Date(started).toISOString(), ms: Date.now() - started }); }
  };
  // TCP retries a lost SYN at 1 s and 3 s: a connection counts as failed when it got an error or
  // no answer after those retries (the route moved within them in every scenario of the recipe).
  const t = setTimeout(() => finish(false, 'no answer in 10 s'), 10_000);
  s.on('connect', () => s.write('hello\n'));
  s.on('data', () => finish(true));
  s.on('error', (e) => finish(false, e.code ?? String(e)));
}
setInterval(newConnection, 100);

const answer = (o) => process.stdout.write(`${JSON.stringify(o)}\n`);
createInterface({ input: process.stdin }).on('line', async (line) => {
  const [cmd, arg] = line.trim().split(/\s+/);
  if (cmd === 'open') {
    const n = Number(arg);
    const start = flows.length;
    await Promise.all(Array.from({ length: n }, (_, i) => openFlow(start + i)));
    answer({ opened: n, lost: flows.filter((f) => f.lost).length });
  } else if (cmd === 'report') {
    const lost = flows.filter((f) => f.lost);
    const byServer = {};
    for (const f of flows) if (!f.lost && f.server) byServer[f.server] = (byServer[f.server] ?? 0) + 1;
    // The longest pause between two answers of any flow since the last report: how long the
    // flows of a director that went away stalled before they moved.
    const stallMs = Math.max(0, ...flows.map((f) => f.maxGap));
    for (const f of flows) f.maxGap = 0;
    answer({ flows: flows.length, alive: flows.length - lost.length, lost: lost.map((f) => ({ id: f.id, why: f.lost })), byServer, newOk, newFailed, failures: failures.splice(0), stallMs });
    newOk = 0;
    newFailed = 0;
  } else if (cmd === 'probe') {
    const live = flows.filter((f) => !f.lost);
    const silent = [];
    await Promise.all(live.map((f) => new Promise((res) => {
      const want = f.sent + 1;
      const check = () => {
        if (f.lost) { silent.push(f.id); res(); return true; }
        if (f.echoed >= want) { res(); return true; }
        return false;
      };
      if (check()) return;
      f.waiters.push(check);
      setTimeout(() => { if (f.waiters.includes(check)) { f.waiters = f.waiters.filter((w) => w !== check); silent.push(f.id); res(); } }, 15_000);
    })));
    answer({ probed: live.length, silent });
  } else if (cmd === 'sports') {
    answer({ sports: flows.filter((f) => !f.lost).map((f) => f.sport) });
  }
});
