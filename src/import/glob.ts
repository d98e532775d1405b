import { readdirSync, statSync } from 'node:fs';
import { isAbsolute, join, resolve, sep } from 'node:path';

// The glob(3) keepalived's `include` uses (GLOB_BRACE): `*`, `?`, `[...]` within a path segment
// and `{a,b}` alternatives; matches sorted, as glob(3) sorts them. Node 20 has no fs.glob.

function hasMagic(segment: string): boolean {
  return /[*?[]/.test(segment);
}

function segmentRegExp(segment: string): RegExp {
  let re = '';
  for (let i = 0; i < segment.length; i++) {
    const c = segment[i] as string;
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = segment.indexOf(']', i + 2);
      if (end < 0) re += '\\[';
      else {
        const body = segment.slice(i + 1, end).replace(/^!/, '^').replace(/\\/g, '\\\\');
        re += `[${body}]`;
        i = end;
      }
    } else re += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  // glob(3) hides dot files unless the pattern names the dot.
  return new RegExp(`^${segment.startsWith('.') ? '' : '(?!\\.)'}${re}$`);
}

/** `a{b,c}d` -> [`abd`, `acd`], innermost first, so nested braces work too. */
function expandBraces(pattern: string): string[] {
  const m = /\{([^{}]*)\}/.exec(pattern);
  if (!m) return [pattern];
  const head = pattern.slice(0, m.index);
  const tail = pattern.slice(m.index + m[0].length);
  return (m[1] as string).split(',').flatMap((alt) => expandBraces(head + alt + tail));
}

function walk(base: string, segments: string[]): string[] {
  if (segments.length === 0) return [base];
  const [first, ...rest] = segments as [string, ...string[]];
  if (!hasMagic(first)) return walk(join(base, first), rest);
  let entries: string[];
  try {
    entries = readdirSync(base);
  } catch {
    return [];
  }
  const re = segmentRegExp(first);
  return entries.filter((e) => re.test(e)).sort().flatMap((e) => walk(join(base, e), rest));
}

/** Existing paths matching `pattern`, relative patterns taken from `dir`. */
export function expandGlob(pattern: string, dir: string): string[] {
  const out: string[] = [];
  for (const p of expandBraces(pattern)) {
    const abs = isAbsolute(p) ? p : resolve(dir, p);
    const [root, ...segments] = abs.split(sep);
    for (const path of walk(root === '' ? sep : root as string, segments.filter((s) => s !== ''))) {
      try {
        statSync(path);
        out.push(path);
      } catch {
        // A literal path that does not exist matches nothing, as in glob(3).
      }
    }
  }
  return out;
}
