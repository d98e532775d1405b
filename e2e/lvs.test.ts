import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../test/lab/agents.js';
import { run } from '../test/lab/inside.js';
import { steadyLoad, tallyConnections } from '../test/lab/servers.js';
import { createEnv, vip, type E2eEnv } from './env.js';

// The product end to end on the lab cluster: resources in the API server, agents in real
// kernels, real packets. One director here; failover between directors is in failover.test.ts.
interface Vs {
  status?: {
    conditions?: { type: string; status: string; reason: string }[];
    directors?: { node: string; programmedGeneration?: number; healthy?: number; total?: number }[];
    backends?: { healthy: number; total: number };
  };
  metadata: { generation: number };
}

const objects = [
  { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'web' } },
  {
    apiVersion: 'lvs.dev/v1alpha1', kind: 'DirectorGroup', metadata: { name: 'edge' },
    spec: { nodeSelector: { matchLabels: { 'lvs.dev/director': 'edge' } }, interface: 'eth0' },
  },
  {
    apiVersion: 'lvs.dev/v1alpha1', kind: 'VirtualService', metadata: { name: 'www', namespace: 'web' },
    spec: {
      vip, port: 80, protocol: 'TCP', scheduler: 'wrr', forwarding: { method: 'DR' },
      backends: { realServerSelector: { matchLabels: { app: 'www' } } },
      healthCheck: { type: 'TCP', intervalSeconds: 2, timeoutSeconds: 1, rise: 1, fall: 2 },
      directorGroup: 'edge',
    },
  },
  ...[1, 2, 3].map((i) => ({
    apiVersion: 'lvs.dev/v1alpha1', kind: 'RealServer', metadata: { name: `rs-${i}`, namespace: 'web', labels: { app: 'www' } },
    spec: { address: `10.250.0.${20 + i}`, weight: i === 3 ? 2 : 1, nodeName: `rs-${i}` },
  })),
];

