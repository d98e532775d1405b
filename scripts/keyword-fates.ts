// The fate of every keepalived 2.2.7 keyword in `lvs-operator import`, found by importing a small
// configuration with the keyword and the same configuration without it, and comparing the objects
// and findings. scripts/gen-keyword-fates.ts writes it to docs/keepalived-keywords.md;
// test/unit/import/keyword-fates.test.ts checks that file is current.
import { importConfig, type ImportedObject } from '../src/import/index.js';
import type { Finding } from '../src/import/finding.js';
import { keepalivedKeywords, keepalivedTag } from '../src/import/keepalived-keywords.js';
import { type Sample, samples } from './keyword-samples.js';

export const fates = ['mapped', 'approximated', 'not carried', 'not applicable', 'unknown', 'silent'] as const;
export type Fate = (typeof fates)[number];

export interface KeywordFate {
  block: string;
  keyword: string;
  fate: Fate;
  /** The fields it maps to and the importer's message about it. */
  detail: string;
}

const checkers = new Set(['MISC_CHECK', 'SMTP_CHECK', 'TCP_CHECK', 'PING_CHECK', 'UDP_CHECK', 'HTTP_GET', 'SSL_GET', 'DNS_CHECK', 'FILE_CHECK', 'BFD_CHECK']);
const blockPaths = new Set(keepalivedKeywords.map((b) => b.block));

function sampleOf(path: string[], keyword: string): Sample {
  const kind = path.length === 0 ? '' : checkers.has(path[path.length - 1] as string) ? 'checker' : path[path.length - 1] === 'url' ? 'url' : path.join(' ');
  const s = samples[kind]?.[keyword];
  if (s) return s;
  const opensBlock = blockPaths.has([...path, keyword].join(' '));
  return { text: opensBlock ? `${keyword} x {\n}` : `${keyword} 1` };
}

/** The keyword's lines, or what stands for them in the baseline (as many lines, so lines match). */
function slot(s: Sample, withKeyword: boolean): string {
  const lines = s.text.split('\n').length;
  const instead = (s.instead ?? '').split('\n');
  const body = withKeyword ? s.text : [...instead, ...Array<string>(Math.max(0, lines - instead.length)).fill('')].join('\n');
  return s.with ? `${s.with}\n${body}` : body;
}

const marker = '#KEYWORD#';

/** A configuration of one instance and one service with the sample in the block `path`, and the sample's first line. */
function configuration(path: string[], s: Sample, withKeyword: boolean): { text: string; line: number } {
  const text = skeleton(path, s, marker);
  const before = text.slice(0, text.indexOf(marker)).split('\n').length + (s.with ? s.with.split('\n').length : 0);
  return { text: text.replace(marker, slot(s, withKeyword)), line: before };
}

function skeleton(path: string[], s: Sample, line: string): string {
  const at = (p: string): string => (path.join(' ') === p ? line : '');
  const checker = (path[2] && checkers.has(path[2]) ? path[2] : s.checker) ?? 'TCP_CHECK';
  const http = checker === 'HTTP_GET' || checker === 'SSL_GET';
  const inChecker = path.length === 3 ? line : '';
  const url = path.length === 4 ? `url {\npath /\n${line}\n}` : http ? 'url {\npath /\n}' : '';
  const auth = path.join(' ') === 'vrrp_instance authentication' ? `authentication {\n${line}\n}` : '';
  const members = s.text.startsWith('group') ? '' : 'group {\nVI_1\n}\n';
  const syncGroup = path[0] === 'vrrp_sync_group' ? `vrrp_sync_group SG {\n${members}${line}\n}` : '';
  return [
    'global_defs {', 'router_id lvs1', at('global_defs'), '}',
    'vrrp_instance VI_1 {', 'interface eth0', 'virtual_router_id 51', 'virtual_ipaddress {', '10.0.0.1', '}', at('vrrp_instance'), auth, '}',
    syncGroup,
    s.vs ?? 'virtual_server 10.0.0.1 80 {\nprotocol TCP', at('virtual_server'),
    'real_server 10.0.0.2 80 {', at('virtual_server real_server'), `${checker} {`, url, inChecker, '}', '}', '}',
    at(''), '',
  ].join('\n');
}

type Flat = Map<string, string>;

/** Leaves of the objects as `Kind/index.path` -> JSON, arrays kept whole below the spec's fields. */
function flatten(objects: ImportedObject[]): Flat {
  const seen = new Map<string, number>();
  const out: Flat = new Map();
  const walk = (prefix: string, v: unknown, depth: number): void => {
    if (v !== null && typeof v === 'object' && !Array.isArray(v) && depth < 4) {
      for (const [k, x] of Object.entries(v)) walk(`${prefix}.${k}`, x, depth + 1);
    } else out.set(prefix, JSON.stringify(v));
  };
  for (const o of objects) {
    const i = seen.get(o.kind) ?? 0;
    seen.set(o.kind, i + 1);
    walk(`${o.kind}/${i}`, { ...o, metadata: { name: o.metadata.name, labels: o.metadata.labels } }, 0);
  }
  return out;
}

/** The fields that differ, as `Kind.path`; an object more or fewer as such. */
function changed(a: Flat, b: Flat): string[] {
  const objectsOf = (f: Flat): Set<string> => new Set([...f.keys()].map((k) => k.split('.')[0] as string));
  const [oa, ob] = [objectsOf(a), objectsOf(b)];
  const added = [...ob].filter((o) => !oa.has(o));
  const removed = [...oa].filter((o) => !ob.has(o));
  const whole = new Set([...added, ...removed]);
  const fields = new Set<string>();
  for (const k of new Set([...a.keys(), ...b.keys()])) {
    if (whole.has(k.split('.')[0] as string) || a.get(k) === b.get(k)) continue;
    fields.add(k.replace(/\/\d+/, ''));
  }
  const kind = (o: string): string => o.split('/')[0] as string;
  return [...new Set(added.map((o) => `a ${kind(o)} more`)), ...new Set(removed.map((o) => `a ${kind(o)} fewer`)), ...[...fields].sort()];
}

