// One BIRD per director, whatever the number of BGP groups it is in (pure): one router id, one BFD
// protocol, one session per router address carrying the routes of every group that names that
// router, each route with its own group's communities. Groups are taken in name order; when two
// ask for things one speaker cannot give both (a router with different session settings, two
// router ids), the first keeps what it asked for and the other is told why: adding a group never
// changes what an earlier group announces.
import type { BgpPeer } from '../api/index.js';
import type { NodeBgpSettings } from './node-settings.js';

export interface SpeakerGroup {
  settings: NodeBgpSettings;
  /** VIPs of this group to announce now (canonical text). */
  announce: readonly string[];
}

export interface SpeakerSession {
  peer: BgpPeer;
  localASN: number;
  holdTimeSeconds: number;
  keepaliveSeconds: number;
  bfd: boolean;
  /** The groups whose routes this session carries, in name order. */
  groups: string[];
  /** VIPs exported to this router: those of its groups, of its address family, sorted. */
  exports: string[];
}

export interface SpeakerRoute {
  vip: string;
  group: string;
  communities: string[];
}

export interface SpeakerConflict {
  group: string;
  /** The router concerned; absent for a speaker-wide setting (the router id, a VIP). */
  peer?: string;
  /** The group that keeps what this one asked for. */
  owner: string;
  message: string;
}

export interface SpeakerPlan {
  groups: string[];
  routerId: string | undefined;
  bfd: { intervalMs: number; multiplier: number } | undefined;
  /** Every route BIRD holds, sorted by VIP. */
  routes: SpeakerRoute[];
  /** Sorted by router address. */
  sessions: SpeakerSession[];
  conflicts: SpeakerConflict[];
}

export const isV6 = (a: string): boolean => a.includes(':');

/** What must be equal for two groups to share a session to one router. */
function sessionKey(s: NodeBgpSettings, p: BgpPeer): string {
  const ref = p.passwordSecretRef;
  return JSON.stringify([s.localASN, p.asn, p.port, s.holdTimeSeconds, s.keepaliveSeconds, s.bfd.enabled, ref ? [ref.namespace, ref.name, ref.key] : null]);
}

function describeSession(s: NodeBgpSettings, p: BgpPeer): string {
  const ref = p.passwordSecretRef;
  return `local AS ${s.localASN}, AS ${p.asn}, port ${p.port}, hold ${s.holdTimeSeconds} s, keepalive ${s.keepaliveSeconds} s, BFD ${s.bfd.enabled ? 'on' : 'off'}, ${ref ? `password ${ref.namespace}/${ref.name}[${ref.key}]` : 'no password'}`;
}

export function planSpeaker(groups: readonly SpeakerGroup[]): SpeakerPlan {
  const ordered = [...groups].sort((a, b) => a.settings.group.localeCompare(b.settings.group));
  const plan: SpeakerPlan = { groups: ordered.map((g) => g.settings.group), routerId: undefined, bfd: undefined, routes: [], sessions: [], conflicts: [] };
  let routerIdFrom = '';
  const sessions = new Map<string, { key: string; owner: NodeBgpSettings; session: SpeakerSession }>();
  const routeOf = new Map<string, SpeakerRoute>();
  for (const { settings: s, announce } of ordered) {
    if (s.routerId !== undefined) {
      if (plan.routerId === undefined) [plan.routerId, routerIdFrom] = [s.routerId, s.group];
      else if (plan.routerId !== s.routerId) {
        plan.conflicts.push({ group: s.group, owner: routerIdFrom, message: `router id ${s.routerId} not used: this director's BIRD has one, ${plan.routerId}, from DirectorGroup ${routerIdFrom}` });
      }
    }
    if (s.bfd.enabled && plan.bfd === undefined) plan.bfd = { intervalMs: s.bfd.intervalMs, multiplier: s.bfd.multiplier };
    for (const p of s.peers) {
      const have = sessions.get(p.address);
      if (!have) {
        sessions.set(p.address, {
          key: sessionKey(s, p),
          owner: s,
          session: { peer: p, localASN: s.localASN, holdTimeSeconds: s.holdTimeSeconds, keepaliveSeconds: s.keepaliveSeconds, bfd: s.bfd.enabled, groups: [s.group], exports: [] },
        });
      } else if (have.key === sessionKey(s, p)) {
        have.session.groups.push(s.group);
      } else {
        plan.conflicts.push({
          group: s.group,
          peer: p.address,
          owner: have.owner.group,
          message: `not announced to ${p.address}: DirectorGroup ${have.owner.group} already peers with it from this director (${describeSession(have.owner, have.session.peer)}) and this group asks for ${describeSession(s, p)}; one router gets one session`,
        });
      }
    }
    for (const vip of new Set(announce)) {
      const other = routeOf.get(vip);
      if (other) {
        plan.conflicts.push({ group: s.group, owner: other.group, message: `VIP ${vip} is announced for DirectorGroup ${other.group}; not announced again` });
        continue;
      }
      routeOf.set(vip, { vip, group: s.group, communities: [...s.communities].sort() });
    }
  }
  plan.routes = [...routeOf.values()].sort((a, b) => a.vip.localeCompare(b.vip));
  plan.sessions = [...sessions.values()].map((x) => x.session).sort((a, b) => a.peer.address.localeCompare(b.peer.address));
  for (const session of plan.sessions) {
    session.exports = plan.routes.filter((r) => session.groups.includes(r.group) && isV6(r.vip) === isV6(session.peer.address)).map((r) => r.vip);
  }
  return plan;
}

/** The conflict that keeps a group's routes off one of its routers, if any. */
export const peerConflict = (plan: SpeakerPlan, group: string, peer: string): SpeakerConflict | undefined =>
  plan.conflicts.find((x) => x.group === group && x.peer === peer);
