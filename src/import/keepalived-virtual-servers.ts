import { schedulers } from '../api/index.js';
import type { Findings, Place } from './finding.js';
import type { ConfNode } from './keepalived-reader.js';
import { type CheckTimers, isChecker, readTimer, translateCheckers } from './keepalived-checks.js';
import type { Drafts, ServiceDraft } from './drafts.js';
import { objectName } from './names.js';
import { addressOf, isAddress, readUnsigned } from './values.js';
import { reportUnknown } from './not-carried.js';

/** One entry of a virtual_server_group, or the address of a plain virtual_server. */
type Target = { vip: string; port: number; at: Place } | { fwmark: number; at: Place };

const maxRange = 256;

function v4Number(a: string): number {
  return a.split('.').reduce((n, o) => n * 256 + Number(o), 0);
}
function v4Text(n: number): string {
  return [24, 16, 8, 0].map((s) => String(Math.floor(n / 2 ** s) % 256)).join('.');
}

/**
 * The address forms of a virtual_server_group entry (check_data.c): one address, `10.0.0.1-10`
 * (the last IPv4 octet, or IPv6 group in hex, runs up to the number), `10.0.0.1-10.0.0.9` and
 * `10.0.0.0/29`; at most 256 addresses, one VirtualService each.
 */
function expandRange(text: string): string[] | undefined {
  if (isAddress(text)) return [text];
  const cidr = /^([0-9.]+)\/(\d+)$/.exec(text);
  if (cidr && isAddress(cidr[1])) {
    const bits = Number(cidr[2]);
    const start = v4Number(cidr[1] as string);
    const size = 2 ** (32 - bits);
    if (bits < 1 || bits > 32 || start % size !== 0 || size > maxRange) return undefined;
    return Array.from({ length: size }, (_, i) => v4Text(start + i));
  }
  const full = /^([0-9.]+)-([0-9.]+\.[0-9.]+)$/.exec(text);
  if (full && isAddress(full[1]) && isAddress(full[2])) {
    const lo = v4Number(full[1] as string);
    const hi = v4Number(full[2] as string);
    if (hi < lo || hi - lo >= maxRange) return undefined;
    return Array.from({ length: hi - lo + 1 }, (_, i) => v4Text(lo + i));
  }
  const m = /^(.*[.:])([0-9a-fA-F]+)-([0-9a-fA-F]+)$/.exec(text);
  if (!m) return undefined;
  const base = (m[1] as string).includes(':') ? 16 : 10;
  const lo = parseInt(m[2] as string, base);
  const hi = parseInt(m[3] as string, base);
  if (!(hi >= lo) || hi - lo >= maxRange) return undefined;
  const out: string[] = [];
  for (let i = lo; i <= hi; i++) out.push(`${m[1]}${i.toString(base)}`);
  return out.every(isAddress) ? out : undefined;
}

/** virtual_server_group NAME { IP PORT | IP-RANGE PORT | fwmark N }. */
export function readServerGroup(block: ConfNode, findings: Findings): Target[] {
  const out: Target[] = [];
  for (const e of block.children ?? []) {
    if (e.keyword === 'fwmark') {
      const mark = readUnsigned(e.args[0], 1, 4294967295);
      if (mark === undefined) findings.error(e, `fwmark '${e.args[0] ?? ''}' is invalid: not carried`);
      else out.push({ fwmark: mark, at: e });
      continue;
    }
    const addresses = expandRange(e.keyword);
    const port = readUnsigned(e.args[0], 0, 65535);
    if (!addresses || port === undefined) {
      findings.error(e, `'${[e.keyword, ...e.args].join(' ')}' is not an address (or a range of at most ${maxRange}) and port: not carried`);
      continue;
    }
    if (port === 0) {
      findings.error(e, `port 0 (a service of every port) is not carried: the API needs a port; use a fwmark service`);
      continue;
    }
    for (const vip of addresses) out.push({ vip, port, at: e });
    if (e.args.length > 1) findings.warn(e, `${e.args.slice(1).join(' ')} is not carried`);
  }
  return out;
}

