import type { Condition } from '../api/index.js';

/** A condition as the controller decides it, before times and generations are filled in. */
export interface DesiredCondition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
}

/** Condition messages are bounded by the API (32 KiB); ours stay far shorter for kubectl. */
const maxMessage = 4096;

function clip(message: string): string {
  return message.length > maxMessage ? `${message.slice(0, maxMessage - 3)}...` : message;
}

/**
 * metav1.Condition bookkeeping: `lastTransitionTime` moves only when `status` changes (as
 * kstatus, Argo CD and `kubectl wait` expect); reason, message and observedGeneration
 * always follow the latest decision. Output order follows `desired`.
 */
export function mergeConditions(
  previous: readonly Condition[] | undefined,
  desired: readonly DesiredCondition[],
  generation: number | undefined,
  now: string,
): Condition[] {
  return desired.map((d) => {
    const prev = previous?.find((p) => p.type === d.type);
    const c: Condition = {
      type: d.type,
      status: d.status,
      reason: d.reason,
      message: clip(d.message),
      lastTransitionTime: prev && prev.status === d.status ? prev.lastTransitionTime : now,
    };
    if (generation !== undefined) c.observedGeneration = generation;
    return c;
  });
}

/** A condition whose status or reason changed (or that is new): what an Event reports. */
export interface Transition {
  type: string;
  from: { status: string; reason: string } | undefined;
  to: DesiredCondition;
}

export function transitions(previous: readonly Condition[] | undefined, desired: readonly DesiredCondition[]): Transition[] {
  const out: Transition[] = [];
  for (const d of desired) {
    const p = previous?.find((c) => c.type === d.type);
    if (!p || p.status !== d.status || p.reason !== d.reason) {
      out.push({ type: d.type, from: p ? { status: p.status, reason: p.reason } : undefined, to: d });
    }
  }
  return out;
}

/** Condition types whose abnormal state is True (kstatus' "abnormal-true" convention). */
const abnormalTrue: ReadonlySet<string> = new Set(['Degraded', 'Stalled']);

/** A transition worth a Warning Event: something became wrong. */
export function isBad(t: Transition): boolean {
  if (abnormalTrue.has(t.type)) return t.to.status === 'True';
  // Reconciling is progress either way: True while a rollout runs, False when it is done.
  if (t.type === 'Reconciling') return false;
  return t.to.status === 'False';
}

/**
 * Reasons that make an object `Stalled`: it cannot become Ready until someone changes its
 * spec, the object it names, or a Secret; retrying does not help. The same reasons the Argo CD
 * health check in docs/install.md maps to Degraded (a unit test keeps the two lists equal).
 * `NoDirectors`, `Pending`, `NoBackends` and unhealthy backends are not here: the cluster can
 * leave those states by itself (a node joins, an agent programs, a pod becomes ready).
 */
export const stallReasons: ReadonlySet<string> = new Set([
  'InvalidSpec',
  'Conflict',
  'DirectorGroupNotFound',
  'UnsupportedScheduler',
  'KernelRejected',
  'VridExhausted',
  'FamilyMismatch',
  'AuthSecretNotFound',
  'PortMappingNotSupported',
]);

/** The condition types the controller owns on each kind, in the order it writes them. */
export const serviceConditionTypes = ['Ready', 'Programmed', 'Degraded', 'Stalled', 'Reconciling'] as const;
export const groupConditionTypes = ['Ready', 'Degraded', 'Stalled'] as const;
export const realServerConditionTypes = ['Ready', 'Degraded', 'Stalled'] as const;
