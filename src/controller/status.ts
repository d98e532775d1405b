import type { Condition, DirectorView, Scheduler } from '../api/index.js';
import type { GroupModel, Issue, RealServerModel, ServiceModel } from '../model/types.js';
import { defaultQuorum, type QuorumSpec } from '../agent/quorum.js';
import { type DesiredCondition, mergeConditions, stallReasons } from './conditions.js';

/**
 * What the controller writes into each kind's status, computed from the model and from
 * what the agents reported. Pure: the same inputs give the same status, which is how the
 * controller knows when a write can be skipped.
 */

/** The status fields the controller owns on a VirtualService (agents own `directors[]`). */
export interface ServiceStatusFields {
  observedGeneration?: number;
  conditions: Condition[];
  master?: string;
  vrrpState: 'Master' | 'NoMaster' | 'SplitBrain' | 'Unknown';
  backends: { healthy: number; total: number };
  /** The scheduler in effect (the spec's, or its default), for `kubectl get lvsvs`. */
  scheduler?: Scheduler;
}

export interface GroupStatusFields {
  observedGeneration?: number;
  conditions: Condition[];
  directors?: string[];
  vrids?: { vip: string; interface: string; vrid: number }[];
}

export interface RealServerStatusFields {
  observedGeneration?: number;
  conditions: Condition[];
  healthy: number;
  total: number;
  /** Per-director health, derived from the services' director entries (realServerViews). */
  directors?: RealServerView[];
}

function summary(issues: readonly { message: string }[]): string {
  return issues.map((i) => i.message).join('; ');
}

function list(xs: readonly string[], max = 10): string {
  return xs.length <= max ? xs.join(', ') : `${xs.slice(0, max).join(', ')} and ${xs.length - max} more`;
}

/**
 * `Stalled` (kstatus' abnormal-true "cannot make progress" condition, which it reports as
 * Failed): True with the first of `problems` that only a change of a spec or Secret fixes
 * (`stallReasons`) and the messages of all such problems; False otherwise.
 */
export function stalledCondition(problems: readonly { reason: string; message: string }[]): DesiredCondition {
  const stalling = problems.filter((p) => stallReasons.has(p.reason));
  const first = stalling[0];
  return first
    ? { type: 'Stalled', status: 'True', reason: first.reason, message: stalling.map((p) => p.message).join('; ') }
    : { type: 'Stalled', status: 'False', reason: 'AsExpected', message: 'nothing that needs a change of the spec' };
}

/** Director views that count: from current directors of the group. */
export function countedViews(model: ServiceModel, views: readonly DirectorView[] | undefined): DirectorView[] {
  const directors = new Set(model.directors);
  return (views ?? []).filter((v) => directors.has(v.node));
}

function quorumLostMessage(view: DirectorView, q: QuorumSpec, sorry: boolean): string {
  const band = q.hysteresis > 0 ? `, regained at ${q.weight + q.hysteresis} (hysteresis ${q.hysteresis})` : '';
  const then = sorry ? 'the sorry server serves alone' : 'no sorry server, the real servers stay';
  return `quorum lost on ${view.node}: healthy real servers weigh ${view.liveWeight ?? 0}, quorum is ${q.weight}${band}; ${then}`;
}

export interface ServiceDecision {
  fields: ServiceStatusFields;
  desired: DesiredCondition[];
}