/**
 * keepalived's scheduler flags as IPVS reads them: flag-1 and flag-2 are the bits sh and mh read
 * as fallback and port, whatever the scheduler; sh-* and mh-* are taken only when that scheduler
 * was set before them (check_parser.c), otherwise keepalived ignores them.
 */
function readSchedulerFlags(flags: { node: ConfNode; scheduler: string | undefined }[], scheduler: string, findings: Findings): string[] {
  const out: string[] = [];
  for (const { node, scheduler: then } of flags) {
    const kw = node.keyword;
    if (kw === 'flag-3') {
      findings.info(node, 'flag-3 is not applicable: no IPVS scheduler reads it');
      continue;
    }
    const bit = kw === 'flag-1' || kw.endsWith('-fallback') ? 'fallback' : 'port';
    if (kw.startsWith('flag-')) {
      if (scheduler === 'sh' || scheduler === 'mh') out.push(`${scheduler}-${bit}`);
      else findings.info(node, `${kw} is not applicable: scheduler ${scheduler} does not read it (sh and mh do)`);
      continue;
    }
    const own = kw.slice(0, 2);
    if (then !== own) findings.warn(node, `${kw} is not carried: keepalived ignores it unless lb_algo ${own} comes before it`);
    else if (scheduler !== own) findings.info(node, `${kw} is not applicable: scheduler ${scheduler} does not read it`);
    else out.push(kw);
  }
  return [...new Set(out)];
}

const methods: Record<string, string> = { NAT: 'NAT', DR: 'DR', TUN: 'TUN' };

/** `lvs_method TUN type gue port 6080 nocsum` -> our forwarding. */
function forwarding(n: ConfNode, findings: Findings): Record<string, unknown> | undefined {
  const method = methods[(n.args[0] ?? '').toUpperCase()];
  if (!method) {
    findings.error(n, `${n.keyword} '${n.args[0] ?? ''}' is not NAT, DR or TUN: ignored`);
    return undefined;
  }
  const f: Record<string, unknown> = { method };
  const rest = n.args.slice(1);
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i] as string;
    if (a === 'type') f.tunnelType = rest[++i];
    else if (a === 'port') f.tunnelPort = readUnsigned(rest[++i], 1, 65535);
    else if (a === 'nocsum' || a === 'csum' || a === 'remcsum') f.tunnelFlags = [a];
    else findings.warn(n, `${a} is not carried`);
  }
  return f;
}

interface RealServerRead {
  at: ConfNode;
  address: string;
  port: number;
  spec: Record<string, unknown>;
  checks: Record<string, unknown>[];
}

