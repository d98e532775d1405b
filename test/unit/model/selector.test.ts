import { describe, expect, it } from 'vitest';
import { formatSelector, matchesSelector } from '../../../src/model/selector.js';

describe('matchesSelector', () => {
  const labels = { app: 'web', tier: 'front' };
  const cases: [string, Parameters<typeof matchesSelector>[0], Record<string, string> | undefined, boolean][] = [
    ['empty selector matches everything', {}, labels, true],
    ['empty selector matches no labels', {}, undefined, true],
    ['matchLabels all present', { matchLabels: { app: 'web', tier: 'front' } }, labels, true],
    ['matchLabels one differs', { matchLabels: { app: 'web', tier: 'back' } }, labels, false],
    ['In', { matchExpressions: [{ key: 'app', operator: 'In', values: ['db', 'web'] }] }, labels, true],
    ['In, key absent', { matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] }, labels, false],
    ['NotIn with the value', { matchExpressions: [{ key: 'app', operator: 'NotIn', values: ['web'] }] }, labels, false],
    ['NotIn, key absent matches', { matchExpressions: [{ key: 'zone', operator: 'NotIn', values: ['a'] }] }, labels, true],
    ['Exists', { matchExpressions: [{ key: 'tier', operator: 'Exists' }] }, labels, true],
    ['DoesNotExist', { matchExpressions: [{ key: 'tier', operator: 'DoesNotExist' }] }, labels, false],
    ['labels and expressions are ANDed', { matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['back'] }] }, labels, false],
  ];
  for (const [name, sel, l, want] of cases) it(name, () => expect(matchesSelector(sel, l)).toBe(want));

  it('formats like kubectl -l', () => {
    expect(formatSelector({ matchLabels: { a: 'b' }, matchExpressions: [{ key: 'c', operator: 'NotIn', values: ['d', 'e'] }, { key: 'f', operator: 'DoesNotExist' }] })).toBe(
      'a=b,c notin (d,e),!f',
    );
    expect(formatSelector({})).toBe('(everything)');
  });
});