export function serviceStatus(
  model: ServiceModel,
  views: readonly DirectorView[] | undefined,
  previous: readonly Condition[] | undefined,
  now: string,
): ServiceDecision {
  const generation = model.generation;
  const counted = countedViews(model, views);
  const programmed = counted.filter((v) => generation !== undefined && v.programmedGeneration === generation);
  const masters = counted.filter((v) => v.vrrpState === 'Master').map((v) => v.node).sort();
  const vrrpState = masters.length === 1 ? 'Master' : masters.length > 1 ? 'SplitBrain' : counted.some((v) => v.vrrpState) ? 'NoMaster' : 'Unknown';
  const master = masters.length === 1 ? masters[0] : undefined;
  const masterView = counted.find((v) => v.node === master);
  const healthy = masterView?.healthy ?? Math.max(0, ...counted.map((v) => v.healthy ?? 0));
  const total = model.backends.length;
  const blocking = model.issues.filter((i) => i.blocking);
  const soft = model.issues.filter((i) => !i.blocking);
  const quorum = model.spec?.quorum ?? defaultQuorum;
  // The agents hold quorum's state (hysteresis needs the past): the master's view, else any.
  const quorumView = masterView ?? counted.find((v) => v.quorumLost !== undefined);
  // BGP groups (active-active): the directors that give the routers a route to the VIP.
  const bgpViews = counted.filter((v) => v.announced !== undefined);
  const announcing = bgpViews.filter((v) => v.announced).map((v) => v.node).sort();
  // Directors whose kernel refuses this service for good (a scheduler it lacks, ...): only they know.
  const refused = counted
    .filter((v) => v.reason && !programmed.includes(v))
    .map((v) => ({ reason: v.reason as string, message: `director ${v.node}: ${v.message ?? v.reason}` }));

  let ready: DesiredCondition;
  let prog: DesiredCondition;
  if (blocking.length > 0) {
    const first = blocking[0] as Issue;
    ready = { type: 'Ready', status: 'False', reason: first.reason, message: summary(blocking) };
    prog = { type: 'Programmed', status: 'False', reason: first.reason, message: `not programmed: ${summary(blocking)}` };
  } else {
    if (programmed.length > 0) {
      prog = {
        type: 'Programmed',
        status: 'True',
        reason: 'Programmed',
        message: `generation ${generation} programmed on ${programmed.length} of ${model.directors.length} directors (${list(programmed.map((v) => v.node))})`,
      };
    } else if (model.directors.length === 0) {
      prog = { type: 'Programmed', status: 'False', reason: 'NoDirectors', message: `DirectorGroup ${model.group} has no director nodes` };
    } else if (refused.length > 0) {
      prog = { type: 'Programmed', status: 'False', reason: refused[0]!.reason, message: `not programmed: ${summary(refused)}` };
    } else {
      prog = {
        type: 'Programmed',
        status: 'False',
        reason: 'Pending',
        message: `waiting for a director (${list(model.directors)}) to program generation ${generation}`,
      };
    }
    if (prog.status !== 'True') ready = { type: 'Ready', status: 'False', reason: prog.reason, message: prog.message };
    else if (total === 0) ready = { type: 'Ready', status: 'False', reason: 'NoBackends', message: summary(soft.filter((i) => i.reason === 'NoBackends')) || 'no real servers' };
    else if (healthy === 0) ready = { type: 'Ready', status: 'False', reason: 'NoHealthyBackends', message: `none of ${total} real servers passes its health check` };
    else if (quorumView?.quorumLost)
      ready = { type: 'Ready', status: 'False', reason: 'QuorumNotMet', message: quorumLostMessage(quorumView, quorum, model.spec?.sorryServer !== undefined) };
    else if (bgpViews.length > 0 && announcing.length === 0)
      ready = {
        type: 'Ready',
        status: 'False',
        reason: 'NotAnnounced',
        message: `no director announces the VIP over BGP (${list(bgpViews.map((v) => v.node).sort())}: no live real server, health checks still answering, or draining)`,
      };
    else
      ready = {
        type: 'Ready',
        status: 'True',
        reason: 'Ready',
        message: `${healthy}/${total} real servers healthy${master ? `, master ${master}` : ''}${announcing.length > 0 ? `, announced by ${list(announcing)}` : ''}`,
      };
  }

  const degradedBy: { reason: string; message: string }[] = [...model.issues, ...(programmed.length > 0 ? refused : [])];
  if (blocking.length === 0 && programmed.length > 0 && programmed.length < model.directors.length) {
    const behind = model.directors.filter((d) => !programmed.some((v) => v.node === d));
    degradedBy.push({ reason: 'PartiallyProgrammed', message: `generation ${generation} not yet programmed on ${list(behind)}` });
  }
  if (announcing.length > 0 && announcing.length < bgpViews.length) {
    const silent = bgpViews.filter((v) => !v.announced).map((v) => v.node).sort();
    degradedBy.push({ reason: 'PartiallyAnnounced', message: `not announced over BGP by ${list(silent)}` });
  }
  if (masters.length > 1) degradedBy.push({ reason: 'SplitBrain', message: `several directors are VRRP master: ${list(masters)}` });
  if (blocking.length === 0 && healthy > 0 && healthy < total) degradedBy.push({ reason: 'BackendsUnhealthy', message: `${total - healthy} of ${total} real servers fail their health check` });
  const degraded: DesiredCondition =
    degradedBy.length > 0
      ? { type: 'Degraded', status: 'True', reason: degradedBy[0]?.reason ?? 'Degraded', message: degradedBy.map((d) => d.message).join('; ') }
      : { type: 'Degraded', status: 'False', reason: 'AsExpected', message: 'no problems found' };

  // Reconciling (kstatus' abnormal-true "in progress" condition): True while no director has
  // programmed this generation yet. A generation the controller has not seen cannot be written
  // here (kstatus reads that from observedGeneration); a director that lags while another has
  // programmed is Degraded (PartiallyProgrammed), not Reconciling, since a director whose agent
  // is gone would otherwise keep the object in progress forever.
  const reconciling: DesiredCondition =
    prog.reason === 'Pending'
      ? { type: 'Reconciling', status: 'True', reason: 'Pending', message: prog.message }
      : {
          type: 'Reconciling',
          status: 'False',
          reason: 'AsExpected',
          message: prog.status === 'True' ? prog.message : 'no rollout in progress',
        };

  const desired = [ready, prog, degraded, stalledCondition(programmed.length > 0 ? blocking : [...blocking, ...refused]), reconciling];
  const fields: ServiceStatusFields = {
    conditions: mergeConditions(previous, desired, generation, now),
    vrrpState,
    backends: { healthy, total },
  };
  if (generation !== undefined) fields.observedGeneration = generation;
  if (master) fields.master = master;
  if (model.spec) fields.scheduler = model.spec.scheduler;
  return { fields, desired };
}

