import type { RealServer } from '../api/index.js';
import type { InvalidObject, Issue, RealServerModel } from './types.js';
import { compareText } from './vrid.js';

/** What one VirtualService says about one RealServer its selector matches. */
export interface RealServerPart {
  /** It is one of the service's backends. */
  used: boolean;
  /** Why it is not (fully) used. */
  issues: readonly Issue[];
}

const noIssues: Issue[] = Object.freeze([]) as unknown as Issue[];

function byKey(a: readonly [string, RealServerPart], b: readonly [string, RealServerPart]): number {
  return compareText(a[0], b[0]);
}

/**
 * A RealServer's model from what the VirtualServices that select it say, by VirtualService
 * key. Everything comes out in key order, whatever order the caches listed the services in,
 * so the controller and every agent agree.
 */
export function realServerModel(rs: RealServer, parts: Iterable<readonly [string, RealServerPart]>): RealServerModel {
  const namespace = rs.metadata.namespace ?? '';
  const name = rs.metadata.name ?? '';
  const sorted = Array.from(parts);
  if (sorted.length > 1) sorted.sort(byKey);
  const selectedBy: string[] = [];
  let usedBy: string[] = [];
  let issues: Issue[] = [];
  for (const [key, p] of sorted) {
    selectedBy.push(key);
    if (p.used) usedBy.push(key);
    issues.push(...p.issues);
  }
  if (selectedBy.length === 0) issues.push({ reason: 'NotSelected', message: 'no VirtualService selects this RealServer', blocking: false });
  // Models are never changed once made: the common shapes share their arrays (100,000 of them add up).
  if (usedBy.length === selectedBy.length) usedBy = selectedBy;
  if (issues.length === 0) issues = noIssues;
  return { key: `${namespace}/${name}`, namespace, name, generation: rs.metadata.generation, selectedBy, usedBy, issues };
}

export function invalidRealServerModel(inv: InvalidObject): RealServerModel {
  const namespace = inv.namespace ?? '';
  return {
    key: `${namespace}/${inv.name}`,
    namespace,
    name: inv.name,
    generation: inv.generation,
    selectedBy: [],
    usedBy: [],
    issues: [{ reason: 'InvalidSpec', message: inv.error, blocking: true }],
  };
}
