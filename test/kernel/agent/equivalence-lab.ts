// One side of an equivalence run: a director namespace (keepalived's or ours) with the interfaces
// a configuration names, each a veth to a real-server namespace holding every real server
// address with the listeners its checks need. Each side is a LAN of its own, so keepalived and
// our agent each become MASTER alone and no address or VRRP router clashes with the other side.
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { run } from '../../lab/inside.js';
import { type Netns, Topology } from '../../lab/netns.js';
import { projectRoot } from '../../lab/paths.js';
import { spawnTracked } from '../../lab/reaper.js';
import { directorAddresses, normaliseTable, type Listener } from './equivalence-plan.js';

const serversScript = fileURLToPath(new URL('../../lab/check-servers.mjs', import.meta.url));

/** The lab's own addresses on a director (its source for checks, VRRP and routes), never a configuration's. */
export const labOwn = (a: string): boolean => a.startsWith('10.99.') || a.startsWith('fd00:99:');

/** A tracked process whose output is kept for failure messages. */
export interface Proc { child: ChildProcess; log: () => string; stop: () => Promise<void> }

export function startProc(n: Netns, name: string, command: string, args: string[]): Proc {
  const [cmd, ...rest] = n.command(command, args);
  const { child, stop } = spawnTracked(cmd as string, rest, { name, cwd: projectRoot, stdio: ['pipe', 'pipe', 'pipe'] });
  let log = '';
  const keep = (d: Buffer): void => {
    log = (log + String(d)).slice(-30_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return { child, log: () => log, stop };
}

export class Side {
  private servers: Proc | undefined;
  private constructor(readonly director: Netns, readonly rs: Netns) {}

  /** `prefix` is unique per side (it names the namespaces). One shell script per side: every exec is dear in the lab. */
  static async build(topo: Topology, prefix: string, interfaces: string[], hosts: string[]): Promise<Side> {
    const director = await topo.ns(`${prefix}d`);
    const rs = await topo.ns(`${prefix}s`);
    const [d, r] = [director.name as string, rs.name as string];
    // No duplicate address detection: addresses must be usable (and print alike) the moment they are added.
    const lines = [d, r].map((n) => `ip netns exec ${n} sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0`);
    for (const [i, dev] of interfaces.entries()) {
      const link = `l${i}`;
      lines.push(`ip link add ${dev} netns ${d} type veth peer name ${link} netns ${r}`);
      lines.push(`ip -n ${d} link set ${dev} up`, `ip -n ${r} link set ${link} up`);
      lines.push(`ip -n ${d} addr add 10.99.${i}.2/32 dev ${dev}`, `ip -n ${d} -6 addr add fd00:99::${i}:2/128 dev ${dev} nodad`);
      // Every real server address on every link: the director reaches them whichever way it routes.
      for (const h of hosts) lines.push(h.includes(':') ? `ip -n ${r} -6 addr add ${h}/128 dev ${link} nodad` : `ip -n ${r} addr add ${h}/32 dev ${link}`);
    }
    const dev = interfaces[0] as string;
    lines.push(`ip -n ${d} route add default dev ${dev}`, `ip -n ${d} -6 route add default dev ${dev}`);
    lines.push(`ip -n ${r} route add default dev l0`, `ip -n ${r} -6 route add default dev l0`);
    await run('sh', ['-ec', lines.join('\n')]);
    return new Side(director, rs);
  }

  async startServers(listeners: Listener[], certDir: string): Promise<void> {
    if (listeners.length === 0) return;
    const p = startProc(this.rs, `check servers ${this.rs.name}`, process.execPath, [serversScript, JSON.stringify(listeners), certDir]);
    this.servers = p;
    await this.expectLine('listening', 'check servers start');
  }

  private expectLine(start: string, what: string): Promise<void> {
    const p = this.servers as Proc;
    return new Promise((resolve, reject) => {
      const onData = (d: Buffer): void => {
        const text = String(d);
        if (text.includes('failed')) reject(new Error(`${what}: ${text}`));
        else if (text.split('\n').some((l) => l.startsWith(start))) resolve();
        else return;
        p.child.stdout?.off('data', onData);
      };
      p.child.stdout?.on('data', onData);
      p.child.once('close', (code) => reject(new Error(`${what}: the servers exited (${code}): ${p.log()}`)));
    });
  }

  /** Closes (down) or reopens (up) every listener of a real server address. */
  async set(state: 'down' | 'up', host: string): Promise<void> {
    const done = this.expectLine(`${state} ${host}`, `${state} ${host}`);
    this.servers?.child.stdin?.write(`${state} ${host}\n`);
    await done;
  }

  /** The director's normalised IPVS table and the addresses on its interfaces, in one exec. */
  async snapshot(): Promise<{ table: string[]; addresses: string[] }> {
    // nsenter, not `ip netns exec`: no private mount namespace and sysfs remount on every poll.
    const out = (await run('nsenter', [`--net=/run/netns/${this.director.name as string}`, 'sh', '-c', 'ipvsadm -S -n && echo @@ && ip -o addr show'])).stdout;
    const [table = '', addrs = ''] = out.split('@@\n');
    return { table: normaliseTable(table), addresses: directorAddresses(addrs, labOwn) };
  }

  async table(): Promise<string[]> {
    return (await this.snapshot()).table;
  }

  async stop(): Promise<void> {
    await this.servers?.stop();
  }
}