export function groupStatus(model: GroupModel, previous: readonly Condition[] | undefined, now: string): { fields: GroupStatusFields; desired: DesiredCondition[] } {
  const blocking = model.issues.filter((i) => i.blocking);
  const soft = model.issues.filter((i) => !i.blocking);
  const ready: DesiredCondition =
    blocking.length > 0
      ? { type: 'Ready', status: 'False', reason: blocking[0]?.reason ?? 'NotReady', message: summary(blocking) }
      : {
          type: 'Ready',
          status: 'True',
          reason: 'Ready',
          message: `${model.directors.length} director(s): ${list(model.directors)}; ${model.vips.length} VIP(s) for ${model.services.length} VirtualService(s)`,
        };
  const degraded: DesiredCondition =
    soft.length > 0
      ? { type: 'Degraded', status: 'True', reason: soft[0]?.reason ?? 'Degraded', message: summary(soft) }
      : { type: 'Degraded', status: 'False', reason: 'AsExpected', message: 'no problems found' };
  // NoDirectors is blocking (not Ready) but not Stalled: a node that gets the labels ends it.
  const desired = [ready, degraded, stalledCondition(blocking)];
  // Empty lists are left out rather than written as []: an absent field and an empty
  // one must compare equal, or every reconcile would rewrite the status.
  const fields: GroupStatusFields = { conditions: mergeConditions(previous, desired, model.generation, now) };
  if (model.directors.length > 0) fields.directors = model.directors;
  if (model.vrids.length > 0) fields.vrids = model.vrids;
  if (model.generation !== undefined) fields.observedGeneration = model.generation;
  return { fields, desired };
}

