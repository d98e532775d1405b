// A standalone agent (`agent --manifests`) has no API server to carry conditions: what it refuses
// or degrades must reach its log, or it is lost without a trace. Pure: the findings and a summary.
import type { Logger } from 'pino';
import type { ClusterModel, Snapshot } from '../model/types.js';

export interface Finding {
  level: 'error' | 'warn';
  /** `VirtualService web/dns`, `DirectorGroup edge`. */
  object: string;
  /** A condition reason (InvalidSpec for schema errors). */
  reason: string;
  /** Names the field and why. */
  message: string;
}

export interface ManifestSummary {
  directorGroups: number;
  virtualServices: { total: number; refused: number };
  realServers: number;
  invalid: number;
  degraded: number;
}

const named = (kind: string, namespace: string | undefined, name: string): string => `${kind} ${namespace ? `${namespace}/` : ''}${name}`;

/**
 * Every refused object (error) and every degraded one (warn), in a stable order. Objects that
 * failed the schema are in the model too, with an InvalidSpec issue naming the fields.
 */
export function manifestFindings(model: ClusterModel): Finding[] {
  const out: Finding[] = [];
  const issues = (object: string, list: readonly { reason: string; message: string; blocking: boolean }[]): void => {
    for (const i of list) out.push({ level: i.blocking ? 'error' : 'warn', object, reason: i.reason, message: i.message });
  };
  for (const g of [...model.groups.values()].sort((a, b) => a.name.localeCompare(b.name))) issues(named('DirectorGroup', undefined, g.name), g.issues);
  for (const s of [...model.services.values()].sort((a, b) => a.key.localeCompare(b.key))) issues(named('VirtualService', undefined, s.key), s.issues);
  for (const r of [...model.realServers.values()].sort((a, b) => a.key.localeCompare(b.key))) issues(named('RealServer', undefined, r.key), r.issues);
  return out;
}

export function manifestSummary(snapshot: Snapshot, model: ClusterModel, findings: readonly Finding[] = manifestFindings(model)): ManifestSummary {
  const services = [...model.services.values()];
  return {
    directorGroups: snapshot.directorGroups.length,
    virtualServices: { total: services.length, refused: services.filter((s) => !s.accepted).length },
    realServers: snapshot.realServers.length,
    invalid: snapshot.invalid?.length ?? 0,
    degraded: findings.filter((f) => f.level === 'warn').length,
  };
}

/** Logs each finding at its level and the summary: what a standalone agent says at start. */
export function logManifests(log: Pick<Logger, 'error' | 'warn' | 'info'>, snapshot: Snapshot, model: ClusterModel): ManifestSummary {
  const findings = manifestFindings(model);
  for (const f of findings) log[f.level]({ object: f.object, reason: f.reason }, f.message);
  const summary = manifestSummary(snapshot, model, findings);
  log.info(summary, 'manifests loaded');
  return summary;
}
