// Writes src/import/keepalived-keywords.ts: every keyword keepalived registers, with its block.
//
//   node --import tsx scripts/extract-keepalived-keywords.ts GIT_DIR [TAG]
//
// GIT_DIR is a clone of github.com/acassen/keepalived (TAG defaults to v2.2.7). keepalived builds
// its keyword tree at start-up by calls in order: install_keyword_root adds a top-level keyword,
// install_keyword adds one under the last keyword at the current depth, install_sublevel and
// install_sublevel_end move that depth. This follows those calls from the parsers' entry points
// through the functions they call (binding string and boolean arguments), reading every #ifdef
// branch: the list is what the source can register, a build may leave some out.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';

const [gitDir, tag = 'v2.2.7'] = process.argv.slice(2);
if (!gitDir) throw new Error('usage: extract-keepalived-keywords.ts GIT_DIR [TAG]');

const entryPoints = ['init_global_keywords', 'init_vrrp_keywords', 'init_check_keywords', 'init_bfd_keywords', 'add_track_file_keywords'];

function git(...args: string[]): string {
  return execFileSync('git', ['-C', gitDir as string, ...args], { encoding: 'utf8', maxBuffer: 64 << 20 });
}

interface Fn {
  file: string;
  params: string[];
  body: string;
}

/** Function definitions in keepalived's style: the name at column 0, `{` and `}` at column 0. */
function functions(file: string, text: string, into: Map<string, Fn[]>): void {
  const re = /^([A-Za-z_]\w*)\(([^)]*)\)\s*\n\{\n([\s\S]*?)\n\}\n/gm;
  for (const m of text.matchAll(re)) {
    const params = (m[2] as string).split(',').map((p) => /(\w+)\s*(?:\[\])?$/.exec(p.trim())?.[1] ?? '').filter((p) => p !== 'void');
    const list = into.get(m[1] as string) ?? [];
    list.push({ file, params, body: (m[3] as string).replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '') });
    into.set(m[1] as string, list);
  }
}

/** The argument text of a call whose `(` is at `open`, split at top-level commas. */
function callArgs(body: string, open: number): { args: string[]; end: number } {
  let depth = 0;
  let cur = '';
  const args: string[] = [];
  for (let i = open; i < body.length; i++) {
    const c = body[i] as string;
    if (c === '(') {
      if (depth++ > 0) cur += c;
    } else if (c === ')') {
      if (--depth === 0) {
        args.push(cur.trim());
        return { args, end: i + 1 };
      }
      cur += c;
    } else if (c === ',' && depth === 1) {
      args.push(cur.trim());
      cur = '';
    } else cur += c;
  }
  throw new Error(`unbalanced call at ${open}`);
}

interface Kw {
  name: string;
  sub: Kw[];
}

const roots: Kw[] = [];
let lastRoot: Kw | undefined;
let sublevel = 0;
const fns = new Map<string, Fn[]>();

function add(list: Kw[], name: string): Kw {
  // A keyword installed twice at one place (bfd_instance for each process) is one keyword.
  const found = list.find((k) => k.name === name);
  if (found) {
    list.splice(list.indexOf(found), 1);
    list.push(found);
    return found;
  }
  const k = { name, sub: [] };
  list.push(k);
  return k;
}

function installSub(name: string): void {
  if (!lastRoot) throw new Error(`install_keyword ${name} before any root`);
  let k = lastRoot;
  for (let i = 0; i < sublevel; i++) k = k.sub[k.sub.length - 1] as Kw;
  add(k.sub, name);
}

/** A literal string, or a parameter bound to one. */
function stringArg(text: string | undefined, env: Map<string, string>): string {
  const lit = /^"([^"]*)"$/.exec(text ?? '');
  if (lit) return lit[1] as string;
  const bound = env.get(text ?? '');
  if (bound !== undefined) return bound;
  throw new Error(`keyword name is not a literal: ${text}`);
}

/** Drops `if (PARAM) { ... }` blocks whose boolean parameter is bound to false. */
function pruneFalse(body: string, env: Map<string, string>): string {
  let out = body;
  for (const [param, value] of env) {
    if (value !== 'false') continue;
    const m = new RegExp(`if \\(${param}\\) \\{`).exec(out);
    if (!m) continue;
    let depth = 0;
    for (let i = m.index + m[0].length - 1; i < out.length; i++) {
      if (out[i] === '{') depth++;
      else if (out[i] === '}' && --depth === 0) {
        out = out.slice(0, m.index) + out.slice(i + 1);
        break;
      }
    }
  }
  return out;
}

