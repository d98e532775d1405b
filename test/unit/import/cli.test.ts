import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { parseLvsObject } from '../../../src/api/index.js';
import { fixtures, root } from './helpers.js';

// `lvs-operator import` as users run it: a child process, YAML on stdout, findings on stderr.
function run(args: string[], input?: string) {
  return spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'import', ...args], {
    cwd: root,
    encoding: 'utf8',
    input,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp' },
  });
}

describe('lvs-operator import', () => {
  it('prints valid objects as YAML and the findings as file:line: level: message, exit 0', () => {
    const r = run(['--namespace', 'web', '--group', 'edge', '--node-selector', 'role=lb', `${fixtures}/seeds/002-master.conf`]);
    expect(r.status, r.stderr).toBe(0);
    const docs = parseAllDocuments(r.stdout).map((d) => d.toJS() as { kind: string; metadata: { name: string; namespace?: string } });
    expect(docs.map((d) => `${d.kind}/${d.metadata.name}`)).toEqual([
      'Secret/edge-vrrp-auth',
      'DirectorGroup/edge',
      'VirtualService/tcp-192-168-25-100-80',
      'RealServer/tcp-192-168-25-100-80-192-168-25-31-80',
      'RealServer/tcp-192-168-25-100-80-192-168-25-32-80',
    ]);
    for (const d of docs) if (d.kind !== 'Secret') expect(parseLvsObject(d).ok).toBe(true);
    expect((docs[1] as unknown as { spec: { nodeSelector: unknown } }).spec.nodeSelector).toEqual({ matchLabels: { role: 'lb' } });
    // keepalived speaks VRRP for a vrrp_instance even alone: so does an imported group.
    expect((docs[1] as unknown as { spec: { vrrp: { election: string } } }).spec.vrrp.election).toBe('Always');
    const lines = r.stderr.trim().split('\n');
    for (const l of lines) expect(l).toMatch(/^test\/unit\/import\/fixtures\/seeds\/002-master\.conf:\d+: (error|warning|info): \S/);
    expect(lines).toContain(`${fixtures}/seeds/002-master.conf:32: error: unknown keyword 'nb_get_retry' in TCP_CHECK: keepalived logs it and ignores it; not carried`);
  });

  it('--adopt marks every VirtualService to take over the IPVS service left in the kernel', () => {
    const kinds = (out: string) => parseAllDocuments(out).map((d) => d.toJS() as { kind: string; spec?: { adopt?: boolean } });
    const r = run(['--adopt', `${fixtures}/seeds/002-master.conf`]);
    expect(r.status, r.stderr).toBe(0);
    const services = kinds(r.stdout).filter((d) => d.kind === 'VirtualService');
    expect(services.length).toBeGreaterThan(0);
    for (const s of services) expect(s.spec?.adopt).toBe(true);
    for (const d of kinds(r.stdout)) if (d.kind !== 'Secret') expect(parseLvsObject(d).ok).toBe(true);
    const plain = kinds(run([`${fixtures}/seeds/002-master.conf`]).stdout).filter((d) => d.kind === 'VirtualService');
    for (const s of plain) expect(s.spec?.adopt).toBeUndefined();
  });

  it('reads stdin for -', () => {
    const r = run(['-'], readFileSync(`${root}/${fixtures}/corpus/ipvsadm-save.txt`, 'utf8'));
    expect(r.status, r.stderr).toBe(0);
    expect(parseAllDocuments(r.stdout).filter((d) => (d.toJS() as { kind: string }).kind === 'VirtualService')).toHaveLength(6);
    expect(r.stderr).toMatch(/^<stdin>:15: error: TCP 192\.0\.2\.200:80 was not added before/m);
  });

  it('exits non-zero on input it cannot parse, nothing on stdout', () => {
    const r = run([`${fixtures}/corpus/unterminated.conf`]);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`${fixtures}/corpus/unterminated.conf:4: error: unterminated block: '{' opened here is never closed\n`);
    const missing = run([`${fixtures}/no-such.conf`]);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/ENOENT/);
  });

  it('refuses a bad command line with the usage, exit 2', () => {
    const r = run(['--node-selector', 'nolabel', 'x.conf']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--node-selector takes KEY=VALUE/);
  });
});