export interface RealServerView {
  node: string;
  healthy: boolean;
  message?: string | undefined;
  lastTransitionTime?: string | undefined;
}

/** A service using the real server, and the director entries its agents wrote. */
export interface RealServerUse {
  model: ServiceModel;
  views: readonly DirectorView[] | undefined;
}

/**
 * The real server's health per director, read from what each director reports for the services
 * using it (status.directors[].backends[]): failing on a director when any of those services'
 * checks fails there, with the first such service's message. Agents write nothing on RealServers,
 * so a health change costs one write per director and service plus this one. `previous` keeps
 * each director's lastTransitionTime while its verdict holds. Sorted by node.
 */
export function realServerViews(r: RealServerModel, uses: readonly RealServerUse[], previous: readonly RealServerView[] | undefined, now: string): RealServerView[] {
  const byNode = new Map<string, { healthy: boolean; message?: string | undefined }>();
  for (const use of [...uses].sort((a, b) => (a.model.key < b.model.key ? -1 : a.model.key > b.model.key ? 1 : 0))) {
    const mine = use.model.backends.filter((b) => b.source.kind === 'RealServer' && `${b.source.namespace}/${b.source.name}` === r.key);
    if (mine.length === 0) continue;
    for (const v of countedViews(use.model, use.views)) {
      for (const b of mine) {
        // Matched by address and port: an entry written for an older spec may not have it yet.
        const seen = v.backends?.find((x) => x.address === b.address && x.port === b.port);
        if (!seen) continue;
        const acc = byNode.get(v.node);
        if (!acc) byNode.set(v.node, { healthy: seen.healthy, ...(seen.healthy ? {} : { message: seen.message }) });
        else if (acc.healthy && !seen.healthy) byNode.set(v.node, { healthy: false, message: seen.message });
      }
    }
  }
  return [...byNode.keys()].sort().map((node) => {
    const v = byNode.get(node)!;
    const before = previous?.find((p) => p.node === node);
    return {
      node,
      healthy: v.healthy,
      ...(v.message ? { message: v.message } : {}),
      lastTransitionTime: before && before.healthy === v.healthy && before.lastTransitionTime ? before.lastTransitionTime : now,
    };
  });
}