function run(text: string): { objects: ImportedObject[]; findings: Finding[] } {
  try {
    return importConfig('-', { namespace: 'lvs', stdin: text });
  } catch (e) {
    return { objects: [], findings: [{ file: '<stdin>', line: 0, level: 'error', message: `unreadable: ${(e as Error).message}` }] };
  }
}

const key = (f: Finding): string => `${f.line} ${f.level} ${f.message}`;

/** The fate of `keyword` written in the block `path` ([] the top level). */
export function classify(path: string[], keyword: string): { fate: Fate; detail: string } {
  const s = sampleOf(path, keyword);
  const base = run(configuration(path, s, false).text);
  const { text, line } = configuration(path, s, true);
  const tried = run(text);
  const before = new Set(base.findings.map(key));
  const fresh = tried.findings.filter((f) => !before.has(key(f)));
  const fields = changed(flatten(base.objects), flatten(tried.objects));
  // Findings at the keyword's own lines tell its fate best; the others (at its block) if there are none.
  const last = line + s.text.split('\n').length - 1;
  const own = fresh.filter((f) => f.line >= line && f.line <= last);
  const say = (fs: Finding[]): string => (fs.some((f) => own.includes(f)) ? fs.filter((f) => own.includes(f)) : fs).map((f) => `${f.level}: ${f.message}`).join('; ');
  const unknown = fresh.filter((f) => f.message.startsWith('unknown keyword') || f.message.startsWith('unreadable'));
  if (unknown.length > 0) return { fate: 'unknown', detail: say(unknown) };
  const loud = fresh.filter((f) => f.level !== 'info');
  const notCarried = loud.filter((f) => /not carried/.test(f.message));
  const mapsTo = fields.slice(0, 4).map((f) => `\`${f}\``).join(', ') + (fields.length > 4 ? ', ...' : '');
  if (fields.length > 0) {
    const fate = loud.length > 0 ? 'approximated' : 'mapped';
    return { fate, detail: [mapsTo, say(fresh)].filter((x) => x !== '').join('; ') };
  }
  if (notCarried.length > 0) return { fate: 'not carried', detail: say(notCarried) };
  const notApplicable = fresh.filter((f) => f.level === 'info' && /not applicable|not carried/.test(f.message));
  if (notApplicable.length > 0) return { fate: 'not applicable', detail: say(notApplicable) };
  if (loud.length > 0) return { fate: loud.some((f) => f.level === 'error') ? 'not carried' : 'approximated', detail: say(loud) };
  if (fresh.length > 0) return { fate: 'mapped', detail: say(fresh) };
  return { fate: 'silent', detail: 'no object changes and no finding' };
}

/** Every keyword of the list with its fate; keywords inside a block that is not carried share its fate. */
export function keywordFates(): KeywordFate[] {
  const out: KeywordFate[] = [];
  const byPath = new Map<string, KeywordFate>();
  for (const { block, keywords } of keepalivedKeywords) {
    const path = block === '' ? [] : block.split(' ');
    const parent = byPath.get(block);
    for (const keyword of keywords) {
      let f: KeywordFate;
      if (parent && (parent.fate === 'not carried' || parent.fate === 'not applicable')) {
        f = { block, keyword, fate: parent.fate, detail: `${parent.fate} with its block ${parent.keyword}` };
      } else f = { block, keyword, ...classify(path, keyword) };
      out.push(f);
      byPath.set([...path, keyword].join(' '), f);
    }
  }
  return out;
}

const escape = (s: string): string => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** docs/keepalived-keywords.md. */
export function renderKeywordDoc(list: KeywordFate[]): string {
  const count = (f: Fate): number => list.filter((k) => k.fate === f).length;
  const lines = [
    '# keepalived keywords in `lvs-operator import`',
    '',
    `Every keyword keepalived ${keepalivedTag.replace(/^v/, '')} knows (src/import/keepalived-keywords.ts, read from its source by`,
    'scripts/extract-keepalived-keywords.ts), by the block it is written in, with what the importer does',
    'with it. Generated by `npm run gen:keyword-fates`, which imports a small configuration with and',
    'without each keyword and compares the objects and findings; do not edit by hand.',
    '',
    '- **mapped**: carried into the objects (the fields it changes), perhaps with an info finding',
    '- **approximated**: carried with a difference the warning describes',
    '- **not carried**: dropped, with an error or warning saying why',
    '- **not applicable**: has no counterpart to carry, with an info finding saying why',
    '- a keyword inside a block that is not carried shares the block\'s fate',
    '',
    `Totals (${list.length} keywords): ${fates.filter((f) => count(f) > 0).map((f) => `${f} ${count(f)}`).join(', ')}.`,
    '',
    'The findings are those of the sample configuration: `<stdin>:LINE: level: message`, shown here without the place.',
  ];
  for (const { block } of keepalivedKeywords) {
    lines.push('', `## ${block === '' ? 'top level' : block}`, '', '| keyword | fate | fields, findings |', '|---|---|---|');
    for (const k of list.filter((x) => x.block === block)) lines.push(`| \`${k.keyword}\` | ${k.fate} | ${escape(k.detail)} |`);
  }
  return `${lines.join('\n')}\n`;
}
