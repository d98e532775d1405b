// The BIRD 2 configuration of one director (pure, deterministic: the same input gives the same
// text, so an unchanged model never reloads BIRD). BIRD only announces: a static protocol holds
// a blackhole route per VIP that may be announced (with its group's communities), each BGP
// session exports those of the groups that name its router, and no kernel protocol exists, so
// nothing BIRD learns or holds reaches the node's routing table. Several groups on one director
// share this one BIRD (speaker-plan.ts).
import { isV6, type SpeakerPlan } from './speaker-plan.js';

export interface BirdInput {
  plan: SpeakerPlan;
  /** Peer address -> its TCP MD5 password (read from its Secret). */
  passwords: ReadonlyMap<string, string>;
}

/** Our names in BIRD: the static protocols and a BGP protocol per peer, named after its address. */
export const staticProtocol = { IPv4: 'lvs_vips4', IPv6: 'lvs_vips6' } as const;
export const peerProtocol = (address: string): string => `lvs_peer_${address.replace(/[^0-9A-Za-z]/g, '_')}`;

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
  const { plan } = input;
  const lines: string[] = [
    `# Written by lvs-operator agent for DirectorGroup ${plan.groups.join(', ')}; rewritten on every change.`,
    'timeformat protocol "%s";',
  ];
  if (plan.routerId !== undefined) lines.push(`router id ${plan.routerId};`);
  lines.push('protocol device { }');
  if (plan.bfd && plan.sessions.some((x) => x.bfd)) {
    lines.push(
      `protocol bfd lvs_bfd { interface "*" { min rx interval ${plan.bfd.intervalMs} ms; min tx interval ${plan.bfd.intervalMs} ms; multiplier ${plan.bfd.multiplier}; }; }`,
    );
  }
  for (const family of ['IPv4', 'IPv6'] as const) {
    const channel = family === 'IPv4' ? 'ipv4' : 'ipv6';
    const len = family === 'IPv4' ? 32 : 128;
    lines.push(`protocol static ${staticProtocol[family]} {`, `  ${channel};`);
    for (const r of plan.routes.filter((x) => isV6(x.vip) === (family === 'IPv6'))) {
      const attrs = r.communities.map((c) => ` bgp_community.add(${community(c)});`).join('');
      lines.push(`  route ${r.vip}/${len} blackhole${attrs ? ` {${attrs} }` : ''};`);
    }
    lines.push('}');
  }
  for (const x of plan.sessions) {
    const p = x.peer;
    const family = isV6(p.address) ? 'IPv6' : 'IPv4';
    const all = plan.routes.filter((r) => isV6(r.vip) === (family === 'IPv6')).length === x.exports.length;
    // A router that gets every route of its family needs no list: the filter stays the same
    // text as VIPs come and go, so BIRD only refeeds what changed.
    const len = family === 'IPv4' ? 32 : 128;
    const exportRule = all
      ? `export where proto = "${staticProtocol[family]}";`
      : x.exports.length === 0
        ? 'export none;'
        : `export where proto = "${staticProtocol[family]}" && net ~ [ ${x.exports.map((v) => `${v}/${len}`).join(', ')} ];`;
    const password = input.passwords.get(p.address);
    lines.push(
      `protocol bgp ${peerProtocol(p.address)} {`,
      `  description ${quote(p.address)};`,
      `  local as ${x.localASN};`,
      `  neighbor ${p.address} port ${p.port} as ${p.asn};`,
      `  hold time ${x.holdTimeSeconds};`,
      `  keepalive time ${x.keepaliveSeconds};`,
      // BIRD's defaults (connect retry 120 s, error wait 60-300 s) keep a returning director or
      // a restarted router out for minutes.
      '  connect delay time 1;',
      '  connect retry time 2;',
      '  error wait time 1, 5;',
    );
    if (x.bfd) lines.push('  bfd on;');
    if (password !== undefined) lines.push(`  password ${quote(password)};`);
    lines.push(`  ${family === 'IPv6' ? 'ipv6' : 'ipv4'} { import none; ${exportRule} };`, '}');
  }
  return lines.join('\n') + '\n';
}
