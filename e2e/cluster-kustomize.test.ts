import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../test/lab/agents.js';
import { kustomizeApply } from '../test/lab/kube-install.js';
import { createSite, type Site } from '../test/lab/kube-site.js';
import { tallyConnections } from '../test/lab/servers.js';
import { hostServerDaemonSet, workloadConfigMap } from '../test/lab/workloads/manifests.js';
import { projectRoot } from '../test/lab/paths.js';

// The second way users install: `kubectl apply -k` of deploy/ (what Argo CD and Flux point at),
// the image set by a kustomization on top, the agent unprivileged as deploy/ ships it. The nodes
// are provisioned as docs/operations.md says for that case: the sysctls preset (sysctl.d).
const subnet = '192.168.40';
const vip = `${subnet}.100`;
const directorSysctls = ['sysctl -qw net.ipv4.conf.all.send_redirects=0 net.ipv4.conf.eth0.send_redirects=0'];
const realServerSysctls = ['sysctl -qw net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.all.arp_announce=2 net.ipv4.conf.lo.arp_ignore=1 net.ipv4.conf.lo.arp_announce=2'];

describe('lvs-operator installed with kubectl apply -k deploy/ on a cluster of real nodes', () => {
  let site: Site;
  const ipvs = (node: string): Promise<string> => site.nodes.get(node)!.exec('ipvsadm -Sn');

  beforeAll(async () => {
    site = await createSite({
      name: 'e2e-kz', subnet, client: 50, progress: (l) => console.log(l),
      nodes: [
        { name: 'd1', host: 11, labels: { 'lvs.dev/director': 'edge' }, setup: directorSysctls },
        { name: 'd2', host: 12, labels: { 'lvs.dev/director': 'edge' }, setup: directorSysctls },
        { name: 'rs-1', host: 21, labels: { 'lvs.dev/web': 'true' }, setup: realServerSysctls },
        { name: 'rs-2', host: 22, labels: { 'lvs.dev/web': 'true' }, setup: realServerSysctls },
      ],
    });
  });
  afterAll(async () => {
    await site?.destroy();
  });

  it('the controller Deployment and the agent DaemonSet roll out Ready under kubelet\'s probes', async () => {
    const t0 = Date.now();
    await kustomizeApply(site, site.image);
    for (const w of ['deployment/lvs-operator-controller', 'daemonset/lvs-operator-agent']) {
      const r = await site.kubectlRaw(['rollout', 'status', w, '-n', 'lvs-system', '--timeout=600s']);
      expect(r.code, r.stderr).toBe(0);
    }
    console.log(`e2e-figures ${JSON.stringify({ what: 'kubectl apply -k to all Ready', ms: Date.now() - t0 })}`);
    const images = await site.kubectl(['get', 'pods', '-n', 'lvs-system', '-o', 'jsonpath={.items[*].spec.containers[0].image}']);
    expect(new Set(images.trim().split(/\s+/))).toEqual(new Set([site.image.ref]));
  });

  it('unprivileged agents program IPVS and VRRP on the directors and the real-server side on their own nodes', async () => {
    const ns = 'kz';
    await site.kubectl(['apply', '-f', '-'], [
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } },
      workloadConfigMap(ns),
      hostServerDaemonSet('web', ns, 'lvs.dev/web', { image: site.image.ref, args: ['http', '80'], readiness: { port: 80, scheme: 'HTTP' } }),
      { apiVersion: 'lvs.dev/v1alpha1', kind: 'DirectorGroup', metadata: { name: 'edge' }, spec: { nodeSelector: { matchLabels: { 'lvs.dev/director': 'edge' } }, interface: 'eth0', vrrp: { version: 3, advertIntervalMs: 500 } } },
      {
        apiVersion: 'lvs.dev/v1alpha1', kind: 'VirtualService', metadata: { name: 'www', namespace: ns },
        spec: { vip, port: 80, protocol: 'TCP', scheduler: 'rr', forwarding: { method: 'DR' }, backends: { realServerSelector: { matchLabels: { app: 'web' } } }, healthCheck: { type: 'HTTP', intervalSeconds: 2, timeoutSeconds: 1, http: { path: '/' } }, directorGroup: 'edge' },
      },
      ...[1, 2].map((i) => ({ apiVersion: 'lvs.dev/v1alpha1', kind: 'RealServer', metadata: { name: `rs-${i}`, namespace: ns, labels: { app: 'web' } }, spec: { address: `${subnet}.${20 + i}`, nodeName: `rs-${i}` } })),
    ].map((o) => JSON.stringify(o)).join('\n'));
    const ready = await waitFor(async () => {
      const v = JSON.parse(await site.kubectl(['get', 'virtualservice', 'www', '-n', ns, '-o', 'json'])) as { status?: { master?: string; backends?: { healthy: number }; conditions?: { type: string; status: string }[] } };
      return v.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true && v.status.backends?.healthy === 2 && !!v.status.master;
    }, 180_000);
    expect(ready).toBe(true);
    const master = (JSON.parse(await site.kubectl(['get', 'virtualservice', 'www', '-n', ns, '-o', 'json'])) as { status: { master: string } }).status.master;
    expect(await ipvs(master)).toContain(`-A -t ${vip}:80 -s rr`);
    expect(await site.nodes.get(master)!.exec('ip -o addr show dev eth0')).toContain(`${vip}/32`);
    expect(await site.nodes.get('rs-1')!.exec('ip -o addr show dev lo')).toContain(`${vip}/32`);
    const t = await tallyConnections(site.client, vip, 80, 20, 'http');
    expect(t).toEqual({ 'rs-1': 10, 'rs-2': 10 });
  });

  it('kubectl delete -k deploy/ removes the agents, and with them their kernel state', async () => {
    // The overlay's objects are deploy/'s; deleting the base removes the same ones.
    const r = await site.kubectlRaw(['delete', '-k', `${projectRoot}/deploy`, '--ignore-not-found', '--wait=true', '--timeout=300s']);
    expect(r.code, r.stderr).toBe(0);
    for (const [name, node] of site.nodes) {
      expect(await waitFor(async () => (await node.exec('ipvsadm -Sn')).trim() === '', 60_000), `${name}: IPVS`).toBe(true);
      expect(await node.exec('ip -o addr'), name).not.toContain(vip);
    }
  });
});