describe('lvs-operator on the lab cluster', () => {
  let env: E2eEnv;
  const d1 = () => env.directors[0]!;
  const vs = () => env.getJson<Vs>(['get', 'virtualservice', 'www', '-n', 'web']);
  const healthyOnD1 = async (): Promise<number | undefined> => (await vs()).status?.directors?.find((d) => d.node === 'd1')?.healthy;
  const dests = async (): Promise<string[]> => (await d1().exec('ipvsadm -Sn')).split('\n').filter((l) => l.startsWith('-a'));

  beforeAll(async () => {
    env = await createEnv('e2e', 1, (l) => console.log(l));
  });
  afterAll(async () => {
    await env?.destroy();
  });

  it('installs: CRDs are served, examples apply cleanly', async () => {
    const crds = await env.lab.api.kubectl(['get', 'crd', '-o', 'name']);
    expect(crds.stdout).toContain('virtualservices.lvs.dev');
    await env.lab.api.kubectl(['apply', '-f', 'examples/00-namespaces.yaml']);
    const r = await env.lab.api.kubectl(['apply', '--dry-run=server', '-f', 'examples/'], {});
    expect(r.code, r.stderr).toBe(0);
  });

  it('programs the director and the real servers, and reports it in status', async () => {
    await env.apply(objects);
    expect(await waitFor(async () => (await dests()).length === 3, 60_000)).toBe(true);
    expect(await d1().exec('ipvsadm -Sn')).toContain(`-a -t ${vip}:80 -r 10.250.0.23:80 -g -w 2`);
    expect(await d1().exec('ip -o addr show dev eth0')).toContain(`${vip}/32`);
    for (const rs of env.realServers) {
      expect(await waitFor(async () => (await rs.ns.ip('-o', 'addr', 'show', 'dev', 'lo')).stdout.includes(`${vip}/32`), 30_000)).toBe(true);
      expect((await rs.ns.exec('sysctl', ['-n', 'net.ipv4.conf.all.arp_ignore'])).stdout.trim()).toBe('1');
    }
    expect(await waitFor(async () => {
      const s = await vs();
      const mine = s.status?.directors?.find((d) => d.node === 'd1');
      const ready = s.status?.conditions?.find((c) => c.type === 'Ready');
      return mine?.programmedGeneration === s.metadata.generation && mine.healthy === 3 && ready?.status === 'True';
    }, 60_000)).toBe(true);
    const table = await env.lab.api.kubectl(['get', 'lvsvs', '-n', 'web']);
    expect(table.stdout).toMatch(/www\s+10\.250\.0\.100\s+80\s+TCP\s+wrr\s+DR/);
  });

  it('spreads client connections by weight (1:1:2)', async () => {
    expect(await tallyConnections(env.client, vip, 80, 40)).toEqual({ 'rs-1': 10, 'rs-2': 10, 'rs-3': 20 });
  });

  it('takes a failed real server out and puts it back when it recovers', async () => {
    await env.setServer(env.realServers[2]!, false);
    expect(await waitFor(async () => (await dests()).length === 2, 30_000)).toBe(true);
    expect(await tallyConnections(env.client, vip, 80, 10)).toEqual({ 'rs-1': 5, 'rs-2': 5 });
    expect(await waitFor(async () => (await healthyOnD1()) === 2, 30_000)).toBe(true);
    await env.setServer(env.realServers[2]!, true);
    expect(await waitFor(async () => (await dests()).length === 3, 30_000)).toBe(true);
  });

  it('keeps serving and health-checking through an API server outage, and catches up after', async () => {
    const link = `lvsc-e2e`;
    await run('ip', ['link', 'set', link, 'down']);
    try {
      // The control plane is gone; the data plane is not.
      expect(await tallyConnections(env.client, vip, 80, 8)).toEqual({ 'rs-1': 2, 'rs-2': 2, 'rs-3': 4 });
      await env.setServer(env.realServers[0]!, false);
      expect(await waitFor(async () => (await dests()).length === 2, 30_000)).toBe(true);
      expect(await tallyConnections(env.client, vip, 80, 6)).toEqual({ 'rs-2': 2, 'rs-3': 4 });
    } finally {
      await run('ip', ['link', 'set', link, 'up']);
    }
    // Status catches up with what happened during the outage.
    expect(await waitFor(async () => (await healthyOnD1()) === 2, 90_000)).toBe(true);
    await env.setServer(env.realServers[0]!, true);
    expect(await waitFor(async () => (await dests()).length === 3, 30_000)).toBe(true);
  });

  it('restarts the agent under steady load without failing a request', async () => {
    const load = steadyLoad(env.client, vip, 80, 15_000);
    await new Promise((r) => setTimeout(r, 2000));
    await d1().restartAgent();
    const tally = await load;
    expect(Object.keys(tally).filter((k) => k.startsWith('error:'))).toEqual([]);
    expect((tally['rs-1'] ?? 0) + (tally['rs-2'] ?? 0) + (tally['rs-3'] ?? 0)).toBeGreaterThan(20);
  });

  it('leaves no trace in the kernels when the VirtualService is deleted', async () => {
    const foreignBefore = await d1().exec('ipvsadm -A -t 10.250.0.200:443 -s rr && ipvsadm -Sn');
    expect(foreignBefore).toContain('10.250.0.200:443');
    await env.lab.api.kubectl(['delete', 'virtualservice', 'www', '-n', 'web']);
    expect(await waitFor(async () => !(await d1().exec('ipvsadm -Sn')).includes(vip), 30_000)).toBe(true);
    expect(await d1().exec('ip -o addr show dev eth0')).not.toContain(`${vip}/32`);
    expect(await d1().exec('ipvsadm -Sn')).toContain('-A -t 10.250.0.200:443 -s rr'); // someone else's: untouched
    for (const rs of env.realServers) {
      expect(await waitFor(async () => !(await rs.ns.ip('-o', 'addr', 'show', 'dev', 'lo')).stdout.includes(`${vip}/32`), 30_000)).toBe(true);
      expect((await rs.ns.exec('sysctl', ['-n', 'net.ipv4.conf.all.arp_ignore'])).stdout.trim()).toBe('0');
    }
  });
});
