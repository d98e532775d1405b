// One of our VRRP routers as its own process, so a test can run it inside a network namespace
// (`ip netns exec NS node --import tsx speaker-proc.ts '<json>'`) and kill it like a real crash.
// Prints JSON lines with an "ev" field: ready, transition, status, stopped. SIGTERM stops it
// gracefully (priority 0 adverts, VIPs removed); stdin lines {"cmd":"status"} or
// {"cmd":"priority","name":...,"value":...} query or change it; {"cmd":"block","value":ms} holds
// the event loop up for that long (a busy agent), as a stall on a loaded node would.
import { createInterface } from 'node:readline';
import { RtLinkClient } from '../../../src/link/index.js';
import { LinkTakeover, NetlinkLinkMonitor, PacketAnnouncer, SerialLinkClient, VrrpSpeaker, type VrrpInstanceSpec } from '../../../src/vrrp/runtime/index.js';

const { specs } = JSON.parse(process.argv[2] ?? '{}') as { specs: VrrpInstanceSpec[] };
const print = (o: object): void => {
  process.stdout.write(`${JSON.stringify({ ...o, t: Date.now() })}\n`);
};

// One netlink socket, one request at a time (see SerialLinkClient).
const link = new SerialLinkClient(new RtLinkClient());
const announcer = new PacketAnnouncer(link);
// rtnetlink link notifications: FAULT and track_interface, as the agent runs them.
const links = await NetlinkLinkMonitor.open();
const speaker = new VrrpSpeaker({
  link,
  links,
  actions: new LinkTakeover({
    link,
    announcer,
    onMaster: (ctx) => print({ ev: 'vips-up', instance: ctx.instance }),
    onBackup: (ctx) => print({ ev: 'vips-down', instance: ctx.instance }),
  }),
});
speaker.on('transition', (e) => print({ ev: 'transition', ...e, at: e.at.getTime() }));
speaker.on('actionError', (e) => print({ ev: 'action-error', instance: e.instance, action: e.action, error: String(e.error) }));

let stopping = false;
process.on('SIGTERM', () => {
  if (stopping) return;
  stopping = true;
  void speaker.stop().then(() => {
    print({ ev: 'stopped', stats: speaker.stats() });
    announcer.close();
    link.close();
    links.close();
    process.exit(0);
  });
});

createInterface({ input: process.stdin }).on('line', async (line) => {
  try {
    const c = JSON.parse(line) as { cmd: string; name?: string; value?: number };
    if (c.cmd === 'priority') speaker.setPriority(c.name ?? '', c.value ?? 0);
    if (c.cmd === 'offset') speaker.setPriorityOffset(c.name ?? '', c.value ?? 0);
    if (c.cmd === 'refresh') await speaker.refreshLinks();
    if (c.cmd === 'block') {
      // From setImmediate (the check phase), not from this stdin callback (the poll phase, where
      // a VRRP socket made ready in the same epoll batch would be read right after it): the next
      // loop turn then runs the overdue Master_Down timer before it polls any socket, as after a
      // stall anywhere else in the agent.
      await new Promise<void>((done) => setImmediate(() => {
        const until = performance.now() + (c.value ?? 0);
        while (performance.now() < until) { /* held up: timers expire, packets wait in the socket */ }
        done();
      }));
    }
    print({ ev: 'status', status: speaker.status(), stats: speaker.stats(), announced: announcer.sent });
  } catch (err) {
    print({ ev: 'command-error', error: String(err) });
  }
});

for (const s of specs) await speaker.addInstance(s);
print({ ev: 'ready' });
