// The notices of the npm packages inside the bundle: their licenses ask that copies carry them,
// and a bundle has no node_modules/*/LICENSE files of its own.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Package dirs (relative to root, e.g. node_modules/@scope/name) of the bundle's input files. */
function packageDirs(inputs: string[]): string[] {
  const dirs = new Set<string>();
  for (const file of inputs) {
    const m = /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(file);
    if (m?.[1]) dirs.add(m[1]);
  }
  return [...dirs].sort();
}

/** One text: per package its name, version, declared license and license file(s). */
export function thirdPartyNotices(root: string, inputs: string[]): string {
  const parts: string[] = [];
  for (const dir of packageDirs(inputs)) {
    const pkg = JSON.parse(readFileSync(join(root, dir, 'package.json'), 'utf8')) as { name: string; version: string; license?: string };
    const files = readdirSync(join(root, dir)).filter((f) => /^(licen[cs]e|copying|notice)/i.test(f)).sort();
    const texts = files.map((f) => readFileSync(join(root, dir, f), 'utf8').trim());
    if (texts.length === 0 && !pkg.license) throw new Error(`${dir}: no license file and no license field`);
    parts.push([`${pkg.name} ${pkg.version} (${pkg.license ?? 'see below'})`, ...texts].join('\n\n'));
  }
  const rule = `\n\n${'-'.repeat(78)}\n\n`;
  return `The kubectl-lvs bundle (dist/cli/lvs-operator.mjs) contains these npm packages.${rule}${parts.join(rule)}\n`;
}
