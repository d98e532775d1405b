// A director's live table as `ipvsadm -Ln --stats --rate` lays it out (people read LVS in this
// shape), with the VRRP state of its VIPs and the VirtualService each service belongs to.
import type { IpvsStats } from '../ipvs/types.js';
import type { LiveTable } from '../agent/live-table.js';

/** ipvsadm's short counts: 1234, 12K, 3M (base 1000 as ipvsadm prints with --stats). */
export function shortCount(n: number): string {
  if (n < 100_000) return String(n);
  for (const [unit, size] of [['G', 1e9], ['M', 1e6], ['K', 1e3]] as const) if (n >= size) return `${Math.floor(n / size)}${unit}`;
  return String(n);
}

const statsCells = (s: IpvsStats): string[] => [s.conns, s.inPkts, s.outPkts, s.inBytes, s.outBytes, s.cps, s.inPps, s.outPps, s.inBps, s.outBps].map(shortCount);

function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join(' ').trimEnd());
}

export function formatLiveTable(t: LiveTable, pod?: string): string {
  const out = [`Director ${t.node}${pod ? ` (pod ${pod})` : ''}, read ${t.at}`];
  for (const v of t.vrrp) out.push(`  VRRP ${v.vip} on ${v.interface} vrid ${v.vrid}: ${v.state.toUpperCase()} priority ${v.priority}${v.master && v.state.toLowerCase() !== 'master' ? ` (master ${v.master})` : ''}`);
  const rows: string[][] = [['Prot LocalAddress:Port', 'Scheduler', 'Weight', 'ActConn', 'InActConn', 'Conns', 'InPkts', 'OutPkts', 'InBytes', 'OutBytes', 'CPS', 'InPPS', 'OutPPS', 'InBPS', 'OutBPS', 'VirtualService']];
  for (const s of t.services) {
    const flags = s.flags.filter((f) => f !== 'persistent');
    const sched = `${s.scheduler}${flags.length ? ` (${flags.join(',')})` : ''}${s.persistenceSeconds !== undefined ? ` persistent ${s.persistenceSeconds}` : ''}`;
    rows.push([s.service, sched, '', '', '', ...statsCells(s.stats), s.virtualService ?? '(not ours)']);
    for (const d of s.destinations) rows.push([`  -> ${d.address}`, d.forward, String(d.weight), String(d.activeConns), String(d.inactiveConns), ...statsCells(d.stats), '']);
  }
  if (t.services.length === 0) out.push('  (no IPVS services)');
  else out.push(...table(rows).map((l) => `  ${l}`));
  return out.join('\n');
}
