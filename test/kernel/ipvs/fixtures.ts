// Shared setup for the IPVS control-plane tests: routes that make the test addresses acceptable
// destinations (the kernel refuses an IPv4 real server it has no unicast route to), and the mapping
// of our read-back into ipvsadm's terms for the cross-checks.
import { formatV4 } from '../../../src/address/index.js';
import { prefixToV4Mask } from '../../../src/ipvs/codec/addr.js';
import type { IpvsServiceWithDests } from '../../../src/ipvs/types.js';
import { run } from '../../lab/inside.js';
import type { AdmService } from './ipvsadm.js';

const DUMMY = 'ipvst0';

/** A dummy interface routing 10.0.0.0/8 and 2001:db8::/32 (documentation and private ranges only). */
export async function addTestRoutes(): Promise<void> {
  await run('ip', ['link', 'del', DUMMY]).catch(() => undefined);
  await run('ip', ['link', 'add', DUMMY, 'type', 'dummy']);
  await run('ip', ['link', 'set', DUMMY, 'up']);
  await run('ip', ['addr', 'add', '10.255.255.254/8', 'dev', DUMMY]);
  await run('ip', ['-6', 'addr', 'add', '2001:db8:ffff::1/32', 'dev', DUMMY, 'nodad']);
}

export async function removeTestRoutes(): Promise<void> {
  await run('ip', ['link', 'del', DUMMY]).catch(() => undefined);
}

const hostPort = (addr: string, port: number): string => (addr.includes(':') ? `[${addr}]:${port}` : `${addr}:${port}`);

/** What `ipvsadm -S -n` (plus --thresholds) should show for what our client read back. */
export function asIpvsadm(s: IpvsServiceWithDests): AdmService {
  const k = s.key;
  const id = 'fwmark' in k ? `fwmark ${k.fwmark}${k.af === 'IPv6' ? ' ipv6' : ''}` : `${k.protocol} ${hostPort(k.addr, k.port)}`;
  const out: AdmService = {
    id,
    scheduler: s.scheduler,
    onePacket: s.flags.includes('one-packet'),
    schedFlags: s.flags.filter((f) => f.startsWith('sched')).sort(),
    dests: s.dests.map((d) => ({
      addr: d.addr,
      port: d.port,
      fwd: d.fwd,
      weight: d.weight,
      upper: d.upperThreshold,
      lower: d.lowerThreshold,
      ...(d.fwd === 'tunnel' && d.tunnel ? { tunnel: `${d.tunnel.type}:${d.tunnel.port}:${d.tunnel.flags.length ? d.tunnel.flags.join('+') : 'nocsum'}` } : {}),
    })).sort((a, b) => `${a.addr}:${a.port}`.localeCompare(`${b.addr}:${b.port}`)),
  };
  if (s.flags.includes('persistent')) {
    out.persistent = s.timeout;
    const full = k.af === 'IPv4' ? 32 : 128;
    if (s.netmask !== full) {
      const m = Buffer.alloc(4);
      m.writeUInt32BE(prefixToV4Mask(s.netmask));
      out.netmask = k.af === 'IPv4' ? formatV4(m) : String(s.netmask);
    }
  }
  if (s.peName) out.pe = s.peName;
  return out;
}

export const sortedView = (table: IpvsServiceWithDests[]): AdmService[] => table.map(asIpvsadm).sort((a, b) => a.id.localeCompare(b.id));