export function realServerStatus(
  model: RealServerModel,
  views: readonly RealServerView[] | undefined,
  previous: readonly Condition[] | undefined,
  now: string,
): { fields: RealServerStatusFields; desired: DesiredCondition[] } {
  const total = views?.length ?? 0;
  const healthy = (views ?? []).filter((v) => v.healthy).length;
  const blocking = model.issues.filter((i) => i.blocking);
  let ready: DesiredCondition;
  if (blocking.length > 0) ready = { type: 'Ready', status: 'False', reason: blocking[0]?.reason ?? 'NotReady', message: summary(blocking) };
  else if (model.selectedBy.length === 0) ready = { type: 'Ready', status: 'False', reason: 'NotSelected', message: 'no VirtualService selects this RealServer' };
  else if (model.usedBy.length === 0)
    ready = {
      type: 'Ready',
      status: 'False',
      reason: model.issues[0]?.reason ?? 'NotUsed',
      message: model.issues.length > 0 ? summary(model.issues) : `selected by ${list(model.selectedBy)}, which are not programmed`,
    };
  else if (total > 0 && healthy === 0)
    ready = {
      type: 'Ready',
      status: 'False',
      reason: 'Unhealthy',
      message: `failing its health check on all ${total} directors${(views ?? [])[0]?.message ? `: ${(views ?? [])[0]?.message}` : ''}`,
    };
  else
    ready = {
      type: 'Ready',
      status: 'True',
      reason: 'InUse',
      message: `used by VirtualService ${list(model.usedBy)}${total > 0 ? `; healthy on ${healthy} of ${total} directors` : ''}`,
    };
  const problems = model.issues.filter((i) => i.reason !== 'NotSelected').map((i) => ({ reason: i.reason as string, message: i.message }));
  if (total > 0 && healthy > 0 && healthy < total) problems.push({ reason: 'PartiallyUnhealthy', message: `failing its health check on ${total - healthy} of ${total} directors` });
  const degraded: DesiredCondition =
    problems.length > 0
      ? { type: 'Degraded', status: 'True', reason: problems[0]?.reason ?? 'Degraded', message: problems.map((p) => p.message).join('; ') }
      : { type: 'Degraded', status: 'False', reason: 'AsExpected', message: 'no problems found' };
  // Stalled when not Ready because of the spec: a blocking issue (InvalidSpec), or no service
  // can use it for a reason of its own (a port under DR/TUN, the wrong address family).
  const stalling = blocking.length > 0 ? blocking : ready.status === 'False' && model.selectedBy.length > 0 && model.usedBy.length === 0 ? model.issues : [];
  const desired = [ready, degraded, stalledCondition(stalling)];
  const fields: RealServerStatusFields = { conditions: mergeConditions(previous, desired, model.generation, now), healthy, total };
  if (views && views.length > 0) fields.directors = [...views];
  if (model.generation !== undefined) fields.observedGeneration = model.generation;
  return { fields, desired };
}

/** The status fields the controller owns, per kind; everything else belongs to agents. */
export const ownedStatusFields = {
  VirtualService: ['observedGeneration', 'conditions', 'master', 'vrrpState', 'backends', 'scheduler'],
  DirectorGroup: ['observedGeneration', 'conditions', 'directors', 'vrids'],
  RealServer: ['observedGeneration', 'conditions', 'healthy', 'total', 'directors'],
} as const;

/**
 * Whether `current` (the status as stored) already holds `wanted` in every owned field,
 * so the write can be skipped. A field absent from `wanted` (no master any more) must be
 * absent from `current` too.
 */
export function ownedFieldsEqual(current: Record<string, unknown> | undefined, wanted: object, owned: readonly string[]): boolean {
  const cur = current ?? {};
  const want = wanted as Record<string, unknown>;
  for (const k of owned) {
    if (k === 'conditions') {
      if (!conditionsEqual(cur.conditions as Condition[] | undefined, (want.conditions ?? []) as Condition[])) return false;
    } else if (k === 'directors') {
      if (stable(byNode(cur[k])) !== stable(byNode(want[k]))) return false;
    } else if (stable(cur[k]) !== stable(want[k])) return false;
  }
  return true;
}

function conditionsEqual(a: readonly Condition[] | undefined, b: readonly Condition[]): boolean {
  if (!a || a.length !== b.length) return false;
  return b.every((c) => {
    const o = a.find((x) => x.type === c.type);
    return (
      o !== undefined &&
      o.status === c.status &&
      o.reason === c.reason &&
      o.message === c.message &&
      o.observedGeneration === c.observedGeneration &&
      o.lastTransitionTime === c.lastTransitionTime
    );
  });
}

/** A directors list (names, or entries keyed by node) in node order: the server may keep another order. */
function byNode(v: unknown): unknown {
  if (!Array.isArray(v)) return v;
  const key = (x: unknown): string => (typeof x === 'string' ? x : String((x as { node?: unknown }).node));
  return [...(v as unknown[])].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

/** JSON with sorted keys, for order-insensitive comparison of plain data. */
function stable(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) =>
    x && typeof x === 'object' && !Array.isArray(x)
      ? Object.fromEntries(Object.entries(x as Record<string, unknown>).sort(([p], [q]) => (p < q ? -1 : 1)))
      : x,
  );
}
