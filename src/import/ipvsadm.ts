import { schedulerFlags, schedulers } from '../api/index.js';
import type { Findings, Place } from './finding.js';
import type { Drafts, ServiceDraft } from './drafts.js';
import { objectName } from './names.js';
import { isAddress, readUnsigned } from './values.js';

// `ipvsadm -S -n` (and the same commands typed with an `ipvsadm` in front, as articles print
// them): -A adds a service, -a a destination of the service named by the same -t/-u/--sctp-service/-f.

interface Parsed {
  cmd: 'A' | 'a' | 'other';
  key?: string;
  service?: { vip?: string; port?: number; protocol?: string; fwmark?: number };
  opts: Map<string, string | true>;
}

const longNames: Record<string, string> = {
  '--add-service': 'A',
  '--add-server': 'a',
  '--tcp-service': 't',
  '--udp-service': 'u',
  '--sctp-service': 'sctp',
  '--fwmark-service': 'f',
  '--scheduler': 's',
  '--sched-flags': 'b',
  '--persistent': 'p',
  '--netmask': 'M',
  '--ops': 'o',
  '--real-server': 'r',
  '--gatewaying': 'g',
  '--masquerading': 'm',
  '--ipip': 'i',
  '--weight': 'w',
  '--u-threshold': 'x',
  '--l-threshold': 'y',
  '--ipv6': '6',
};
const takesValue = new Set(['t', 'u', 'sctp', 'f', 's', 'b', 'M', 'r', 'w', 'x', 'y', 'tun-type', 'tun-port', 'pe']);

/** `[2001:db8::1]:80` / `10.0.0.1:80` -> address and port. */
function hostPort(text: string): { address: string; port: number } | undefined {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(text) ?? /^([^:]+):(\d+)$/.exec(text) ?? /^\[([^\]]+)\]$/.exec(text) ?? /^([^:]+)$/.exec(text);
  if (!m || !isAddress(m[1])) return undefined;
  const port = m[2] === undefined ? 0 : readUnsigned(m[2], 0, 65535);
  return port === undefined ? undefined : { address: m[1] as string, port };
}

function parseLine(words: string[], at: Place, findings: Findings): Parsed | undefined {
  const opts = new Map<string, string | true>();
  let cmd: Parsed['cmd'] = 'other';
  for (let i = 0; i < words.length; i++) {
    let w = words[i] as string;
    if (longNames[w]) w = `-${longNames[w]}`;
    else if (w.startsWith('--')) w = `-${w.slice(2)}`;
    if (!w.startsWith('-')) {
      findings.error(at, `unexpected '${w}': line skipped`);
      return undefined;
    }
    const name = w.slice(1);
    if (name === 'A' || name === 'a') cmd = name;
    else if (['E', 'e', 'D', 'd', 'C', 'R', 'S', 'L', 'l', 'Z'].includes(name)) cmd = 'other';
    else if (name === 'p') {
      const next = words[i + 1];
      opts.set('p', next !== undefined && /^\d+$/.test(next) ? ((i += 1), next) : true);
    } else if (takesValue.has(name)) {
      const v = words[++i];
      if (v === undefined) {
        findings.error(at, `${w} without a value: line skipped`);
        return undefined;
      }
      opts.set(name, v);
    } else opts.set(name, true);
  }
  const p: Parsed = { cmd, opts };
  for (const [flag, protocol] of [['t', 'TCP'], ['u', 'UDP'], ['sctp', 'SCTP']] as const) {
    const v = opts.get(flag);
    if (typeof v !== 'string') continue;
    const hp = hostPort(v);
    if (!hp) {
      findings.error(at, `'${v}' is not address:port: line skipped`);
      return undefined;
    }
    p.service = { vip: hp.address, port: hp.port, protocol };
    p.key = `${protocol} ${hp.address}:${hp.port}`;
  }
  const f = opts.get('f');
  if (typeof f === 'string') {
    const mark = readUnsigned(f, 1, 4294967295);
    if (mark === undefined) {
      findings.error(at, `fwmark '${f}' is invalid: line skipped`);
      return undefined;
    }
    p.service = { fwmark: mark };
    p.key = `FWM ${mark} ${opts.has('6') ? 'IPv6' : 'IPv4'}`;
  }
  return p;
}

