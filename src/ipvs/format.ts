// The table as `ipvsadm -Ln` prints it, for the CLI, the demo and logs: people read LVS state in
// this shape, so we show ours the same way.
import { formatHostPort as hostPort } from '../address/index.js';
import type { ForwardMethod, IpvsServiceWithDests } from './types.js';

const fwdName: Record<ForwardMethod, string> = { masq: 'Masq', route: 'Route', tunnel: 'Tunnel', local: 'Local' };

function serviceLine(s: IpvsServiceWithDests): string {
  const k = s.key;
  const head = 'fwmark' in k ? `FWM  ${k.fwmark}${k.af === 'IPv6' ? ' IPv6' : ''}` : `${k.protocol.toUpperCase().padEnd(4)} ${hostPort(k.addr, k.port)}`;
  const flags = s.flags.filter((f) => f !== 'hashed' && f !== 'persistent');
  const persistent = s.flags.includes('persistent') ? ` persistent ${s.timeout}` : '';
  return `${head} ${s.scheduler}${flags.length ? ` (${flags.join(',')})` : ''}${persistent}`;
}

export function formatIpvsTable(services: IpvsServiceWithDests[], title = 'IP Virtual Server (lvs-operator view)'): string {
  const lines = [
    title,
    'Prot LocalAddress:Port Scheduler Flags',
    '  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn',
  ];
  for (const s of services) {
    lines.push(serviceLine(s));
    for (const d of s.dests) {
      lines.push(`  -> ${hostPort(d.addr, d.port).padEnd(28)}${fwdName[d.fwd].padEnd(8)}${String(d.weight).padEnd(7)}${String(d.activeConns ?? 0).padEnd(11)}${d.inactConns ?? 0}`);
    }
  }
  return lines.join('\n');
}
