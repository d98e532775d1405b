import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LabCluster, type LabNodeHandle } from '../test/lab/cluster.js';
import { waitFor } from '../test/lab/agents.js';

describe('lab cluster smoke', () => {
  let lab: LabCluster;
  let d1: LabNodeHandle;
  beforeAll(async () => {
    lab = await LabCluster.create({ name: 'smoke', progress: (l) => console.log(l) });
    d1 = await lab.node('d1', '10.250.0.11');
  });
  afterAll(async () => {
    await lab?.destroy();
  });

  it('an agent in a lab kernel programs a VirtualService applied to the API server', async () => {
    const node = { apiVersion: 'v1', kind: 'Node', metadata: { name: 'd1', labels: { 'lvs.dev/director': 'g1' } } };
    const objs = [
      node,
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'smoke' } },
      { apiVersion: 'lvs.dev/v1alpha1', kind: 'DirectorGroup', metadata: { name: 'g1' }, spec: { nodeSelector: { matchLabels: { 'lvs.dev/director': 'g1' } }, interface: 'eth0' } },
      { apiVersion: 'lvs.dev/v1alpha1', kind: 'VirtualService', metadata: { name: 'web', namespace: 'smoke' }, spec: { vip: '10.250.0.100', port: 80, protocol: 'TCP', scheduler: 'rr', backends: { realServerSelector: { matchLabels: { app: 'web' } } }, healthCheck: { type: 'None' }, directorGroup: 'g1' } },
      { apiVersion: 'lvs.dev/v1alpha1', kind: 'RealServer', metadata: { name: 'rs1', namespace: 'smoke', labels: { app: 'web' } }, spec: { address: '10.250.0.21', port: 8080 } },
    ];
    const r = await lab.api.kubectl(['apply', '-f', '-'], { input: objs.map((o) => JSON.stringify(o)).join('\n') });
    expect(r.stderr).toBe('');
    expect(await waitFor(async () => (await d1.exec('ipvsadm -Sn')).includes('-a -t 10.250.0.100:80 -r 10.250.0.21:8080 -m -w 1'), 60_000)).toBe(true);
  });
});
