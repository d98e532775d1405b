// Checks made before anything is sent, shared by the netlink client and the fake, so that bad input
// gets a precise message (the kernel answers most mistakes with a bare EINVAL) and the same errno the
// kernel would give. Nothing here refuses what the kernel accepts, except port 0 on a non-persistent
// address service, which ipvsadm refuses too ("Zero port specified for non-persistent service").
import { familyOf } from './codec/addr.js';
import { utf8Length } from './codec/nla.js';
import { IPPROTO, IP_VS_PENAME_MAXLEN, IP_VS_SCHEDNAME_MAXLEN, IP_VS_IFNAME_MAXLEN } from './codec/constants.js';
import { errnoNumber, ipvsError, opObject, type IpvsError } from './errors.js';
import { SERVICE_FLAGS, TUNNEL_FLAGS, type DestKey, type IpvsDest, type IpvsOp, type IpvsService, type SyncDaemon, type Timeouts, type VirtualServiceKey } from './types.js';

const FWD = ['masq', 'local', 'tunnel', 'route'];
const TUN = ['ipip', 'gue', 'gre'];

const isInt = (v: unknown, min: number, max: number): boolean => typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;
const U32 = 0xffffffff;
const I32 = 0x7fffffff;

function checkKey(k: VirtualServiceKey): string | undefined {
  if (k.af !== 'IPv4' && k.af !== 'IPv6') return `address family must be IPv4 or IPv6, not ${JSON.stringify(k.af)}`;
  if ('fwmark' in k) {
    if (!isInt(k.fwmark, 1, U32)) return `fwmark must be an integer 1-${U32}, not ${JSON.stringify(k.fwmark)}`;
    return undefined;
  }
  if (!(k.protocol in IPPROTO)) return `protocol must be tcp, udp or sctp, not ${JSON.stringify(k.protocol)}`;
  const af = familyOf(k.addr);
  if (!af) return `virtual address ${JSON.stringify(k.addr)} is not an IP address`;
  if (af !== k.af) return `virtual address ${k.addr} is not an ${k.af} address`;
  if (!isInt(k.port, 0, 65535)) return `port must be an integer 0-65535, not ${JSON.stringify(k.port)}`;
  return undefined;
}

function checkService(s: IpvsService): string | undefined {
  const keyProblem = checkKey(s.key);
  if (keyProblem) return keyProblem;
  if (typeof s.scheduler !== 'string' || s.scheduler === '' || utf8Length(s.scheduler) >= IP_VS_SCHEDNAME_MAXLEN) {
    return `scheduler name must be 1-${IP_VS_SCHEDNAME_MAXLEN - 1} bytes, not ${JSON.stringify(s.scheduler)}`;
  }
  if (s.peName !== undefined && (s.peName === '' || utf8Length(s.peName) >= IP_VS_PENAME_MAXLEN)) {
    return `persistence engine name must be 1-${IP_VS_PENAME_MAXLEN - 1} bytes, not ${JSON.stringify(s.peName)}`;
  }
  const bad = s.flags.find((f) => !SERVICE_FLAGS.includes(f));
  if (bad !== undefined) return `unknown service flag ${JSON.stringify(bad)}`;
  if (!isInt(s.timeout, 0, U32)) return `persistence timeout must be an integer number of seconds, not ${JSON.stringify(s.timeout)}`;
  if (s.key.af === 'IPv4' ? !isInt(s.netmask, 0, 32) : !isInt(s.netmask, 1, 128)) {
    return `persistence netmask must be a prefix length ${s.key.af === 'IPv4' ? '0-32' : '1-128'}, not ${JSON.stringify(s.netmask)}`;
  }
  if (!('fwmark' in s.key) && s.key.port === 0 && !s.flags.includes('persistent')) {
    return 'port 0 is only valid for a persistent service (all ports) or a fwmark service';
  }
  return undefined;
}

function checkDestKey(d: DestKey): string | undefined {
  if (!familyOf(d.addr)) return `destination address ${JSON.stringify(d.addr)} is not an IP address`;
  if (!isInt(d.port, 0, 65535)) return `destination port must be an integer 0-65535, not ${JSON.stringify(d.port)}`;
  return undefined;
}