/** `vsWeight`: the virtual_server's weight, which keepalived gives its real servers that set none. */
function readRealServer(rs: ConfNode, vsTimers: CheckTimers, vsWeight: number, findings: Findings): RealServerRead | undefined {
  const address = rs.args[0];
  const port = readUnsigned(rs.args[1] ?? '0', 0, 65535);
  if (!isAddress(address) || port === undefined) {
    findings.error(rs, `real_server '${rs.args.join(' ')}' is not an address and port: not carried`);
    return undefined;
  }
  const spec: Record<string, unknown> = { address, weight: vsWeight };
  const timers: CheckTimers = { ...vsTimers };
  const checkers: ConfNode[] = [];
  for (const n of rs.children ?? []) {
    if (readTimer(n, timers, findings)) continue;
    if (isChecker(n.keyword)) {
      checkers.push(n);
      continue;
    }
    switch (n.keyword) {
      case 'weight': {
        const w = readUnsigned(n.args[0], 0, 65535);
        if (w === undefined) findings.error(n, `weight '${n.args[0] ?? ''}' must be 0..65535 here: 1 is used`);
        else spec.weight = w;
        break;
      }
      case 'inhibit_on_failure':
        spec.inhibitOnFailure = !['off', 'false', 'no'].includes(n.args[0] ?? '');
        break;
      case 'uthreshold':
      case 'lthreshold': {
        const v = readUnsigned(n.args[0], 0, 4294967295);
        if (v === undefined) findings.error(n, `${n.keyword} '${n.args[0] ?? ''}' is invalid: ignored`);
        else if (n.keyword === 'uthreshold' && v > 0) spec.upperThreshold = v;
        else if (n.keyword === 'lthreshold') spec.lowerThreshold = v;
        break;
      }
      case 'lvs_method': {
        const f = forwarding(n, findings);
        if (f) spec.forwarding = f;
        break;
      }
      case 'notify_up':
      case 'notify_down':
        findings.error(n, `${n.keyword} is not carried: directors run no user scripts; health transitions are Events`);
        break;
      case 'alpha':
        findings.info(n, 'alpha is how every new real server starts here (down until its first check passes)');
        break;
      case 'smtp_alert':
      case 'snmp_name':
        findings.info(n, `${n.keyword} is not applicable: transitions are Events and conditions`);
        break;
      default:
        reportUnknown(n, 'real_server', findings);
    }
  }
  const [lower, upper] = [spec.lowerThreshold as number | undefined, (spec.upperThreshold as number | undefined) ?? 0];
  if (lower !== undefined && lower > upper) {
    // IPVS refuses a destination whose lower threshold is above its upper one (0: none) with ERANGE.
    findings.error(rs, `lthreshold ${lower} above uthreshold ${upper}: the kernel refuses the real server (Numerical result out of range), so keepalived never programs it; not emitted`);
    return undefined;
  }
  if (spec.upperThreshold === undefined) delete spec.lowerThreshold;
  const checks = translateCheckers(checkers, timers, rs, findings);
  return { at: rs, address, port, spec, checks };
}

/** One check as the healthCheck shorthand, several as the healthChecks list. */
function checkFields(checks: Record<string, unknown>[]): Record<string, unknown> {
  return checks.length === 1 ? { healthCheck: checks[0] } : { healthChecks: checks };
}

interface VsContext {
  groups: Map<string, Target[]>;
  findings: Findings;
  drafts: Drafts;
}

