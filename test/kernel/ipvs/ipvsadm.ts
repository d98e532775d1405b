// An independent reading of the kernel table through ipvsadm (which has its own netlink code in
// libipvs): `ipvsadm -S -n` for the rules, `-L -n --thresholds` for the connection thresholds,
// `--timeout` and `--daemon`. The tests compare what our client reads and writes against this.
import { run } from '../../lab/inside.js';

export interface AdmDest {
  addr: string;
  port: number;
  fwd: 'masq' | 'route' | 'tunnel' | 'local';
  weight: number;
  upper: number;
  lower: number;
  /** e.g. "gue:6080:csum"; undefined unless tunnel options are printed */
  tunnel?: string;
}

export interface AdmService {
  /** "tcp 10.0.0.1:80", "udp [2001:db8::1]:53", "fwmark 7", "fwmark 7 ipv6" */
  id: string;
  scheduler: string;
  /** persistence timeout, when persistent */
  persistent?: number;
  /** as printed by -M: dotted mask for IPv4, prefix length for IPv6; undefined when default */
  netmask?: string;
  pe?: string;
  onePacket: boolean;
  /** sched flags normalised to sched1..3 */
  schedFlags: string[];
  dests: AdmDest[];
}

const SCHED_FLAG: Record<string, string> = {
  'flag-1': 'sched1', 'sh-fallback': 'sched1', 'mh-fallback': 'sched1',
  'flag-2': 'sched2', 'sh-port': 'sched2', 'mh-port': 'sched2',
  'flag-3': 'sched3',
};

function splitHostPort(s: string): [string, number] {
  const m = /^\[(.+)\]:(\d+)$/.exec(s) ?? /^([^:]+):(\d+)$/.exec(s);
  if (!m) throw new Error(`ipvsadm: cannot read address ${s}`);
  return [m[1]!, Number(m[2])];
}

function serviceId(tokens: string[], i: number, v6Flag: boolean): string {
  const opt = tokens[i]!;
  const arg = tokens[i + 1]!;
  if (opt === '-f') return `fwmark ${arg}${v6Flag ? ' ipv6' : ''}`;
  const proto = opt === '-t' ? 'tcp' : opt === '-u' ? 'udp' : opt === '--sctp-service' ? 'sctp' : undefined;
  if (!proto) throw new Error(`ipvsadm: unknown service option ${opt}`);
  const [addr, port] = splitHostPort(arg);
  return `${proto} ${addr.includes(':') ? `[${addr}]` : addr}:${port}`;
}

/** Parses `ipvsadm -S -n`. */
export function parseSave(text: string): Map<string, AdmService> {
  const services = new Map<string, AdmService>();
  for (const line of text.split('\n').map((l) => l.trim()).filter(Boolean)) {
    const t = line.split(/\s+/);
    const v6 = t.includes('-6');
    const id = serviceId(t, 1, v6);
    if (t[0] === '-A') {
      const s: AdmService = { id, scheduler: 'wlc', onePacket: false, schedFlags: [], dests: [] };
      for (let i = 3; i < t.length; i++) {
        const o = t[i]!;
        if (o === '-s') s.scheduler = t[++i]!;
        else if (o === '-p') s.persistent = Number(t[++i]);
        else if (o === '-M') s.netmask = t[++i]!;
        else if (o === '--pe') s.pe = t[++i]!;
        else if (o === '-o') s.onePacket = true;
        else if (o === '-b') s.schedFlags = t[++i]!.split(',').map((f) => SCHED_FLAG[f] ?? `?${f}`).sort();
        else if (o !== '-6') throw new Error(`ipvsadm -S: unknown service option ${o} in: ${line}`);
      }
      services.set(id, s);
    } else if (t[0] === '-a') {
      const s = services.get(id);
      if (!s) throw new Error(`ipvsadm -S: destination before its service: ${line}`);
      let addr = '';
      let port = 0;
      const d: AdmDest = { addr, port, fwd: 'route', weight: 1, upper: 0, lower: 0 };
      const tun: string[] = [];
      for (let i = 3; i < t.length; i++) {
        const o = t[i]!;
        if (o === '-r') [addr, port] = splitHostPort(t[++i]!);
        else if (o === '-m') d.fwd = 'masq';
        else if (o === '-g') d.fwd = 'route';
        else if (o === '-i') d.fwd = 'tunnel';
        else if (o === '-w') d.weight = Number(t[++i]);
        else if (o === '-x') d.upper = Number(t[++i]);
        else if (o === '-y') d.lower = Number(t[++i]);
        else if (o === '--tun-type') tun[0] = t[++i]!;
        else if (o === '--tun-port') tun[1] = t[++i]!;
        else if (o === '--tun-nocsum' || o === '--tun-csum' || o === '--tun-remcsum') tun[2] = o.slice(6);
        else if (o !== '-6') throw new Error(`ipvsadm -S: unknown destination option ${o} in: ${line}`);
      }
      d.addr = addr;
      d.port = port;
      if (tun.length > 0) d.tunnel = `${tun[0] ?? 'ipip'}:${tun[1] ?? '0'}:${tun[2] ?? 'nocsum'}`;
      s.dests.push(d);
    } else {
      throw new Error(`ipvsadm -S: unexpected line: ${line}`);
    }
  }
  return services;
}