function checkDest(key: VirtualServiceKey, d: IpvsDest): { errno: 'EINVAL' | 'ERANGE'; why: string } | undefined {
  const p = checkDestKey(d);
  if (p) return { errno: 'EINVAL', why: p };
  if (!FWD.includes(d.fwd)) return { errno: 'EINVAL', why: `forwarding method must be masq, route, tunnel or local, not ${JSON.stringify(d.fwd)}` };
  if (!isInt(d.weight, 0, I32)) return { errno: 'ERANGE', why: `weight must be an integer 0-${I32}, not ${JSON.stringify(d.weight)}` };
  if (!isInt(d.upperThreshold, 0, U32) || !isInt(d.lowerThreshold, 0, U32)) {
    return { errno: 'EINVAL', why: 'connection thresholds must be non-negative integers' };
  }
  if (d.lowerThreshold > d.upperThreshold) {
    return { errno: 'ERANGE', why: `lower threshold ${d.lowerThreshold} is above upper threshold ${d.upperThreshold}` };
  }
  const af = familyOf(d.addr);
  if (af !== key.af && d.fwd !== 'tunnel') {
    return { errno: 'EINVAL', why: `an ${af} destination can serve an ${key.af} service only with tunnel forwarding, not ${d.fwd}` };
  }
  if (d.tunnel) {
    if (!TUN.includes(d.tunnel.type)) return { errno: 'EINVAL', why: `tunnel type must be ipip, gue or gre, not ${JSON.stringify(d.tunnel.type)}` };
    if (!isInt(d.tunnel.port, 0, 65535)) return { errno: 'EINVAL', why: `tunnel port must be an integer 0-65535` };
    if (d.tunnel.flags.some((f) => !TUNNEL_FLAGS.includes(f))) return { errno: 'EINVAL', why: 'tunnel flags must be csum and/or remcsum' };
    if (d.tunnel.type === 'gue' && d.tunnel.port === 0) return { errno: 'EINVAL', why: 'a GUE tunnel needs a tunnel port' };
  }
  return undefined;
}

function checkDaemon(d: SyncDaemon): string | undefined {
  if (d.state !== 'master' && d.state !== 'backup') return `sync daemon state must be master or backup, not ${JSON.stringify(d.state)}`;
  if (typeof d.mcastIfn !== 'string' || d.mcastIfn === '' || utf8Length(d.mcastIfn) >= IP_VS_IFNAME_MAXLEN) {
    return `sync interface name must be 1-${IP_VS_IFNAME_MAXLEN - 1} bytes, not ${JSON.stringify(d.mcastIfn)}`;
  }
  if (!isInt(d.syncId, 0, 255)) return `sync id must be an integer 0-255, not ${JSON.stringify(d.syncId)}`;
  if (d.syncMaxLen !== undefined && !isInt(d.syncMaxLen, 0, 65535)) return 'sync max length must be an integer 0-65535';
  if (d.mcastGroup !== undefined && !isMulticast(d.mcastGroup)) return `sync group ${JSON.stringify(d.mcastGroup)} is not a multicast address`;
  if (d.mcastPort !== undefined && !isInt(d.mcastPort, 0, 65535)) return 'sync port must be an integer 0-65535';
  if (d.mcastTtl !== undefined && !isInt(d.mcastTtl, 0, 255)) return 'sync TTL must be an integer 0-255';
  return undefined;
}

export function isMulticast(addr: string): boolean {
  const af = familyOf(addr);
  if (af === 'IPv4') {
    const first = Number(addr.split('.')[0]);
    return first >= 224 && first <= 239;
  }
  return af === 'IPv6' && /^ff/i.test(addr);
}

function checkTimeouts(t: Partial<Timeouts>): string | undefined {
  for (const k of ['tcp', 'tcpFin', 'udp'] as const) {
    const v = t[k];
    if (v !== undefined && !isInt(v, 0, I32)) return `timeout ${k} must be a non-negative integer number of seconds, not ${JSON.stringify(v)}`;
  }
  return undefined;
}

/** The error this operation gets without asking the kernel, or undefined when it may be sent. */
export function validateOp(op: IpvsOp): IpvsError | undefined {
  let problem: string | undefined;
  let errno: 'EINVAL' | 'ERANGE' = 'EINVAL';
  switch (op.op) {
    case 'add-service':
    case 'edit-service':
      problem = checkService(op.service);
      break;
    case 'del-service':
      problem = checkKey(op.key);
      break;
    case 'add-dest':
    case 'edit-dest': {
      problem = checkKey(op.key);
      if (!problem) {
        const d = checkDest(op.key, op.dest);
        if (d) ({ why: problem, errno } = d);
      }
      break;
    }
    case 'del-dest':
      problem = checkKey(op.key) ?? checkDestKey(op.dest);
      break;
    case 'zero':
      problem = op.key ? checkKey(op.key) : undefined;
      break;
    case 'set-timeouts':
      problem = checkTimeouts(op.timeouts);
      break;
    case 'start-daemon':
      problem = checkDaemon(op.daemon);
      break;
    case 'stop-daemon':
      problem = op.state === 'master' || op.state === 'backup' ? undefined : `sync daemon state must be master or backup, not ${JSON.stringify(op.state)}`;
      break;
    case 'flush':
      break;
  }
  return problem === undefined ? undefined : ipvsError(op.op, errnoNumber(errno), opObject(op), problem);
}
