import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Findings, ImportError } from '../../../src/import/finding.js';
import { readKeepalivedConf } from '../../../src/import/keepalived-reader.js';

function read(text: string, files: Record<string, string> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'lvs-import-'));
  for (const [name, body] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), body);
  }
  writeFileSync(join(dir, 'keepalived.conf'), text);
  const findings = new Findings();
  const nodes = readKeepalivedConf(join(dir, 'keepalived.conf'), { findings, cwd: dir });
  return { nodes, findings: findings.list };
}

describe('keepalived.conf reader (lib/parser.c)', () => {
  it('reads words, quoted strings, # and ! comments, and blocks opened on the next line', () => {
    const { nodes, findings } = read('vrrp_instance VI # the instance\n{\n  notify "/bin/x a#b" ! comment\n  virtual_ipaddress { 10.0.0.1/24 dev eth0 }\n}\n');
    expect(findings).toEqual([]);
    expect(nodes).toHaveLength(1);
    const vi = nodes[0];
    expect(vi).toMatchObject({ keyword: 'vrrp_instance', args: ['VI'], file: 'keepalived.conf', line: 1 });
    expect(vi?.children?.map((c) => [c.keyword, c.args, c.line])).toEqual([
      ['notify', ['/bin/x a#b'], 3],
      ['virtual_ipaddress', [], 4],
    ]);
    expect(vi?.children?.[1]?.children).toMatchObject([{ keyword: '10.0.0.1/24', args: ['dev', 'eth0'], line: 4 }]);
  });

  it('reports an extra } and goes on; an unterminated { cannot be read', () => {
    const { nodes, findings } = read('a {\n}\n}\nb 1\n');
    expect(nodes.map((n) => n.keyword)).toEqual(['a', 'b']);
    expect(findings).toMatchObject([{ line: 3, level: 'error', message: "extra '}' ignored (keepalived logs it and goes on)" }]);
    expect(() => read('a {\n b {\n}\n')).toThrow(ImportError);
  });

  it('substitutes $NAME and ${NAME}, includes with braces and globs relative to the including file', () => {
    const { nodes } = read('$IF=eth9\ninclude sub/{one,two}.conf\ninterface $IF ${IF}x\n', {
      'sub/one.conf': 'first 1\ninclude ../more/*.inc\n',
      'sub/two.conf': 'second 2\n',
      'more/a.inc': 'third 3\n',
      'more/.hidden.inc': 'hidden 4\n',
    });
    expect(nodes.map((n) => [n.keyword, n.file, n.line])).toEqual([
      ['first', 'sub/one.conf', 1],
      ['third', 'more/a.inc', 1],
      ['second', 'sub/two.conf', 1],
      ['interface', 'keepalived.conf', 3],
    ]);
    expect(nodes[3]?.args).toEqual(['eth9', 'eth9x']);
  });
});