function run(name: string, args: string[], depth: number): void {
  const defs = fns.get(name);
  if (!defs) return;
  if (depth > 20) throw new Error(`recursion at ${name}`);
  // Static helpers of the same name in several files install the same keywords; the first is read.
  const fn = defs[0] as Fn;
  const env = new Map(fn.params.map((p, i) => [p, /^"([^"]*)"$/.exec(args[i] ?? '')?.[1] ?? args[i] ?? '']));
  const body = pruneFalse(fn.body, env);
  const call = /\b([A-Za-z_]\w*)\s*\(/g;
  for (let m = call.exec(body); m; m = call.exec(body)) {
    const callee = m[1] as string;
    const open = m.index + m[0].length - 1;
    if (['if', 'while', 'for', 'switch', 'return', 'sizeof'].includes(callee)) continue;
    const { args: a, end } = callArgs(body, open);
    call.lastIndex = end;
    switch (callee) {
      case 'install_keyword_root':
        lastRoot = add(roots, stringArg(a[0], env));
        break;
      case 'install_keyword':
      case 'install_keyword_conditional':
        installSub(stringArg(a[0], env));
        break;
      case 'install_sublevel':
        sublevel++;
        break;
      case 'install_sublevel_end':
        sublevel--;
        break;
      default:
        if (fns.has(callee) && callee !== name) run(callee, a, depth + 1);
    }
  }
}

const files = git('ls-tree', '-r', '--name-only', tag, 'keepalived').split('\n').filter((f) => f.endsWith('.c'));
for (const f of files) functions(f, git('show', `${tag}:${f}`), fns);
// Only functions that reach an install_ call matter; keep the others out of the walk.
const installs = (fn: Fn): boolean => /\binstall_(keyword|sublevel)/.test(fn.body);
const reaching = new Set([...fns].filter(([, d]) => d.some(installs)).map(([n]) => n));
for (let grew = true; grew; ) {
  grew = false;
  for (const [n, d] of fns) {
    if (reaching.has(n)) continue;
    if (d.some((fn) => [...reaching].some((r) => new RegExp(`\\b${r}\\s*\\(`).test(fn.body)))) {
      reaching.add(n);
      grew = true;
    }
  }
}
for (const n of [...fns.keys()]) if (!reaching.has(n)) fns.delete(n);
const sources = new Set<string>();
for (const e of entryPoints) {
  if (!fns.has(e)) throw new Error(`no ${e} in ${tag}`);
  run(e, ['true'], 0);
  if (sublevel !== 0) throw new Error(`${e} leaves sublevel ${sublevel}`);
}
for (const [, d] of fns) for (const fn of d) if (installs(fn)) sources.add(fn.file);

const blocks: { block: string; keywords: string[] }[] = [];
function walk(path: string[], list: Kw[]): void {
  blocks.push({ block: path.join(' '), keywords: list.map((k) => k.name) });
  for (const k of list) if (k.sub.length > 0) walk([...path, k.name], k.sub);
}
walk([], roots);

/** Items joined by ', ' in lines of at most 100 characters. */
function wrap(items: string[]): string {
  const lines: string[] = [];
  let cur = '';
  for (const i of items) {
    if (cur !== '' && 6 + cur.length + i.length + 2 > 100) {
      lines.push(`      ${cur}`);
      cur = '';
    }
    cur += `${i},`;
    cur += ' ';
  }
  if (cur !== '') lines.push(`      ${cur}`);
  return lines.map((l) => l.trimEnd()).join('\n');
}

const out = `// Generated by scripts/extract-keepalived-keywords.ts from keepalived ${tag} (github.com/acassen/keepalived):
// the install_keyword_root / install_keyword / install_sublevel calls reached from
// ${entryPoints.join(', ')}, in
${[...sources].sort().map((f) => `//   ${f}`).join('\n')}
// every #ifdef branch included. Debian's keepalived 2.2.7 (keepalived -t on each keyword alone in
// its block) knows all of them but vrrp_ipsets, which needs libipset at build time.
// Do not edit; rerun the script.

/** The keepalived release the list is read from. */
export const keepalivedTag = '${tag}';

/**
 * Keywords by the block they are written in: '' is the top level, otherwise the words of the
 * enclosing blocks ('virtual_server real_server HTTP_GET url'). A block keyword is also listed in
 * its parent's keywords.
 */
export const keepalivedKeywords: readonly { block: string; keywords: readonly string[] }[] = [
${blocks.map((b) => `  {\n    block: '${b.block}',\n    keywords: [\n${wrap(b.keywords.map((k) => `'${k}'`))}\n    ],\n  },`).join('\n')}
];
`;
writeFileSync(resolve(import.meta.dirname, '../src/import/keepalived-keywords.ts'), out);
console.log(`${blocks.length} blocks, ${blocks.reduce((n, b) => n + b.keywords.length, 0)} keywords`);
