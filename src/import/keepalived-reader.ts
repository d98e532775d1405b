import { readFileSync } from 'node:fs';
import { dirname, relative } from 'node:path';
import { type Findings, ImportError, type Place } from './finding.js';
import { expandGlob } from './glob.js';

/** One keepalived.conf directive: its words, its `{ }` block if it has one, and where it was written. */
export interface ConfNode {
  keyword: string;
  args: string[];
  children?: ConfNode[];
  file: string;
  line: number;
}

type Token = ({ kind: 'word'; text: string } | { kind: 'open' } | { kind: 'close' } | { kind: 'eol' }) & Place;

const maxIncludeDepth = 20;

interface Reader {
  findings: Findings;
  /** Paths in findings are shown relative to here (the directory the command runs in). */
  cwd: string;
  definitions: Map<string, string>;
  readText(path: string): string;
}

function shown(r: Reader, path: string): string {
  return path === '-' ? '<stdin>' : relative(r.cwd, path) || path;
}

/** `$NAME` and `${NAME}` replaced by earlier `$NAME=value` definitions (keepalived's parameter substitution). */
function substitute(line: string, defs: Map<string, string>): string {
  if (defs.size === 0 || !line.includes('$')) return line;
  return line.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (whole, a?: string, b?: string) => {
    const v = defs.get((a ?? b) as string);
    return v ?? whole;
  });
}

/**
 * Splits one line as lib/parser.c does: words separated by white space, `#` and `!` start a
 * comment outside quotes, a double-quoted string is one word, and `{` `}` are words of their own
 * even when written against another word (`bl_group{`).
 */
function lineTokens(text: string, at: Place): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i] as string;
    if (c === '#' || c === '!') break;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === '{' || c === '}') {
      out.push({ kind: c === '{' ? 'open' : 'close', ...at });
      i++;
      continue;
    }
    if (c === '"') {
      const end = text.indexOf('"', i + 1);
      const stop = end < 0 ? text.length : end;
      out.push({ kind: 'word', text: text.slice(i + 1, stop), ...at });
      i = stop + 1;
      continue;
    }
    let j = i;
    while (j < text.length && !/[\s{}#!"]/.test(text[j] as string)) j++;
    out.push({ kind: 'word', text: text.slice(i, j), ...at });
    i = j;
  }
  return out;
}

function tokenizeFile(r: Reader, path: string, depth: number, out: Token[]): void {
  const file = shown(r, path);
  const lines = r.readText(path).split(/\r?\n/);
  lines.forEach((raw, index) => {
    const at = { file, line: index + 1 };
    const trimmed = raw.trim();
    const def = /^\$([A-Za-z_][A-Za-z0-9_]*)\s*=(.*)$/.exec(trimmed);
    if (def) {
      if (def[2]?.trimEnd().endsWith('\\'))
        r.findings.error(at, `multi-line parameter definition $${def[1]} is not supported; it and its continuation lines are read as they are`);
      r.definitions.set(def[1] as string, substitute((def[2] as string).trim(), r.definitions));
      return;
    }
    if (trimmed.startsWith('@')) {
      r.findings.error(
        at,
        `conditional line (${trimmed.split(/\s/)[0]}) skipped: keepalived applies it only on the director whose config id (keepalived -i) matches; import one file per director with the conditions resolved`,
      );
      return;
    }
    const line = substitute(raw, r.definitions);
    // The include's pattern is read whole: its braces are glob alternatives, not a block.
    const inc = /^\s*include(?:\s+("[^"]*"|[^\s#!]+))?\s*(?:[#!].*)?$/.exec(line);
    if (inc) {
      include(r, inc[1]?.replace(/^"|"$/g, ''), path, depth, at, out);
      return;
    }
    const tokens = lineTokens(line, at);
    out.push(...tokens, { kind: 'eol', ...at });
  });
}

function include(r: Reader, pattern: string | undefined, path: string, depth: number, at: Place, out: Token[]): void {
  if (pattern === undefined) {
    r.findings.error(at, 'include without a file name: skipped (keepalived does the same)');
    return;
  }
  if (depth >= maxIncludeDepth) throw new ImportError(at, `include nested more than ${maxIncludeDepth} deep (an include loop?)`);
  // keepalived chdir()s to each file's directory while reading it: relative includes are relative to the including file.
  const base = path === '-' ? r.cwd : dirname(path);
  const matches = expandGlob(pattern, base);
  if (matches.length === 0) {
    r.findings.warn(at, `include ${pattern}: no file matches (keepalived goes on without it)`);
    return;
  }
  for (const m of matches) tokenizeFile(r, m, depth + 1, out);
  out.push({ kind: 'eol', ...at });
}

/** Builds the tree; `{` on the line after its keyword belongs to that keyword, as in keepalived. */
function parseBlock(tokens: Token[], pos: { i: number }, opener: Place | undefined, findings: Findings): ConfNode[] {
  const out: ConfNode[] = [];
  let cur: ConfNode | undefined;
  let last: ConfNode | undefined;
  const flush = (): void => {
    if (cur) out.push(cur);
    last = cur ?? last;
    cur = undefined;
  };
  while (pos.i < tokens.length) {
    const t = tokens[pos.i++] as Token;
    if (t.kind === 'word') {
      if (cur) cur.args.push(t.text);
      else cur = { keyword: t.text, args: [], file: t.file, line: t.line };
    } else if (t.kind === 'eol') {
      if (cur) {
        flush();
      }
    } else if (t.kind === 'open') {
      const owner = cur ?? (last && last.children === undefined ? last : undefined);
      if (cur) out.push(cur);
      cur = undefined;
      const children = parseBlock(tokens, pos, t, findings);
      if (owner) owner.children = children;
      else findings.error(t, "'{' without a keyword before it: its block is skipped");
      last = undefined;
    } else {
      flush();
      if (opener) return out;
      findings.error(t, "extra '}' ignored (keepalived logs it and goes on)");
    }
  }
  flush();
  if (opener) throw new ImportError(opener, "unterminated block: '{' opened here is never closed");
  return out;
}

export interface ReadOptions {
  findings: Findings;
  cwd?: string;
  /** The text of `-` (stdin), when the input is read from it. */
  stdin?: string;
}

/** Reads a keepalived.conf and everything it includes into a tree of directives. */
export function readKeepalivedConf(path: string, opts: ReadOptions): ConfNode[] {
  const r: Reader = {
    findings: opts.findings,
    cwd: opts.cwd ?? process.cwd(),
    definitions: new Map(),
    readText: (p) => (p === '-' ? (opts.stdin ?? '') : readFileSync(p, 'utf8')),
  };
  const tokens: Token[] = [];
  tokenizeFile(r, path, 0, tokens);
  return parseBlock(tokens, { i: 0 }, undefined, opts.findings);
}
