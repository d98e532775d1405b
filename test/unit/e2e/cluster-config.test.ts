import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadClusterConfig } from '../../../e2e/cluster-config.js';

const write = (o: unknown): string => {
  const dir = mkdtempSync(join(tmpdir(), 'cluster-config-'));
  const file = join(dir, 'cluster.json');
  writeFileSync(file, typeof o === 'string' ? o : JSON.stringify(o));
  return file;
};

describe('the e2e cluster file', () => {
  it('reads the example, with relative paths taken from the file and defaults filled in', () => {
    const c = loadClusterConfig(join(import.meta.dirname, '../../../e2e/cluster.example.json'));
    expect(c.directors).toEqual(['lb-1', 'lb-2']);
    expect(Object.keys(c.faults.crashNode ?? {})).toEqual(['lb-1', 'lb-2']);
    expect(c.bgp?.peers).toEqual([{ address: '192.0.2.1', asn: 65000 }]);
    const file = write({ ...JSON.parse(JSON.stringify(c)), kubeconfig: 'kube/admin.conf', image: { repository: 'r', tag: 't', upgradeTag: 'u' }, faults: undefined });
    const d = loadClusterConfig(file);
    expect(d.kubeconfig).toBe(join(file, '../kube/admin.conf'));
    expect(d.image.pullPolicy).toBe('IfNotPresent');
    expect(d.faults).toEqual({});
  });

  it('says which field is wrong', () => {
    const c = JSON.parse(JSON.stringify(loadClusterConfig(join(import.meta.dirname, '../../../e2e/cluster.example.json'))));
    expect(() => loadClusterConfig(write({ ...c, realServers: c.realServers.slice(0, 2) }))).toThrow(/realServers: /);
    expect(() => loadClusterConfig(write({ ...c, vips: { dr: 'x', nat: c.vips.nat } }))).toThrow(/vips\.dr: an IPv4 address/);
    expect(() => loadClusterConfig(write({ ...c, extra: 1 }))).toThrow(/extra|Unrecognized/);
    expect(() => loadClusterConfig(write({ ...c, bgp: { ...c.bgp, peers: [] } }))).toThrow(/bgp\.peers: /);
    expect(() => loadClusterConfig(write({ ...c, bgp: { ...c.bgp, localASN: 0 } }))).toThrow(/bgp\.localASN: /);
    expect(() => loadClusterConfig(write('{ not json'))).toThrow(/cluster\.json: /);
  });
});
