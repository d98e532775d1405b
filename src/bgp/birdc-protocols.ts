// Reads `birdc show protocols` (pure): the state of our BGP sessions. The configuration sets
// `timeformat protocol "%s"`, so the Since column is one word and Info is the rest of the line.
import { peerProtocol } from './bird-config.js';

export interface BgpSessionState {
  peer: string;
  /** BIRD's protocol state: up, start, down, flush. */
  state: string;
  /** BGP state or last error: Established, Active, Connect, "Error: ...". */
  info: string;
}

export interface ProtocolRow {
  name: string;
  proto: string;
  state: string;
  info: string;
}

export function parseProtocols(text: string): ProtocolRow[] {
  const rows: ProtocolRow[] = [];
  for (const line of text.split('\n')) {
    // Name Proto Table State Since Info
    const m = /^(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s*(.*)$/.exec(line.trimEnd());
    if (!m || m[1] === 'Name' || m[1] === 'BIRD') continue;
    rows.push({ name: m[1] ?? '', proto: m[2] ?? '', state: m[4] ?? '', info: (m[6] ?? '').trim() });
  }
  return rows;
}

/** One state per configured peer, in the order given; a peer BIRD does not list is `absent`. */
export function sessionStates(text: string, peers: readonly string[]): BgpSessionState[] {
  const byName = new Map(parseProtocols(text).filter((r) => r.proto === 'BGP').map((r) => [r.name, r]));
  return peers.map((peer) => {
    const row = byName.get(peerProtocol(peer));
    return row ? { peer, state: row.state, info: row.info } : { peer, state: 'absent', info: '' };
  });
}

/** An established session: BIRD says up and BGP says Established. */
export const established = (s: BgpSessionState): boolean => s.state === 'up' && s.info.startsWith('Established');