function methodOf(opts: Map<string, string | true>): string {
  return opts.has('g') ? 'DR' : opts.has('i') ? 'TUN' : 'NAT';
}

/** An ipvsadm save to drafts: services without health checks (ipvsadm has none). */
export function translateIpvsadm(text: string, file: string, findings: Findings): Drafts {
  const drafts: Drafts = { groups: [], services: [], realServers: [], syncGroups: [] };
  const services = new Map<string, ServiceDraft>();
  text.split(/\r?\n/).forEach((raw, index) => {
    const at = { file, line: index + 1 };
    const line = raw.replace(/#.*/, '').trim();
    if (line === '') return;
    const words = line.split(/\s+/);
    if (words[0] === 'ipvsadm') words.shift();
    const p = parseLine(words, at, findings);
    if (!p) return;
    if (p.cmd === 'other') {
      findings.warn(at, 'not an add command (-A or -a): skipped; an ipvsadm save has only those');
      return;
    }
    if (!p.service || !p.key) {
      findings.error(at, 'no service (-t, -u, --sctp-service or -f): line skipped');
      return;
    }
    if (p.cmd === 'A') {
      if (p.opts.has('r')) {
        findings.error(at, '-r with -A: ipvsadm refuses it; line skipped');
        return;
      }
      if (services.has(p.key)) {
        findings.error(at, `${p.key} is added twice: ipvsadm refuses the second (File exists); skipped`);
        return;
      }
      const spec: Record<string, unknown> = {};
      const s = p.service;
      if (s.fwmark !== undefined) {
        spec.fwmark = s.fwmark;
        if (p.opts.has('6')) spec.addressFamily = 'IPv6';
      } else {
        if (s.port === 0) {
          findings.error(at, 'port 0 (every port) is not carried: the API needs a port; use a fwmark service');
          return;
        }
        Object.assign(spec, { vip: s.vip, port: s.port, protocol: s.protocol });
      }
      const sched = p.opts.get('s');
      // ipvsadm's default scheduler is wlc, as ours; written out all the same.
      spec.scheduler = typeof sched === 'string' ? sched : 'wlc';
      if (typeof sched === 'string' && !(schedulers as readonly string[]).includes(sched)) findings.error(at, `scheduler ${sched} is not an IPVS scheduler`);
      const b = p.opts.get('b');
      if (typeof b === 'string') {
        // flag-1/flag-2 are the bits sh and mh read as fallback/port; other schedulers read none.
        const named = b.split(',').map((f) => (f === 'flag-1' ? `${spec.scheduler}-fallback` : f === 'flag-2' ? `${spec.scheduler}-port` : f));
        const kept = named.filter((f) => f.startsWith(`${spec.scheduler}-`) && (schedulerFlags as readonly string[]).includes(f));
        for (const f of named.filter((x) => !kept.includes(x))) findings.warn(at, `-b ${f} is not carried: scheduler ${spec.scheduler} does not read it`);
        if (kept.length > 0) spec.schedulerFlags = [...new Set(kept)];
      }
      const persist = p.opts.get('p');
      if (persist !== undefined) spec.persistence = { timeoutSeconds: persist === true ? 300 : Number(persist) };
      const mask = p.opts.get('M');
      if (typeof mask === 'string' && spec.persistence) (spec.persistence as Record<string, unknown>).netmask = /^\d+$/.test(mask) ? Number(mask) : mask;
      else if (typeof mask === 'string') findings.warn(at, `-M ${mask} without -p is not carried: a netmask only groups persistent clients`);
      if (p.opts.has('o')) spec.onePacket = true;
      if (p.opts.has('pe')) findings.error(at, '--pe is not carried: the API has no persistence engines');
      spec.forwarding = { method: 'NAT' };
      spec.healthCheck = { type: 'None' };
      spec.inhibitOnFailure = false;
      const name = s.fwmark !== undefined ? objectName('fwm', s.fwmark) : objectName(s.protocol ?? '', s.vip ?? '', s.port ?? 0);
      spec.backends = { realServerSelector: { matchLabels: { 'lvs.dev/imported-from': name } } };
      const draft: ServiceDraft = { at, name, spec, selector: name };
      services.set(p.key, draft);
      drafts.services.push(draft);
      findings.info(at, 'ipvsadm has no health checks: healthCheck type None keeps every real server in, as the table did; add a check to get keepalived-like failover of real servers');
      return;
    }
    if (p.opts.has('s')) {
      findings.error(at, '-s with -a: ipvsadm refuses a scheduler on a real server (-A adds a service); line skipped');
      return;
    }
    const svc = services.get(p.key);
    if (!svc) {
      findings.error(at, `${p.key} was not added before (-A): ipvsadm refuses a destination of a missing service; skipped`);
      return;
    }
    const r = p.opts.get('r');
    const hp = typeof r === 'string' ? hostPort(r) : undefined;
    if (!hp) {
      findings.error(at, typeof r === 'string' ? `'${r}' is not an address[:port]: skipped` : '-a without -r: skipped');
      return;
    }
    const method = methodOf(p.opts);
    const spec: Record<string, unknown> = { address: hp.address, weight: 1, forwarding: { method } };
    const w = p.opts.get('w');
    if (typeof w === 'string') spec.weight = Number(w);
    const x = p.opts.get('x');
    const y = p.opts.get('y');
    if (typeof x === 'string' && Number(x) > 0) spec.upperThreshold = Number(x);
    if (typeof y === 'string' && Number(y) > 0) spec.lowerThreshold = Number(y);
    const tun = p.opts.get('tun-type');
    if (typeof tun === 'string') {
      const f = spec.forwarding as Record<string, unknown>;
      f.tunnelType = tun;
      const port = p.opts.get('tun-port');
      if (typeof port === 'string') f.tunnelPort = Number(port);
      for (const flag of ['nocsum', 'csum', 'remcsum']) if (p.opts.has(`tun-${flag}`)) f.tunnelFlags = [flag];
    }
    const svcPort = svc.spec.port as number | undefined;
    if (method === 'NAT') {
      if (hp.port !== 0) spec.port = hp.port;
    } else if (hp.port !== 0 && svcPort !== undefined && hp.port !== svcPort) {
      findings.warn(at, `port ${hp.port} under ${method}: DR and TUN cannot map ports (the kernel delivers the service port); left out`);
    }
    drafts.realServers.push({ at, name: objectName(svc.name, hp.address, hp.port), selector: svc.selector, spec });
  });
  if (drafts.services.length === 0) findings.warn({ file, line: 1 }, 'no service (-A) found');
  hoistForwarding(drafts);
  return drafts;
}

/** ipvsadm sets the method per destination; when all of a service's agree it goes on the service. */
function hoistForwarding(drafts: Drafts): void {
  for (const svc of drafts.services) {
    const mine = drafts.realServers.filter((r) => r.selector === svc.selector);
    const methods = new Set(mine.map((r) => JSON.stringify(r.spec.forwarding)));
    if (methods.size !== 1) continue;
    svc.spec.forwarding = mine[0]?.spec.forwarding;
    for (const r of mine) delete r.spec.forwarding;
  }
}

/** An ipvsadm dump is lines of options; keepalived.conf has keywords and blocks. */
export function looksLikeIpvsadm(text: string): boolean {
  const lines = text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
  return lines.length > 0 && lines.every((l) => /^(ipvsadm\s+)?-/.test(l));
}
