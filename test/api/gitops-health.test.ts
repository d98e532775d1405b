// GitOps health of lvs.dev objects on a real kube-apiserver, judged by the tools' own rules:
// kstatus (what Flux waits on) through `kapply status` from sigs.k8s.io/cli-utils, and the Argo CD
// health customization of docs/install.md run by a Lua 5.1 interpreter (test/lab/gitops.ts).
//
// The controller runs in-process and writes every condition itself. No agent runs in this tier,
// so what an agent reports (its status.directors[] entry of a VirtualService) is written
// the way src/agent/reporter.ts writes it: server-side apply on the status subresource with the
// field manager lvs-agent/<node>, typed with the same DirectorView/RealServer status types.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { stringify } from 'yaml';
import type { DirectorGroup, DirectorView, RealServer, VirtualService } from '../../src/api/index.js';
import { argoHealth, argoHealthScripts, ensureKapply, kstatus, type KStatusResult } from '../lab/gitops.js';
import { condition, eventually, installCrds, kit, nodeObject, unique } from './controller-kit.js';

const k = await kit(inject('kubeconfig'), inject('binDir'), 'gitops');
const c = k.clients;
const suffix = unique('gh');
const ns = suffix;
const dirLabel = `lvs.dev/director-${suffix}`;
const group = `edge-${suffix}`;
const dirA = `${suffix}-dir-a`;
let binDir: string;

const vsRef = (name: string) => ({ apiVersion: 'lvs.dev/v1alpha1', kind: 'VirtualService', namespace: ns, name });
const rsRef = (name: string) => ({ apiVersion: 'lvs.dev/v1alpha1', kind: 'RealServer', namespace: ns, name });
const dgRef = (name: string) => ({ apiVersion: 'lvs.dev/v1alpha1', kind: 'DirectorGroup', name });

const getVS = async (name: string) => (await c.virtualServices.get(name, ns)) as VirtualService;
const getRS = async (name: string) => (await c.realServers.get(name, ns)) as RealServer;
const getDG = async (name: string) => (await c.directorGroups.get(name)) as DirectorGroup;

/** kstatus of several objects in one `kapply status` run, in the order given. */
async function ks(...refs: { kind: string; name: string; namespace?: string; apiVersion: string }[]): Promise<KStatusResult[]> {
  return kstatus(k.kubeconfig, refs, { binDir });
}

/** What the agent on `node` reports for a VirtualService (src/agent/reporter.ts): its own directors[] entry. */
function agentReportsService(name: string, view: DirectorView) {
  return c.virtualServices.applyStatus(
    { apiVersion: 'lvs.dev/v1alpha1', kind: 'VirtualService', metadata: { name, namespace: ns }, status: { directors: [view] } },
    { fieldManager: `lvs-agent/${view.node}`, force: true },
  );
}

beforeAll(async () => {
  binDir = await ensureKapply();
  await installCrds(k.api);
  const made = await k.api.kubectl(['create', 'namespace', ns]);
  expect(made.code, made.stderr).toBe(0);
  await c.nodes.create(nodeObject(dirA, { [dirLabel]: 'yes' }));
});

afterAll(async () => {
  await k.stopAll();
  await k.api.kubectl(['delete', 'virtualservices,realservers', '--all', '-n', ns, '--wait=false']);
  await k.api.kubectl(['delete', 'namespace', ns, '--wait=false']);
  await k.api.kubectl(['delete', 'directorgroups', group, `${group}-secret`, '--ignore-not-found', '--wait=false']);
  await c.nodes.delete(dirA);
  k.close();
});

describe('docs/install.md Argo CD health customization', () => {
  it('has one for each lvs.dev kind, the same body', async () => {
    const scripts = await argoHealthScripts();
    expect([...scripts.keys()].sort()).toEqual(['lvs.dev_DirectorGroup', 'lvs.dev_RealServer', 'lvs.dev_VirtualService']);
    expect(new Set(scripts.values()).size).toBe(1);
  });
});