/** Thresholds from `ipvsadm -L -n --thresholds`: service id -> "addr:port" -> [upper, lower]. */
export function parseThresholds(text: string): Map<string, Map<string, [number, number]>> {
  const out = new Map<string, Map<string, [number, number]>>();
  let current: Map<string, [number, number]> | undefined;
  for (const line of text.split('\n')) {
    const svc = /^(TCP|UDP|SCTP)\s+(\S+)\s/.exec(line) ?? /^(FWM)\s+(\d+)(\s+IPv6)?/.exec(line);
    if (svc) {
      const id = svc[1] === 'FWM' ? `fwmark ${svc[2]}${svc[3] ? ' ipv6' : ''}` : `${svc[1]!.toLowerCase()} ${svc[2]}`;
      current = new Map();
      out.set(id, current);
      continue;
    }
    const dest = /^\s+->\s+(\S+)\s+(\d+)\s+(\d+)\s+\d+\s+\d+/.exec(line);
    if (dest && current) current.set(dest[1]!, [Number(dest[2]), Number(dest[3])]);
  }
  return out;
}

/** The whole table through ipvsadm, thresholds merged in; services and destinations sorted. */
export async function ipvsadmTable(): Promise<AdmService[]> {
  const services = parseSave((await run('ipvsadm', ['-S', '-n'])).stdout);
  const thresholds = parseThresholds((await run('ipvsadm', ['-L', '-n', '--thresholds'])).stdout);
  for (const s of services.values()) {
    for (const d of s.dests) {
      const hp = d.addr.includes(':') ? `[${d.addr}]:${d.port}` : `${d.addr}:${d.port}`;
      const th = thresholds.get(s.id)?.get(hp);
      if (!th) throw new Error(`ipvsadm --thresholds lacks ${hp} of ${s.id}`);
      [d.upper, d.lower] = th;
    }
    s.dests.sort((a, b) => `${a.addr}:${a.port}`.localeCompare(`${b.addr}:${b.port}`));
  }
  return [...services.values()].sort((a, b) => a.id.localeCompare(b.id));
}

/** `ipvsadm -L --timeout`: "Timeout (tcp tcpfin udp): 900 120 300". */
export async function ipvsadmTimeouts(): Promise<{ tcp: number; tcpFin: number; udp: number }> {
  const out = (await run('ipvsadm', ['-L', '--timeout'])).stdout;
  const m = /Timeout \(tcp tcpfin udp\): (\d+) (\d+) (\d+)/.exec(out);
  if (!m) throw new Error(`ipvsadm --timeout: unexpected output: ${out}`);
  return { tcp: Number(m[1]), tcpFin: Number(m[2]), udp: Number(m[3]) };
}

/** `ipvsadm -L --daemon`: one line per running daemon. */
export async function ipvsadmDaemons(): Promise<{ state: string; ifn: string; syncId: number; maxlen: number; group: string; port: number; ttl: number }[]> {
  const out = (await run('ipvsadm', ['-L', '-n', '--daemon'])).stdout;
  const re = /(master|backup) sync daemon \(mcast=(\S+), syncid=(\d+), maxlen=(\d+), group=(\S+), port=(\d+), ttl=(\d+)\)/g;
  return [...out.matchAll(re)].map((m) => ({
    state: m[1]!, ifn: m[2]!, syncId: Number(m[3]), maxlen: Number(m[4]), group: m[5]!, port: Number(m[6]), ttl: Number(m[7]),
  }));
}

/** `ipvsadm -L -n` header: "IP Virtual Server version 1.2.1 (size=4096)". */
export async function ipvsadmVersion(): Promise<{ version: string; size: number }> {
  const out = (await run('ipvsadm', ['-L', '-n'])).stdout;
  const m = /IP Virtual Server version (\S+) \(size=(\d+)\)/.exec(out);
  if (!m) throw new Error(`ipvsadm -L: unexpected header: ${out.split('\n')[0]}`);
  return { version: m[1]!, size: Number(m[2]) };
}

/** `ipvsadm -L -n --stats --exact`: service or destination line -> conns, inpkts. */
export async function ipvsadmConns(): Promise<Map<string, { conns: number; inPkts: number }>> {
  const out = (await run('ipvsadm', ['-L', '-n', '--stats', '--exact'])).stdout;
  const res = new Map<string, { conns: number; inPkts: number }>();
  for (const line of out.split('\n')) {
    const m = /^(?:TCP|UDP|SCTP|FWM)\s+(\S+)\s+(\d+)\s+(\d+)/.exec(line) ?? /^\s+->\s+(\S+)\s+(\d+)\s+(\d+)/.exec(line);
    if (m) res.set(m[1]!, { conns: Number(m[2]), inPkts: Number(m[3]) });
  }
  return res;
}
