import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { keepalivedKeywords } from '../../../src/import/keepalived-keywords.js';
import { classify, keywordFates, renderKeywordDoc } from '../../../scripts/keyword-fates.js';
import { root } from './helpers.js';

// Every keyword keepalived 2.2.7 knows has a fate in the importer, and docs/keepalived-keywords.md says which.

describe('keepalived keyword fates', () => {
  const list = keywordFates();

  it('covers every keyword of the list once per block', () => {
    expect(list.length).toBe(keepalivedKeywords.reduce((n, b) => n + b.keywords.length, 0));
  });

  it('reports no keyword keepalived knows as unknown, and drops none without a word', () => {
    const bad = list.filter((k) => k.fate === 'unknown' || k.fate === 'silent').map((k) => `${k.block} ${k.keyword}: ${k.fate} (${k.detail})`);
    expect(bad).toEqual([]);
  });

  it('tells a keyword keepalived does not know, and one that is mapped, from the rest', () => {
    expect(classify(['virtual_server'], 'nat_mask').fate).toBe('unknown');
    expect(classify(['virtual_server', 'real_server', 'TCP_CHECK'], 'nb_get_retry').fate).toBe('unknown');
    expect(classify(['virtual_server'], 'lb_algo')).toEqual({ fate: 'mapped', detail: '`VirtualService.spec.scheduler`' });
  });

  it('docs/keepalived-keywords.md is current (npm run gen:keyword-fates)', () => {
    expect(readFileSync(resolve(root, 'docs/keepalived-keywords.md'), 'utf8')).toBe(renderKeywordDoc(list));
  });
});
