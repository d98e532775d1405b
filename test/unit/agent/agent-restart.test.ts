// A restarted agent finds its services programmed and must not pull their real servers while it
// checks them again: the kernel's keys start healthy. A pass requested before start() (VRRP's
// first transition asks for one) must not run early and miss that adoption, or the real servers
// of a master leave the table and new connections are refused until the checks come back.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Agent } from '../../../src/agent/agent.js';
import { MemoryOwnershipStore } from '../../../src/agent/ownership.js';
import { Reconciler } from '../../../src/agent/reconciler.js';
import { FileSource } from '../../../src/agent/source.js';
import { HealthChecker } from '../../../src/health/index.js';
import { FakeIpvsClient } from '../../../src/ipvs/fake.js';
import { FakeLinkClient, FakeSysctl } from '../../../src/link/index.js';
import { toNodes } from '../../lab/agents.js';

const dir = mkdtempSync(join(tmpdir(), 'agent-restart-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const manifest = [
  'apiVersion: lvs.dev/v1alpha1\nkind: DirectorGroup\nmetadata: {name: g1}\nspec:\n  nodeSelector: {matchLabels: {lvs.dev/director: g1}}\n  interface: eth0',
  'apiVersion: lvs.dev/v1alpha1\nkind: VirtualService\nmetadata: {name: web, namespace: t}\nspec:\n  vip: 192.0.2.10\n  port: 80\n  protocol: TCP\n  scheduler: wrr\n  forwarding: {method: DR}\n  backends: {realServerSelector: {matchLabels: {app: web}}}\n  healthCheck: {type: TCP, intervalSeconds: 2, timeoutSeconds: 1, rise: 1, fall: 1}\n  directorGroup: g1',
  ...[1, 2].map((i) => `apiVersion: lvs.dev/v1alpha1\nkind: RealServer\nmetadata: {name: rs${i}, namespace: t, labels: {app: web}}\nspec: {address: 192.0.2.${20 + i}}`),
].join('\n---\n');

const dests = (ipvs: FakeIpvsClient): Promise<number> => ipvs.listServicesWithDests({ stats: false }).then((s) => s.reduce((n, x) => n + x.dests.length, 0));
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('an agent restarted on a programmed director', () => {
  it('keeps the real servers in the table while it checks them again, even when a pass was asked for before start', async () => {
    const file = join(dir, 'm.yaml');
    writeFileSync(file, manifest);
    const source = new FileSource([file], toNodes([{ name: 'd1', labels: { 'lvs.dev/director': 'g1' } }]));
    await source.reload();
    const ipvs = new FakeIpvsClient();
    const store = new MemoryOwnershipStore();
    const reconciler = (): Reconciler => new Reconciler({ ipvs, link: new FakeLinkClient(['lo', 'eth0']), sysctl: new FakeSysctl(), store });

    // The first run: every probe answers, both real servers go in.
    const first = new Agent({ node: 'd1', source, reconciler: reconciler(), debounceMs: 1, checker: new HealthChecker({ probe: async () => ({ ok: true, latencyMs: 1 }) }) });
    await first.start();
    for (let i = 0; i < 100 && (await dests(ipvs)) < 2; i++) await sleep(20);
    expect(await dests(ipvs)).toBe(2);
    await first.stop();
    first.checker.close();

    // The next run: its probes have not answered yet.
    const ops = ipvs.applied.length;
    const checker = new HealthChecker({ probe: () => new Promise(() => undefined) });
    const next = new Agent({ node: 'd1', source, reconciler: reconciler(), debounceMs: 1, checker });
    next.schedule(0);
    await sleep(30);
    await next.start();
    await sleep(30);
    expect(await dests(ipvs)).toBe(2);
    expect(ipvs.applied.slice(ops)).toEqual([]);
    await next.stop();
    checker.close();
  });
});

describe('an agent adopting an IPVS service somebody else made (spec.adopt)', () => {
  it('keeps the real servers that serve there while their first checks run; a server not serving starts down', async () => {
    const file = join(dir, 'adopt.yaml');
    writeFileSync(file, manifest.replace('  directorGroup: g1', '  adopt: true\n  directorGroup: g1')
      .replace('spec: {address: 192.0.2.21}', 'spec: {address: 192.0.2.21, weight: 3}') + '\n---\napiVersion: lvs.dev/v1alpha1\nkind: RealServer\nmetadata: {name: rs3, namespace: t, labels: {app: web}}\nspec: {address: 192.0.2.23}');
    const source = new FileSource([file], toNodes([{ name: 'd1', labels: { 'lvs.dev/director': 'g1' } }]));
    await source.reload();
    const ipvs = new FakeIpvsClient();
    const key = { af: 'IPv4' as const, protocol: 'tcp' as const, addr: '192.0.2.10', port: 80 };
    const dest = (addr: string, weight: number) => ({ key, dest: { addr, port: 80, fwd: 'route' as const, weight, upperThreshold: 0, lowerThreshold: 0 } });
    // keepalived's table, left by --dont-release-ipvs: rs1 and rs2 up, rs3 not there.
    await ipvs.apply([
      { op: 'add-service', service: { key, scheduler: 'wrr', flags: [], timeout: 0, netmask: 32 } },
      { op: 'add-dest', ...dest('192.0.2.21', 1) },
      { op: 'add-dest', ...dest('192.0.2.22', 1) },
    ]);
    const ops = ipvs.applied.length;
    const checker = new HealthChecker({ probe: () => new Promise(() => undefined) }); // no answer yet
    const agent = new Agent({ node: 'd1', source, reconciler: new Reconciler({ ipvs, link: new FakeLinkClient(['lo', 'eth0']), sysctl: new FakeSysctl(), store: new MemoryOwnershipStore() }), debounceMs: 1, checker });
    await agent.start();
    await sleep(30);
    const table = (await ipvs.listServicesWithDests({ stats: false }))[0]!;
    expect(table.dests.map((d) => `${d.addr} w${d.weight}`).sort()).toEqual(['192.0.2.21 w3', '192.0.2.22 w1']);
    // Edited in place: one weight, nothing removed, nothing added while rs3's check is pending.
    expect(ipvs.applied.slice(ops).map((o) => o.op)).toEqual(['edit-dest']);
    expect(agent.lastPass?.result.foreign).toEqual([]);
    await agent.stop();
    checker.close();
  });
});

describe('a VirtualService that asks to adopt after the agent started', () => {
  it('keeps the real servers serving in the adopted service while their first checks run', async () => {
    const file = join(dir, 'adopt-later.yaml');
    const adopting = manifest.replace('  directorGroup: g1', '  adopt: true\n  directorGroup: g1');
    // First without the VirtualService: the agent runs, the table is somebody else's.
    writeFileSync(file, adopting.split('\n---\n').filter((d) => !d.includes('kind: VirtualService')).join('\n---\n'));
    const source = new FileSource([file], toNodes([{ name: 'd1', labels: { 'lvs.dev/director': 'g1' } }]));
    await source.reload();
    const ipvs = new FakeIpvsClient();
    const key = { af: 'IPv4' as const, protocol: 'tcp' as const, addr: '192.0.2.10', port: 80 };
    const dest = (addr: string) => ({ key, dest: { addr, port: 80, fwd: 'route' as const, weight: 1, upperThreshold: 0, lowerThreshold: 0 } });
    await ipvs.apply([{ op: 'add-service', service: { key, scheduler: 'wrr', flags: [], timeout: 0, netmask: 32 } }, { op: 'add-dest', ...dest('192.0.2.21') }, { op: 'add-dest', ...dest('192.0.2.22') }]);
    const checker = new HealthChecker({ probe: () => new Promise(() => undefined) }); // no answer yet
    const agent = new Agent({ node: 'd1', source, reconciler: new Reconciler({ ipvs, link: new FakeLinkClient(['lo', 'eth0']), sysctl: new FakeSysctl(), store: new MemoryOwnershipStore() }), debounceMs: 1, checker });
    await agent.start();
    await sleep(30);
    const ops = ipvs.applied.length;
    // The VirtualService arrives with adopt: the model says it changed, and it is looked at.
    writeFileSync(file, adopting);
    await source.reload();
    await sleep(50);
    const table = (await ipvs.listServicesWithDests({ stats: false }))[0]!;
    expect(table.dests.map((d) => `${d.addr} w${d.weight}`).sort()).toEqual(['192.0.2.21 w1', '192.0.2.22 w1']);
    expect(ipvs.applied.slice(ops).map((o) => o.op)).toEqual([]);
    expect(agent.lastPass?.result.foreign).toEqual([]);
    await agent.stop();
    checker.close();
  });
});
