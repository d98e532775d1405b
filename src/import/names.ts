import { createHash } from 'node:crypto';

/**
 * A Kubernetes name (and label value) from free text: lower case, `-` for anything else, at
 * most 63 characters; a longer one keeps its start and gets a hash of the whole, so two long
 * IPv6 names stay distinct.
 */
export function objectName(...parts: (string | number)[]): string {
  const text = parts.join('-');
  const slug = text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  if (slug.length <= 63) return slug === '' ? 'imported' : slug;
  const hash = createHash('sha256').update(text).digest('hex').slice(0, 8);
  return `${slug.slice(0, 54).replace(/-+$/, '')}-${hash}`;
}
