import type { LabelSelector } from '../api/index.js';

/**
 * `metav1.LabelSelector` semantics: matchLabels and matchExpressions are ANDed, an empty
 * selector matches everything, and NotIn / DoesNotExist match objects without the key.
 */
export function matchesSelector(selector: LabelSelector, labels: Readonly<Record<string, string>> | undefined): boolean {
  const l = labels ?? {};
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (l[k] !== v) return false;
  for (const r of selector.matchExpressions ?? []) {
    const has = Object.hasOwn(l, r.key);
    const value = l[r.key];
    const values = r.values ?? [];
    switch (r.operator) {
      case 'In':
        if (!has || !values.includes(value as string)) return false;
        break;
      case 'NotIn':
        if (has && values.includes(value as string)) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
    }
  }
  return true;
}

/** `a=b,c in (d,e)` for messages. */
export function formatSelector(selector: LabelSelector): string {
  const parts = Object.entries(selector.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
  for (const r of selector.matchExpressions ?? []) {
    const vs = (r.values ?? []).join(',');
    if (r.operator === 'In') parts.push(`${r.key} in (${vs})`);
    else if (r.operator === 'NotIn') parts.push(`${r.key} notin (${vs})`);
    else if (r.operator === 'Exists') parts.push(r.key);
    else parts.push(`!${r.key}`);
  }
  return parts.length ? parts.join(',') : '(everything)';
}
