// lvs-operator import: keepalived.conf or an `ipvsadm -S -n` dump to lvs.dev objects.
import { readFileSync } from 'node:fs';
import { Findings, type Finding } from './finding.js';
import { translateKeepalived } from './keepalived.js';
import { looksLikeIpvsadm, translateIpvsadm } from './ipvsadm.js';
import { emitObjects, type ImportOptions, type ImportedObject } from './emit.js';

export { formatFinding, ImportError, type Finding } from './finding.js';
export type { ImportOptions, ImportedObject } from './emit.js';

export interface ImportResult {
  format: 'keepalived' | 'ipvsadm';
  objects: ImportedObject[];
  findings: Finding[];
}

/**
 * Reads `path` (`-` for `stdin`) and returns the objects and findings; throws ImportError when
 * the input cannot be parsed at all.
 */
export function importConfig(path: string, opts: ImportOptions & { cwd?: string; stdin?: string }): ImportResult {
  const findings = new Findings();
  const text = path === '-' ? (opts.stdin ?? '') : readFileSync(path, 'utf8');
  const shown = path === '-' ? '<stdin>' : path;
  const format = looksLikeIpvsadm(text) ? 'ipvsadm' : 'keepalived';
  const io = { ...(opts.cwd !== undefined ? { cwd: opts.cwd } : {}), ...(path === '-' ? { stdin: text } : {}) };
  const drafts = format === 'ipvsadm' ? translateIpvsadm(text, shown, findings) : translateKeepalived(path, findings, io);
  const objects = emitObjects(drafts, opts, findings, { file: shown, line: 1 });
  return { format, objects, findings: findings.list };
}
