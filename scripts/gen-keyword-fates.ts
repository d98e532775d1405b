// Writes docs/keepalived-keywords.md: the fate of every keepalived keyword in `lvs-operator import`
// (npm run gen:keyword-fates). test/unit/import/keyword-fates.test.ts fails when it is stale.
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fates, keywordFates, renderKeywordDoc } from './keyword-fates.js';

const list = keywordFates();
writeFileSync(resolve(import.meta.dirname, '../docs/keepalived-keywords.md'), renderKeywordDoc(list));
console.log(fates.map((f) => `${f}: ${list.filter((k) => k.fate === f).length}`).join(', '));
