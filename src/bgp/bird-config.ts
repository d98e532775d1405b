// The BIRD 2 configuration of one director (pure, deterministic: the same input gives the same
// text, so an unchanged model never reloads BIRD). BIRD only announces: a static protocol holds
// a blackhole route per VIP that may be announced, each BGP session exports exactly those, and
// no kernel protocol exists, so nothing BIRD learns or holds reaches the node's routing table.
import type { NodeBgpSettings } from './node-settings.js';

export interface BirdInput {
  settings: NodeBgpSettings;
  /** VIPs to announce now (canonical text); IPv4 to IPv4 peers, IPv6 to IPv6 peers. */
  announce: readonly string[];
  /** Peer address -> its TCP MD5 password (read from its Secret). */
  passwords: ReadonlyMap<string, string>;
}

/** Our names in BIRD: the static protocols and a BGP protocol per peer, named after its address. */
export const staticProtocol = { IPv4: 'lvs_vips4', IPv6: 'lvs_vips6' } as const;
export const peerProtocol = (address: string): string => `lvs_peer_${address.replace(/[^0-9A-Za-z]/g, '_')}`;

const isV6 = (a: string): boolean => a.includes(':');

/** A BIRD string literal: BIRD's lexer has no escapes, so a password with `"` is refused before it gets here. */
function quote(s: string): string {
  return `"${s}"`;
}

/** Whether BIRD can carry this password in its configuration: printable, no `"` (BIRD strings have no escapes), at most 80 bytes (TCP MD5). */
export function validPassword(p: string): boolean {
  return p.length > 0 && Buffer.byteLength(p) <= 80 && !/["\u0000-\u001f\u007f]/.test(p);
}

function community(c: string): string {
  const [asn, value] = c.split(':');
  return `(${asn}, ${value})`;
}

export function birdConfig(input: BirdInput): string {
  const { settings: s } = input;
  const routes = [...new Set(input.announce)].sort();
  const lines: string[] = [
    '# Written by lvs-operator agent for DirectorGroup ' + s.group + '; rewritten on every change.',
    'timeformat protocol "%s";',
  ];
  if (s.routerId !== undefined) lines.push(`router id ${s.routerId};`);
  lines.push('protocol device { }');
  if (s.bfd.enabled) {
    lines.push(
      `protocol bfd lvs_bfd { interface "*" { min rx interval ${s.bfd.intervalMs} ms; min tx interval ${s.bfd.intervalMs} ms; multiplier ${s.bfd.multiplier}; }; }`,
    );
  }
  for (const family of ['IPv4', 'IPv6'] as const) {
    const own = routes.filter((r) => isV6(r) === (family === 'IPv6'));
    const channel = family === 'IPv4' ? 'ipv4' : 'ipv6';
    const len = family === 'IPv4' ? 32 : 128;
    lines.push(`protocol static ${staticProtocol[family]} {`, `  ${channel};`);
    for (const r of own) lines.push(`  route ${r}/${len} blackhole;`);
    lines.push('}');
  }
  lines.push('filter lvs_export {');
  lines.push(`  if proto != "${staticProtocol.IPv4}" && proto != "${staticProtocol.IPv6}" then reject;`);
  for (const c of [...s.communities].sort()) lines.push(`  bgp_community.add(${community(c)});`);
  lines.push('  accept;', '}');
  const peers = [...s.peers].sort((a, b) => a.address.localeCompare(b.address));
  for (const p of peers) {
    const password = input.passwords.get(p.address);
    lines.push(
      `protocol bgp ${peerProtocol(p.address)} {`,
      `  description ${quote(p.address)};`,
      `  local as ${s.localASN};`,
      `  neighbor ${p.address} port ${p.port} as ${p.asn};`,
      `  hold time ${s.holdTimeSeconds};`,
      `  keepalive time ${s.keepaliveSeconds};`,
      // BIRD's defaults (connect retry 120 s, error wait 60-300 s) keep a returning director or
      // a restarted router out for minutes.
      '  connect delay time 1;',
      '  connect retry time 2;',
      '  error wait time 1, 5;',
    );
    if (s.bfd.enabled) lines.push('  bfd on;');
    if (password !== undefined) lines.push(`  password ${quote(password)};`);
    lines.push(`  ${isV6(p.address) ? 'ipv6' : 'ipv4'} { import none; export filter lvs_export; };`, '}');
  }
  return lines.join('\n') + '\n';
}