/** One virtual_server block to VirtualService drafts (several for a group) and their RealServers. */
export function translateVirtualServer(block: ConfNode, ctx: VsContext): void {
  const { findings, drafts } = ctx;
  const [first, second] = block.args;
  let targets: Target[];
  let blockName: string;
  if (first === 'group') {
    const group = ctx.groups.get(second ?? '');
    if (!group) {
      findings.error(block, `virtual_server group ${second ?? ''}: no such virtual_server_group (keepalived skips it too); not carried`);
      return;
    }
    targets = group;
    blockName = objectName('vsg', second ?? '');
  } else if (first === 'fwmark') {
    const mark = readUnsigned(second, 1, 4294967295);
    if (mark === undefined) {
      findings.error(block, `virtual_server fwmark '${second ?? ''}' is invalid: not carried`);
      return;
    }
    targets = [{ fwmark: mark, at: block }];
    blockName = objectName('fwm', mark);
  } else {
    const vip = first === undefined ? undefined : addressOf(first);
    const port = readUnsigned(second, 0, 65535);
    if (!isAddress(vip) || port === undefined) {
      findings.error(block, `virtual_server '${block.args.join(' ')}' is not an address and port: not carried`);
      return;
    }
    if (port === 0) {
      findings.error(block, 'port 0 (a service of every port) is not carried: the API needs a port; use a fwmark service');
      return;
    }
    targets = [{ vip, port, at: block }];
    blockName = '';
  }

  const spec: Record<string, unknown> = { scheduler: 'wlc', forwarding: { method: 'NAT' }, inhibitOnFailure: false };
  let protocol: string | undefined;
  const timers: CheckTimers = {};
  const realServers: ConfNode[] = [];
  let family: string | undefined;
  // Scheduler flags with the scheduler set when each was read (keepalived checks it then).
  const flags: { node: ConfNode; scheduler: string | undefined }[] = [];
  let schedulerSet: string | undefined;
  let ops: ConfNode | undefined;
  let quorum: number | undefined;
  let hysteresis: ConfNode | undefined;
  const sorry: Record<string, unknown> = {};
  let sorryAt: ConfNode | undefined;
  let rsWeight = 1;
  for (const n of block.children ?? []) {
    if (readTimer(n, timers, findings)) continue;
    switch (n.keyword) {
      case 'real_server':
        realServers.push(n);
        break;
      case 'protocol': {
        const p = (n.args[0] ?? '').toUpperCase();
        if (['TCP', 'UDP', 'SCTP'].includes(p)) protocol = p;
        else findings.error(n, `protocol '${n.args[0] ?? ''}' is not TCP, UDP or SCTP: ignored`);
        break;
      }
      case 'lb_algo':
      case 'lvs_sched': {
        const s = n.args[0] ?? '';
        if ((schedulers as readonly string[]).includes(s)) spec.scheduler = schedulerSet = s;
        else findings.error(n, `${n.keyword} '${s}' is not an IPVS scheduler: keepalived's default wlc is used`);
        break;
      }
      case 'lb_kind':
      case 'lvs_method': {
        const f = forwarding(n, findings);
        if (f) spec.forwarding = f;
        if (n.keyword === 'lb_kind') findings.info(n, 'lb_kind is the old name of lvs_method');
        break;
      }
      case 'persistence_timeout': {
        if (n.args[0] === undefined) {
          spec.persistence = { timeoutSeconds: 360 };
          findings.info(n, 'persistence_timeout without a value is keepalived\'s 360 s (IPVS_SVC_PERSISTENT_TIMEOUT), written out');
          break;
        }
        const t = readUnsigned(n.args[0], 1, 31536000);
        if (t === undefined) findings.error(n, `persistence_timeout '${n.args[0]}' is invalid (keepalived takes 1..${31536000} and ignores it): no persistence`);
        else spec.persistence = { ...(spec.persistence as object | undefined), timeoutSeconds: t };
        break;
      }
      case 'persistence_granularity':
        sorry.granularity = n.args[0];
        sorry.granularityAt = n;
        break;
      case 'persistence_engine':
        findings.error(n, 'persistence_engine is not carried: the API has no persistence engines (SIP)');
        break;
      case 'ip_family':
        family = n.args[0] === 'inet6' ? 'IPv6' : n.args[0] === 'inet' ? 'IPv4' : undefined;
        if (!family) findings.error(n, `ip_family '${n.args[0] ?? ''}' is not inet or inet6: ignored`);
        break;
      case 'ops':
        ops = n;
        break;
      case 'hashed':
        findings.warn(n, 'hashed is not carried: the API has no such scheduler flag');
        break;
      case 'flag-1':
      case 'flag-2':
      case 'flag-3':
      case 'sh-port':
      case 'sh-fallback':
      case 'mh-port':
      case 'mh-fallback':
        flags.push({ node: n, scheduler: schedulerSet });
        break;
      case 'inhibit_on_failure':
        spec.inhibitOnFailure = !['off', 'false', 'no'].includes(n.args[0] ?? '');
        break;
      case 'weight': {
        const w = readUnsigned(n.args[0], 1, 65535);
        if (w === undefined) findings.error(n, `weight '${n.args[0] ?? ''}' must be 1..65535 (keepalived ignores it): real servers without a weight get 1`);
        else rsWeight = w;
        break;
      }
      case 'quorum':
        quorum = readUnsigned(n.args[0], 1, 4294967295);
        if (quorum === undefined) findings.error(n, `quorum '${n.args[0] ?? ''}' must be 1 or more: 1 is used, as by keepalived`);
        break;
      case 'hysteresis':
        hysteresis = n;
        break;
      case 'sorry_server': {
        if (!isAddress(n.args[0])) {
          findings.error(n, `sorry_server '${n.args.join(' ')}' is not an address: not carried`);
          break;
        }
        sorry.address = n.args[0];
        const p = readUnsigned(n.args[1], 1, 65535);
        if (p !== undefined) sorry.port = p;
        sorryAt = n;
        break;
      }
      case 'sorry_server_inhibit':
        sorry.inhibit = true;
        break;
      case 'sorry_server_lvs_method': {
        const f = forwarding(n, findings);
        if (f) sorry.forwarding = f;
        break;
      }
      case 'alpha':
        findings.info(n, 'alpha is how every new real server starts here (down until its first check passes)');
        break;
      case 'omega':
        findings.info(n, 'omega is not applicable: it runs quorum_down and notify_down scripts at shutdown; there are none here');
        break;
      case 'quorum_up':
      case 'quorum_down':
        findings.error(n, `${n.keyword} is not carried: directors run no user scripts; quorum changes show as the Ready condition (QuorumNotMet)`);
        break;
      case 'ha_suspend':
        findings.info(n, 'ha_suspend is not applicable: only a director that holds the VIP checks... here every director checks; the service stays programmed');
        break;
      case 'smtp_alert':
      case 'snmp_name':
        findings.info(n, `${n.keyword} is not applicable: transitions are Events and conditions`);
        break;
      default:
        if (isChecker(n.keyword)) findings.error(n, `${n.keyword} directly in virtual_server: keepalived expects checkers inside real_server; not carried`);
        else reportUnknown(n, 'virtual_server', findings);
    }
  }
  const method = (spec.forwarding as { method: string }).method;
  const schedulerFlags = readSchedulerFlags(flags, spec.scheduler as string, findings);
  if (schedulerFlags.length > 0) spec.schedulerFlags = schedulerFlags;
  if (typeof sorry.granularity === 'string') {
    const g = sorry.granularity;
    if (!spec.persistence) {
      // keepalived's persistence_granularity makes the service persistent with its default timeout.
      spec.persistence = { timeoutSeconds: 360 };
      findings.info(sorry.granularityAt as ConfNode, `persistence_granularity ${g} without persistence_timeout: keepalived makes the service persistent with its default 360 s (IPVS_SVC_PERSISTENT_TIMEOUT), written out`);
    }
    (spec.persistence as Record<string, unknown>).netmask = /^\d+$/.test(g) ? Number(g) : g;
  }
  if (quorum !== undefined || hysteresis !== undefined) {
    const q = quorum ?? 1;
    let h = hysteresis ? readUnsigned(hysteresis.args[0], 0, 4294967295) ?? 0 : 0;
    if (h >= q) {
      findings.warn(hysteresis ?? block, `hysteresis ${h} is not less than quorum ${q}, which the API requires: ${q - 1} is used; quorum is lost at 0 healthy weight as with keepalived's ${h}, but regained at ${2 * q - 1} instead of ${q + h}`);
      h = q - 1;
    }
    spec.quorum = { weight: q, hysteresis: h };
  }
  if (sorryAt) {
    const s: Record<string, unknown> = { address: sorry.address };
    if (sorry.port !== undefined) s.port = sorry.port;
    if (sorry.forwarding) s.forwarding = sorry.forwarding;
    if (sorry.inhibit) s.inhibit = true;
    const sorryMethod = (sorry.forwarding as { method?: string } | undefined)?.method ?? method;
    const port = targets.length === 1 && 'port' in (targets[0] as Target) ? (targets[0] as { port: number }).port : undefined;
    if (s.port !== undefined && sorryMethod !== 'NAT' && s.port !== port) {
      // keepalived resets it to the service's port with a warning: DR and TUN cannot map ports.
      findings.warn(sorryAt, `sorry_server port ${String(s.port)} under ${sorryMethod} is the service's port, as keepalived sets it: DR and TUN cannot map ports`);
      delete s.port;
    }
    spec.sorryServer = s;
  }

  if (realServers.length === 0) {
    findings.error(block, 'virtual_server without real servers: keepalived ignores it (\'has no real servers - ignoring\'); not emitted');
    return;
  }
  // Address services without a protocol are UDP: keepalived sets it, as the kernel would take 0 for UDP.
  const anyAddress = targets.some((t) => 'vip' in t);
  if (protocol === undefined && anyAddress)
    findings.warn(block, 'no protocol: keepalived programs a UDP service (it logs \'no protocol set - defaulting to UDP\'), so this is UDP too; write protocol TCP if TCP was meant');
  const proto = protocol ?? (anyAddress ? 'UDP' : 'TCP');
  const rsRead = realServers.map((r) => readRealServer(r, timers, rsWeight, findings)).filter((r) => r !== undefined);
  // Checks all real servers share go on the service; differing ones on each RealServer.
  const checks = rsRead.map((r) => JSON.stringify(r.checks));
  const shared = checks.length > 0 && checks.every((c) => c === checks[0]);
  Object.assign(spec, checkFields(shared ? (rsRead[0] as RealServerRead).checks : [{ type: 'None' }]));

  const anyFwmark = targets.some((t) => 'fwmark' in t);
  const selector = blockName !== '' ? objectName(blockName, proto) : (() => {
    const t = targets[0] as { vip: string; port: number };
    return objectName(proto, t.vip, t.port);
  })();
  for (const r of rsRead) {
    const rsSpec = { ...r.spec };
    const rsMethod = (rsSpec.forwarding as { method?: string } | undefined)?.method ?? method;
    const serviceTargets = targets.filter((t): t is { vip: string; port: number; at: Place } => 'vip' in t);
    if (rsMethod !== 'NAT') {
      // DR and TUN deliver the packet's own port: keepalived uses the service's, the API wants none.
      const differs = serviceTargets.some((t) => r.port !== 0 && t.port !== r.port);
      if (differs) findings.warn(r.at, `port ${r.port} differs from the service port under ${rsMethod}: DR and TUN cannot map ports, so the port is left out and the real server receives the service port`);
      else if (anyFwmark && r.port !== 0) findings.info(r.at, `port ${r.port} is cleared under a fwmark ${rsMethod} service, as keepalived clears it`);
    } else if (r.port !== 0) rsSpec.port = r.port;
    else if (anyFwmark) findings.warn(r.at, 'a NAT real server of a fwmark service without a port: it receives the packet\'s own port');
    if (!shared) Object.assign(rsSpec, checkFields(r.checks));
    drafts.realServers.push({ at: r.at, name: objectName(selector, r.address, r.port), selector, spec: rsSpec });
  }

  for (const t of targets) {
    const s: Record<string, unknown> = { ...structuredClone(spec), backends: { realServerSelector: { matchLabels: { 'lvs.dev/imported-from': selector } } } };
    let name: string;
    if ('fwmark' in t) {
      s.fwmark = t.fwmark;
      if (family) s.addressFamily = family;
      name = objectName('fwm', t.fwmark);
    } else {
      s.vip = t.vip;
      s.port = t.port;
      s.protocol = proto;
      name = objectName(proto, t.vip, t.port);
    }
    if (ops) {
      if ('fwmark' in t || proto === 'UDP') s.onePacket = true;
      else findings.warn(ops, 'ops on a TCP or SCTP service is not carried: keepalived and the API take it for UDP (and fwmark) only');
    }
    const draft: ServiceDraft = { at: t.at, name, spec: s, selector };
    drafts.services.push(draft);
  }
}