describe('kstatus and Argo CD health through the life of the objects', () => {
  it('before the controller has written any status: kstatus says Current (it cannot know better), Argo says Progressing', async () => {
    await c.directorGroups.create({
      metadata: { name: group },
      spec: { nodeSelector: { matchLabels: { [dirLabel]: 'yes' } }, interface: 'eth0' },
    } as unknown as DirectorGroup);
    await c.virtualServices.create({
      metadata: { name: 'web', namespace: ns },
      spec: { vip: '198.51.100.80', port: 80, protocol: 'TCP', directorGroup: group, backends: { realServerSelector: { matchLabels: { app: 'web' } } } },
    } as unknown as VirtualService);
    await c.realServers.create({ metadata: { name: 'web-1', namespace: ns, labels: { app: 'web' } }, spec: { address: '10.50.0.1' } } as unknown as RealServer);

    const vs = await getVS('web');
    expect(vs.status).toBeUndefined();
    const [vsK, rsK, dgK] = await ks(vsRef('web'), rsRef('web-1'), dgRef(group));
    // kstatus' generic rule for a custom resource with no observedGeneration and no conditions
    // is "Current" (its README: "If the library sees the resource before the controller has had
    // a chance to update the conditions, it also will not realize the resource use the Ready condition").
    expect(vsK).toMatchObject({ status: 'Current', message: 'Resource is current' });
    expect(rsK?.status).toBe('Current');
    expect(dgK?.status).toBe('Current');
    expect(await argoHealth(vs)).toEqual({ status: 'Progressing', message: 'waiting for the controller' });
    expect(await argoHealth(await getRS('web-1'))).toEqual({ status: 'Progressing', message: 'waiting for the controller' });
    expect(await argoHealth(await getDG(group))).toEqual({ status: 'Progressing', message: 'waiting for the controller' });

    // The test namespace stands for the controller's own: auth Secrets are read only there.
    await k.startController({ agentLeaseNamespace: ns });
  });

  it('observed but not programmed by any director yet: InProgress (Reconciling=True) / Progressing', async () => {
    const vs = await eventually(async () => {
      const v = await getVS('web');
      expect(condition(v, 'Ready')?.reason).toBe('Pending');
      return v;
    });
    expect(condition(vs, 'Reconciling')).toMatchObject({ status: 'True', reason: 'Pending' });
    expect(condition(vs, 'Stalled')).toMatchObject({ status: 'False', reason: 'AsExpected' });
    const [vsK] = await ks(vsRef('web'));
    expect(vsK).toMatchObject({ status: 'InProgress', message: `waiting for a director (${dirA}) to program generation 1` });
    expect(await argoHealth(vs)).toEqual({ status: 'Progressing', message: `waiting for a director (${dirA}) to program generation 1` });
  });

  it('programmed by a director with a healthy real server: Current / Healthy for all three kinds', async () => {
    // web-1's health on the director is in the service's entry; the controller carries it to web-1.
    await agentReportsService('web', { node: dirA, programmedGeneration: 1, vrrpState: 'Master', healthy: 1, total: 1, backends: [{ address: '10.50.0.1', port: 80, healthy: true, weight: 1 }] });
    const vs = await eventually(async () => {
      const v = await getVS('web');
      expect(condition(v, 'Ready')?.status).toBe('True');
      return v;
    });
    const rs = await eventually(async () => {
      const r = await getRS('web-1');
      expect(r.status?.healthy).toBe(1);
      return r;
    });
    const dg = await getDG(group);
    expect(condition(dg, 'Ready')?.status).toBe('True');

    const [vsK, rsK, dgK] = await ks(vsRef('web'), rsRef('web-1'), dgRef(group));
    expect(vsK).toMatchObject({ status: 'Current', message: 'Resource is Ready' });
    expect(rsK).toMatchObject({ status: 'Current', message: 'Resource is Ready' });
    expect(dgK).toMatchObject({ status: 'Current', message: 'Resource is Ready' });
    expect(await argoHealth(vs)).toEqual({ status: 'Healthy', message: `1/1 real servers healthy, master ${dirA}` });
    expect(await argoHealth(rs)).toEqual({ status: 'Healthy', message: `used by VirtualService ${ns}/web; healthy on 1 of 1 directors` });
    expect((await argoHealth(dg)).status).toBe('Healthy');
  });

  it('a spec change the controller has not seen: InProgress / Progressing on the generation alone', async () => {
    await k.stopAll();
    await c.virtualServices.mergePatch('web', ns, { spec: { scheduler: 'rr' } });
    const vs = await getVS('web');
    expect(vs.metadata.generation).toBe(2);
    expect(vs.status?.observedGeneration).toBe(1);
    expect(condition(vs, 'Ready')?.status).toBe('True'); // still the old generation's verdict

    const [vsK] = await ks(vsRef('web'));
    expect(vsK).toMatchObject({ status: 'InProgress', message: 'VirtualService generation is 2, but latest observed generation is 1' });
    expect(await argoHealth(vs)).toEqual({ status: 'Progressing', message: 'waiting for the controller' });
  });

  it('seen but not yet programmed by the directors (rolling out): InProgress / Progressing; then Current / Healthy', async () => {
    await k.startController({ agentLeaseNamespace: ns });
    const vs = await eventually(async () => {
      const v = await getVS('web');
      expect(v.status?.observedGeneration).toBe(2);
      return v;
    });
    // The director still runs generation 1: Ready is False (Pending), not the stale True.
    expect(condition(vs, 'Ready')).toMatchObject({ status: 'False', reason: 'Pending' });
    const [rolling] = await ks(vsRef('web'));
    expect(rolling).toMatchObject({ status: 'InProgress', message: `waiting for a director (${dirA}) to program generation 2` });
    expect(await argoHealth(vs)).toEqual({ status: 'Progressing', message: `waiting for a director (${dirA}) to program generation 2` });

    await agentReportsService('web', { node: dirA, programmedGeneration: 2, vrrpState: 'Master', healthy: 1, total: 1 });
    const done = await eventually(async () => {
      const v = await getVS('web');
      expect(condition(v, 'Ready')?.status).toBe('True');
      return v;
    });
    expect((await ks(vsRef('web')))[0]?.status).toBe('Current');
    expect((await argoHealth(done)).status).toBe('Healthy');
  });

  it('a real server failing its health check everywhere: InProgress / Progressing', async () => {
    await agentReportsService('web', { node: dirA, programmedGeneration: 2, vrrpState: 'Master', healthy: 0, total: 1, backends: [{ address: '10.50.0.1', port: 80, healthy: false, weight: 0, message: 'connect: connection refused' }] });
    const vs = await eventually(async () => {
      const v = await getVS('web');
      expect(condition(v, 'Ready')?.reason).toBe('NoHealthyBackends');
      return v;
    });
    const rs = await eventually(async () => {
      const r = await getRS('web-1');
      expect(condition(r, 'Ready')?.reason).toBe('Unhealthy');
      return r;
    });
    const [vsK, rsK] = await ks(vsRef('web'), rsRef('web-1'));
    expect(vsK).toMatchObject({ status: 'InProgress', message: 'none of 1 real servers passes its health check' });
    expect(rsK).toMatchObject({ status: 'InProgress', message: 'failing its health check on all 1 directors: connect: connection refused' });
    expect(await argoHealth(vs)).toEqual({ status: 'Progressing', message: 'none of 1 real servers passes its health check' });
    expect((await argoHealth(rs)).status).toBe('Progressing');
  });

  it('terminal errors: kstatus says Failed (Stalled=True), Argo says Degraded; fixed, both follow the object', async () => {
    // A Conflict (the same VIP:port:protocol as web), a missing DirectorGroup, a DirectorGroup whose
    // VRRP secret does not exist.
    await c.virtualServices.create({
      metadata: { name: 'twin', namespace: ns },
      spec: { vip: '198.51.100.80', port: 80, protocol: 'TCP', directorGroup: group, backends: { realServerSelector: { matchLabels: { app: 'web' } } } },
    } as unknown as VirtualService);
    await c.virtualServices.create({
      metadata: { name: 'orphan', namespace: ns },
      spec: { vip: '198.51.100.81', port: 80, protocol: 'TCP', directorGroup: `nowhere-${suffix}`, backends: { realServerSelector: { matchLabels: { app: 'web' } } } },
    } as unknown as VirtualService);
    await c.directorGroups.create({
      metadata: { name: `${group}-secret` },
      spec: {
        nodeSelector: { matchLabels: { [dirLabel]: 'yes' } },
        interface: 'eth1',
        vrrp: { version: 2, authSecretRef: { name: 'missing', namespace: ns, key: 'password' } },
      },
    } as unknown as DirectorGroup);

    const twin = await eventually(async () => {
      const v = await getVS('twin');
      expect(condition(v, 'Ready')?.reason).toBe('Conflict');
      return v;
    });
    const orphan = await eventually(async () => {
      const v = await getVS('orphan');
      expect(condition(v, 'Ready')?.reason).toBe('DirectorGroupNotFound');
      return v;
    });
    const dg = await eventually(async () => {
      const g = await getDG(`${group}-secret`);
      expect(condition(g, 'Ready')?.reason).toBe('AuthSecretNotFound');
      return g;
    });
    expect(condition(twin, 'Stalled')).toMatchObject({ status: 'True', reason: 'Conflict', message: condition(twin, 'Ready')?.message });
    expect(condition(orphan, 'Stalled')).toMatchObject({ status: 'True', reason: 'DirectorGroupNotFound' });
    expect(condition(dg, 'Stalled')).toMatchObject({ status: 'True', reason: 'AuthSecretNotFound' });

    const [twinK, orphanK, dgK, webK] = await ks(vsRef('twin'), vsRef('orphan'), dgRef(`${group}-secret`), vsRef('web'));
    // kstatus reports Failed for Stalled=True with its message, so `flux` fails fast instead of
    // waiting for these until its timeout.
    expect(twinK).toMatchObject({ status: 'Failed', message: condition(twin, 'Ready')?.message });
    expect(orphanK).toMatchObject({ status: 'Failed', message: `DirectorGroup nowhere-${suffix} does not exist` });
    expect(dgK).toMatchObject({ status: 'Failed', message: `Secret ${ns}/missing named by vrrp.authSecretRef does not exist` });
    expect(webK?.status).not.toBe('Failed');

    expect(await argoHealth(twin)).toEqual({ status: 'Degraded', message: condition(twin, 'Ready')?.message });
    expect(await argoHealth(orphan)).toEqual({ status: 'Degraded', message: `DirectorGroup nowhere-${suffix} does not exist` });
    expect(await argoHealth(dg)).toEqual({ status: 'Degraded', message: `Secret ${ns}/missing named by vrrp.authSecretRef does not exist` });

    // Fixing the spec takes the object out of Failed / Degraded: the verdict follows the object.
    await c.virtualServices.mergePatch('orphan', ns, { spec: { directorGroup: group } });
    const fixed = await eventually(async () => {
      const v = await getVS('orphan');
      expect(condition(v, 'Ready')?.reason).toBe('Pending');
      return v;
    });
    expect(condition(fixed, 'Stalled')).toMatchObject({ status: 'False', reason: 'AsExpected' });
    expect((await ks(vsRef('orphan')))[0]).toMatchObject({ status: 'InProgress', message: `waiting for a director (${dirA}) to program generation 2` });
    expect(await argoHealth(fixed)).toEqual({ status: 'Progressing', message: `waiting for a director (${dirA}) to program generation 2` });

    // Creating the Secret the DirectorGroup names makes it Ready: Current / Healthy.
    const secret = await k.api.kubectl(['create', 'secret', 'generic', 'missing', '-n', ns, '--from-literal=password=s3cret']);
    expect(secret.code, secret.stderr).toBe(0);
    const dgFixed = await eventually(async () => {
      const g = await getDG(`${group}-secret`);
      expect(condition(g, 'Ready')?.status).toBe('True');
      return g;
    });
    expect(condition(dgFixed, 'Stalled')).toMatchObject({ status: 'False', reason: 'AsExpected' });
    expect((await ks(dgRef(`${group}-secret`)))[0]).toMatchObject({ status: 'Current', message: 'Resource is Ready' });
    expect((await argoHealth(dgFixed)).status).toBe('Healthy');
  });

  it('deleted: NotFound', async () => {
    await c.virtualServices.delete('twin', ns);
    await eventually(async () => expect((await ks(vsRef('twin')))[0]).toMatchObject({ status: 'NotFound', message: 'Resource not found' }));
  });

  it('kstatus() takes a manifest directory too', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gitops-manifests-'));
    const manifest = (kind: string, name: string, namespace?: string) =>
      stringify({ apiVersion: 'lvs.dev/v1alpha1', kind, metadata: { name, ...(namespace ? { namespace } : {}) } });
    try {
      await writeFile(join(dir, 'objects.yaml'), [manifest('VirtualService', 'web', ns), manifest('DirectorGroup', group), manifest('VirtualService', 'nothing', ns)].join('---\n'));
      const res = await kstatus(k.kubeconfig, dir, { binDir });
      expect(res.map((r) => `${r.kind}/${r.name}: ${r.status}`)).toEqual([
        'VirtualService/web: InProgress',
        `DirectorGroup/${group}: Current`,
        'VirtualService/nothing: NotFound',
      ]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
