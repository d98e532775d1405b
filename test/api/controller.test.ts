// The controller against a real kube-apiserver: conditions, router ids, conflicts,
// EndpointSlice tracking and status aggregation next to agents' server-side applies.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type {
  DirectorGroup,
  DirectorGroupSpecInput,
  RealServer,
  RealServerSpecInput,
  VirtualService,
  VirtualServiceSpecInput,
} from '../../src/api/index.js';
import type { Controller } from '../../src/controller/controller.js';
import { EventRecorder, referenceTo } from '../../src/kube/events.js';
import { type EndpointSlice, type Service, microTime } from '../../src/kube/types.js';
import { agentLeaseName } from '../../src/kube/node-heartbeat.js';
import { condition, eventsFor, eventually, installCrds, kit, nodeObject, sleep, unique } from './controller-kit.js';

const k = await kit(inject('kubeconfig'), inject('binDir'), 'controller');
const c = k.clients;
const suffix = unique('ctl');
const ns = suffix;
/** Label that makes a Node a director of this file's groups. */
const dirLabel = `lvs.dev/director-${suffix}`;
const groupName = (g: string) => `${g}-${suffix}`;
const created: { kind: 'node' | 'group'; name: string }[] = [];

async function createGroup(name: string, spec: Partial<DirectorGroupSpecInput> = {}): Promise<DirectorGroup> {
  created.push({ kind: 'group', name });
  return c.directorGroups.create({
    metadata: { name },
    spec: { nodeSelector: { matchLabels: { [dirLabel]: name } }, interface: 'eth0', ...spec },
  } as unknown as DirectorGroup);
}

async function createNode(name: string, group: string): Promise<void> {
  created.push({ kind: 'node', name });
  await c.nodes.create(nodeObject(name, { [dirLabel]: group }));
}

function createVS(name: string, spec: Partial<VirtualServiceSpecInput>): Promise<VirtualService> {
  return c.virtualServices.create({
    metadata: { name, namespace: ns },
    spec: { directorGroup: groupName('main'), backends: { realServerSelector: { matchLabels: { app: name } } }, ...spec },
  } as unknown as VirtualService);
}

function createRS(name: string, spec: RealServerSpecInput, labels: Record<string, string>): Promise<RealServer> {
  return c.realServers.create({ metadata: { name, namespace: ns, labels }, spec } as unknown as RealServer);
}

const getVS = async (name: string) => (await c.virtualServices.get(name, ns)) as VirtualService;
const getRS = async (name: string) => (await c.realServers.get(name, ns)) as RealServer;
const getDG = async (name: string) => (await c.directorGroups.get(name)) as DirectorGroup;

let controller: Controller;

beforeAll(async () => {
  await installCrds(k.api);
  const made = await k.api.kubectl(['create', 'namespace', ns]);
  expect(made.code, made.stderr).toBe(0);
  await createGroup(groupName('main'));
  await createNode(`${suffix}-dir-a`, groupName('main'));
  await createNode(`${suffix}-dir-b`, groupName('main'));
  controller = await k.startController({ agentLeaseNamespace: ns });
});

afterAll(async () => {
  await k.stopAll();
  // No namespace controller runs here, so empty the namespace by hand before deleting it.
  await k.api.kubectl(['delete', 'virtualservices,realservers,services,endpointslices', '--all', '-n', ns, '--wait=false']);
  await k.api.kubectl(['delete', 'namespace', ns, '--wait=false']);
  for (const o of created) {
    if (o.kind === 'node') await c.nodes.delete(o.name);
    else await c.directorGroups.delete(o.name);
  }
  k.close();
});

describe('conditions', () => {
  it('a well-formed service: observedGeneration, Ready=False Pending until an agent programs it, DirectorGroup lists directors', async () => {
    await createVS('web', { vip: '198.51.100.10', port: 80, protocol: 'TCP', forwarding: { method: 'DR' } });
    await createRS('web-1', { address: '10.20.0.11' }, { app: 'web' });
    await createRS('web-2', { address: '10.20.0.12', port: 8080 }, { app: 'web' });

    const vs = await eventually(async () => {
      const v = await getVS('web');
      expect(condition(v, 'Degraded')?.reason).toBe('PortMappingNotSupported');
      return v;
    });
    expect(vs.status?.observedGeneration).toBe(vs.metadata.generation);
    expect(condition(vs, 'Ready')).toMatchObject({ status: 'False', reason: 'Pending', observedGeneration: vs.metadata.generation });
    expect(condition(vs, 'Programmed')?.message).toBe(`waiting for a director (${suffix}-dir-a, ${suffix}-dir-b) to program generation 1`);
    expect(condition(vs, 'Degraded')?.message).toMatch(/RealServer web-2 port 8080 differs from port 80 .* DR forwarding cannot map ports/);
    expect(vs.status?.backends).toEqual({ healthy: 0, total: 1 });

    const rs2 = await eventually(async () => {
      const r = await getRS('web-2');
      expect(condition(r, 'Ready')?.reason).toBe('PortMappingNotSupported');
      return r;
    });
    expect(rs2.status?.observedGeneration).toBe(1);
    const rs1 = await getRS('web-1');
    expect(condition(rs1, 'Ready')).toMatchObject({ status: 'True', reason: 'InUse', message: `used by VirtualService ${ns}/web` });

    const dg = await eventually(async () => {
      const g = await getDG(groupName('main'));
      expect(g.status?.vrids?.some((a) => a.vip === '198.51.100.10')).toBe(true);
      return g;
    });
    expect(dg.status?.directors).toEqual([`${suffix}-dir-a`, `${suffix}-dir-b`]);
    expect(condition(dg, 'Ready')).toMatchObject({ status: 'True', reason: 'Ready' });
  });

  it('a missing DirectorGroup and a group without nodes are reasons with messages, and Warning Events', async () => {
    await createVS('orphan', { vip: '198.51.100.20', port: 80, protocol: 'TCP', directorGroup: groupName('nowhere') });
    await createGroup(groupName('empty'));
    await createVS('unplaced', { vip: '198.51.100.21', port: 80, protocol: 'TCP', directorGroup: groupName('empty') });

    const orphan = await eventually(async () => {
      const v = await getVS('orphan');
      expect(condition(v, 'Ready')?.reason).toBe('DirectorGroupNotFound');
      return v;
    });
    expect(condition(orphan, 'Ready')?.message).toBe(`DirectorGroup ${groupName('nowhere')} does not exist`);
    expect(condition(orphan, 'Programmed')).toMatchObject({ status: 'False', reason: 'DirectorGroupNotFound' });

    const empty = await eventually(async () => {
      const g = await getDG(groupName('empty'));
      expect(condition(g, 'Ready')?.reason).toBe('NoDirectors');
      return g;
    });
    expect(condition(empty, 'Ready')?.message).toBe(`no node matches nodeSelector ${dirLabel}=${groupName('empty')}`);
    expect(empty.status?.directors).toBeUndefined();

    const unplaced = await eventually(async () => {
      const v = await getVS('unplaced');
      expect(condition(v, 'Programmed')?.reason).toBe('NoDirectors');
      return v;
    });
    expect(condition(unplaced, 'Degraded')?.message).toContain(`DirectorGroup ${groupName('empty')} selects no node`);

    const events = await eventually(async () => {
      const evs = await eventsFor(c, ns, 'orphan');
      expect(evs.map((e) => e.reason)).toContain('DirectorGroupNotFound');
      return evs;
    });
    const ev = events.find((e) => e.reason === 'DirectorGroupNotFound');
    expect(ev).toMatchObject({ type: 'Warning', reportingController: 'lvs.dev/controller', note: `DirectorGroup ${groupName('nowhere')} does not exist` });
    expect(ev?.regarding).toMatchObject({ kind: 'VirtualService', name: 'orphan', namespace: ns, uid: orphan.metadata.uid });
    // Cluster-scoped objects get their Events in "default".
    await eventually(async () => {
      const evs = await eventsFor(c, 'default', groupName('empty'));
      expect(evs.map((e) => `${e.type}/${e.reason}`)).toContain('Warning/NoDirectors');
    });

    // Labelling a node heals both.
    await createNode(`${suffix}-dir-e`, groupName('empty'));
    await eventually(async () => {
      expect(condition(await getDG(groupName('empty')), 'Ready')?.status).toBe('True');
      expect(condition(await getVS('unplaced'), 'Programmed')?.reason).toBe('Pending');
    });
  });

  it('writes only when something changed', async () => {
    await eventually(async () => expect(condition(await getVS('web'), 'Ready')).toBeDefined());
    await sleep(300);
    const before = controller.stats.writes;
    const rv = (await getVS('web')).metadata.resourceVersion;
    // Touch an unrelated label: one more reconcile, nothing to write for "web".
    await c.virtualServices.mergePatch('orphan', ns, { metadata: { labels: { touched: 'yes' } } });
    await sleep(500);
    expect((await getVS('web')).metadata.resourceVersion).toBe(rv);
    expect(controller.stats.writes).toBe(before);
  });
});

describe('router ids', () => {
  it('are allocated per VIP, shown in DirectorGroup status, and survive a controller restart', async () => {
    const g = groupName('vrid');
    await createGroup(g, { interface: 'eth7' });
    await createNode(`${suffix}-dir-v`, g);
    for (const [name, vip] of [
      ['v1', '198.51.100.101'],
      ['v2', '198.51.100.102'],
      ['v3', '198.51.100.103'],
    ] as const) {
      await createVS(name, { vip, port: 443, protocol: 'TCP', directorGroup: g });
    }
    const first = await eventually(async () => {
      const d = await getDG(g);
      expect(d.status?.vrids).toHaveLength(3);
      return d;
    });
    expect(first.status?.vrids).toEqual([
      { vip: '198.51.100.101', interface: 'eth7', vrid: 1 },
      { vip: '198.51.100.102', interface: 'eth7', vrid: 2 },
      { vip: '198.51.100.103', interface: 'eth7', vrid: 3 },
    ]);

    // A restart with nothing changed rewrites nothing.
    await k.stopAll();
    const rvBefore = (await getDG(g)).metadata.resourceVersion;
    controller = await k.startController({ agentLeaseNamespace: ns });
    await sleep(1000);
    expect((await getDG(g)).metadata.resourceVersion).toBe(rvBefore);
    expect(controller.stats.reconciles).toBeGreaterThan(0);

    // Changes while no controller runs: the old ids stay, the new VIP takes the freed lowest id.
    await k.stopAll();
    await c.virtualServices.delete('v1', ns);
    await createVS('v9', { vip: '198.51.100.109', port: 443, protocol: 'TCP', directorGroup: g });
    controller = await k.startController({ agentLeaseNamespace: ns });
    const after = await eventually(async () => {
      const d = await getDG(g);
      expect(d.status?.vrids?.map((a) => a.vip)).toContain('198.51.100.109');
      return d;
    });
    expect(after.status?.vrids).toEqual([
      { vip: '198.51.100.102', interface: 'eth7', vrid: 2 },
      { vip: '198.51.100.103', interface: 'eth7', vrid: 3 },
      { vip: '198.51.100.109', interface: 'eth7', vrid: 1 },
    ]);
  });
});

describe('gateway addresses', () => {
  it('get a router id on their own interface beside the VIPs; one that is a service VIP is left out, Degraded with Conflict', async () => {
    const g = groupName('gw');
    await createGroup(g, { interface: 'eth8', gatewayAddresses: [{ address: '10.77.0.1/24', interface: 'eth9' }, { address: '198.51.100.120/24', interface: 'eth8' }] });
    await createNode(`${suffix}-dir-gw`, g);
    await createVS('gwvip', { vip: '198.51.100.120', port: 80, protocol: 'TCP', directorGroup: g });
    const d = await eventually(async () => {
      const x = await getDG(g);
      expect(x.status?.vrids).toHaveLength(2);
      expect(condition(x, 'Degraded')?.status).toBe('True');
      return x;
    });
    expect(d.status?.vrids).toEqual([
      { vip: '198.51.100.120', interface: 'eth8', vrid: 1 },
      { vip: '10.77.0.1', interface: 'eth9', vrid: 1 },
    ]);
    expect(condition(d, 'Degraded')).toMatchObject({ reason: 'Conflict', message: `gateway address 198.51.100.120 is the VIP of VirtualService ${ns}/gwvip: left out` });
  });
});

describe('pinned router ids', () => {
  it('a pinned VIP gets its id in status; a pin on an id another group holds on the interface is refused, Degraded with Conflict', async () => {
    const holder = groupName('pinhold');
    const pinner = groupName('pinner');
    await createGroup(holder, { interface: 'eth11' });
    await createNode(`${suffix}-dir-ph`, holder);
    await createVS('pinheld', { vip: '198.51.100.130', port: 80, protocol: 'TCP', directorGroup: holder });
    await eventually(async () => expect((await getDG(holder)).status?.vrids).toEqual([{ vip: '198.51.100.130', interface: 'eth11', vrid: 1 }]));
    await createGroup(pinner, { interface: 'eth11', vrrp: { routerIds: [{ address: '198.51.100.131', vrid: 51 }, { address: '198.51.100.132', vrid: 1 }] } });
    await createNode(`${suffix}-dir-pn`, pinner);
    await createVS('pinned', { vip: '198.51.100.131', port: 80, protocol: 'TCP', directorGroup: pinner });
    await createVS('pinrefused', { vip: '198.51.100.132', port: 80, protocol: 'TCP', directorGroup: pinner });
    const d = await eventually(async () => {
      const x = await getDG(pinner);
      expect(x.status?.vrids).toEqual([{ vip: '198.51.100.131', interface: 'eth11', vrid: 51 }]);
      expect(condition(x, 'Degraded')?.status).toBe('True');
      return x;
    });
    expect(condition(d, 'Degraded')).toMatchObject({
      reason: 'Conflict',
      message: `pinned VRRP router ids refused, these addresses get none: 198.51.100.132 (router id 1 on eth11 is held by DirectorGroup ${holder})`,
    });
    await eventually(async () => expect(condition(await getVS('pinrefused'), 'Ready')).toMatchObject({ status: 'False', reason: 'Conflict' }));
  });
});

describe('conflicts', () => {
  it('keeps both objects; the younger gets Conflict and an Event; deleting the older promotes it', async () => {
    // The older one has the later name, so only age can make it win.
    await createVS('zz-old', { vip: '198.51.100.50', port: 53, protocol: 'UDP' });
    await sleep(1100); // creationTimestamp has one-second resolution
    await createVS('aa-young', { vip: '198.51.100.50', port: 53, protocol: 'UDP' });

    const young = await eventually(async () => {
      const v = await getVS('aa-young');
      expect(condition(v, 'Ready')?.reason).toBe('Conflict');
      return v;
    });
    expect(condition(young, 'Ready')?.message).toBe(
      `UDP 198.51.100.50:53 is already claimed by VirtualService ${ns}/zz-old, which is older; this one is not programmed until that one goes away or changes`,
    );
    expect(condition(young, 'Programmed')).toMatchObject({ status: 'False', reason: 'Conflict' });
    expect(young.spec.vip).toBe('198.51.100.50'); // nothing overwritten
    const old = await getVS('zz-old');
    for (const t of ['Ready', 'Programmed', 'Degraded']) expect(condition(old, t)?.reason).not.toBe('Conflict');
    expect(condition(old, 'Programmed')?.reason).toBe('Pending');

    await eventually(async () => {
      const evs = await eventsFor(c, ns, 'aa-young');
      const conflict = evs.find((e) => e.reason === 'Conflict');
      expect(conflict).toMatchObject({ type: 'Warning', action: 'Reconcile' });
      expect(conflict?.note).toContain(`${ns}/zz-old`);
    });
    expect((await eventsFor(c, ns, 'zz-old')).some((e) => e.reason === 'Conflict')).toBe(false);

    await c.virtualServices.delete('zz-old', ns);
    await eventually(async () => {
      const v = await getVS('aa-young');
      expect(condition(v, 'Programmed')?.reason).toBe('Pending');
      expect(condition(v, 'Ready')?.reason).not.toBe('Conflict');
    });
  });
});

describe('EndpointSlice backends', () => {
  const slice = (name: string, endpoints: { ip: string; ready: boolean }[]): EndpointSlice => ({
    metadata: {
      name,
      namespace: ns,
      labels: { 'kubernetes.io/service-name': 'api', 'endpointslice.kubernetes.io/managed-by': 'lvs-operator-tests' },
    },
    addressType: 'IPv4',
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
    endpoints: endpoints.map((e) => ({ addresses: [e.ip], conditions: { ready: e.ready } })),
  });

  it('follow ready endpoints of the Service as they change', async () => {
    await c.services.create({
      metadata: { name: 'api', namespace: ns },
      spec: { ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }] },
    } as Service);
    await c.endpointSlices.create(slice('api-a', [{ ip: '10.30.0.1', ready: true }, { ip: '10.30.0.2', ready: true }, { ip: '10.30.0.3', ready: false }]));
    await createVS('api', { vip: '198.51.100.60', port: 80, protocol: 'TCP', backends: { service: { name: 'api', port: 'http' } } });

    const total = async () => (await getVS('api')).status?.backends?.total;
    await eventually(async () => expect(await total()).toBe(2));

    const a = (await c.endpointSlices.get('api-a', ns)) as EndpointSlice;
    await c.endpointSlices.replace({ ...a, endpoints: slice('x', [{ ip: '10.30.0.1', ready: false }, { ip: '10.30.0.2', ready: true }, { ip: '10.30.0.3', ready: true }]).endpoints });
    // Same count, other endpoints: the model follows (status shows counts, the agents get the list).
    await eventually(() =>
      expect(controller.lastModel?.services.get(`${ns}/api`)?.backends.map((b) => `${b.address}:${b.port}`)).toEqual(['10.30.0.2:8080', '10.30.0.3:8080']),
    );
    expect(await total()).toBe(2);

    await c.endpointSlices.create(slice('api-b', [{ ip: '10.30.0.4', ready: true }]));
    await eventually(async () => expect(await total()).toBe(3));

    await c.endpointSlices.delete('api-a', ns);
    await c.endpointSlices.delete('api-b', ns);
    await eventually(async () => {
      const v = await getVS('api');
      expect(v.status?.backends?.total).toBe(0);
      expect(condition(v, 'Degraded')?.reason).toBe('NoBackends');
      expect(condition(v, 'Degraded')?.message).toBe('Service api has no ready IPv4 endpoints');
    });

    await c.services.delete('api', ns);
    await eventually(async () => expect(condition(await getVS('api'), 'Degraded')?.message).toContain(`Service ${ns}/api does not exist`));
  });
});

describe('status next to the agents', () => {
  const agentApply = (manager: string, kind: 'virtualServices' | 'realServers', name: string, status: Record<string, unknown>) =>
    c[kind].applyStatus({ metadata: { name, namespace: ns }, status }, { fieldManager: manager });

  it('aggregates directors[] written by agents with their own field managers and never clobbers it', async () => {
    await createVS('agg', { vip: '198.51.100.70', port: 80, protocol: 'TCP' });
    await createRS('agg-1', { address: '10.40.0.1' }, { app: 'agg' });
    await createRS('agg-2', { address: '10.40.0.2' }, { app: 'agg' });
    await eventually(async () => expect(condition(await getVS('agg'), 'Programmed')?.reason).toBe('Pending'));

    const dirA = `${suffix}-dir-a`;
    const dirB = `${suffix}-dir-b`;
    await agentApply(`lvs-agent/${dirA}`, 'virtualServices', 'agg', {
      directors: [{ node: dirA, programmedGeneration: 1, vrrpState: 'Master', healthy: 2, total: 2 }],
    });
    const ready = await eventually(async () => {
      const v = await getVS('agg');
      expect(condition(v, 'Ready')?.status).toBe('True');
      return v;
    });
    expect(condition(ready, 'Ready')?.message).toBe(`2/2 real servers healthy, master ${dirA}`);
    expect(condition(ready, 'Programmed')?.message).toBe(`generation 1 programmed on 1 of 2 directors (${dirA})`);
    expect(condition(ready, 'Degraded')).toMatchObject({ status: 'True', reason: 'PartiallyProgrammed' });
    // No scheduler in the spec: the one in effect (wlc in a VRRP group) for kubectl get's column.
    expect(ready.status).toMatchObject({ master: dirA, vrrpState: 'Master', backends: { healthy: 2, total: 2 }, scheduler: 'wlc' });

    await agentApply(`lvs-agent/${dirB}`, 'virtualServices', 'agg', {
      directors: [{ node: dirB, programmedGeneration: 1, vrrpState: 'Backup', healthy: 1, total: 2 }],
    });
    await eventually(async () => expect(condition(await getVS('agg'), 'Degraded')?.reason).toBe('AsExpected'));

    // A spec change: the controller rewrites its conditions, the agents' entries stay.
    await c.virtualServices.mergePatch('agg', ns, { spec: { scheduler: 'rr' } });
    const changed = await eventually(async () => {
      const v = await getVS('agg');
      expect(v.status?.observedGeneration).toBe(2);
      return v;
    });
    expect(condition(changed, 'Programmed')).toMatchObject({ status: 'False', reason: 'Pending', observedGeneration: 2 });
    expect(changed.status?.master).toBe(dirA);
    expect(changed.status?.scheduler).toBe('rr');
    expect(changed.status?.directors?.map((d) => d.node).sort()).toEqual([dirA, dirB]);
    const managers = (changed.metadata.managedFields as { manager: string; subresource?: string; fieldsV1?: Record<string, Record<string, unknown> | undefined> }[] | undefined) ?? [];
    const statusOwners = managers.filter((m) => m.subresource === 'status').map((m) => m.manager).sort();
    expect(statusOwners).toEqual(['lvs-agent/' + dirA, 'lvs-agent/' + dirB, 'lvs-controller'].sort());
    const ctl = managers.find((m) => m.manager === 'lvs-controller');
    const ctlFields = Object.keys(ctl?.fieldsV1?.['f:status'] ?? {});
    expect(ctlFields).toEqual(expect.arrayContaining(['f:conditions', 'f:observedGeneration', 'f:backends', 'f:vrrpState', 'f:master', 'f:scheduler']));
    expect(ctlFields).not.toContain('f:directors');

    // Agent A loses mastership: the controller drops `master` (it owns it) and keeps the entries.
    await agentApply(`lvs-agent/${dirA}`, 'virtualServices', 'agg', {
      directors: [{ node: dirA, programmedGeneration: 2, vrrpState: 'Backup', healthy: 2, total: 2 }],
    });
    await eventually(async () => {
      const v = await getVS('agg');
      expect(v.status?.vrrpState).toBe('NoMaster');
      expect(v.status?.master).toBeUndefined();
      expect(v.status?.directors).toHaveLength(2);
      expect(condition(v, 'Programmed')?.status).toBe('True');
    });

    // The agents report each real server's health in the service's entry (they write nothing on
    // RealServers); the controller carries it into the RealServer: per director, healthy/total, conditions.
    const backends = (healthy2: boolean) => [
      { address: '10.40.0.1', port: 80, healthy: true, weight: 1 },
      { address: '10.40.0.2', port: 80, healthy: healthy2, weight: healthy2 ? 1 : 0, ...(healthy2 ? {} : { message: 'connect: connection refused' }) },
    ];
    // Status writes change no model: the controller re-checks the service and its real servers, no pass over the cluster.
    const passes = controller.stats.reconciles;
    await agentApply(`lvs-agent/${dirA}`, 'virtualServices', 'agg', { directors: [{ node: dirA, programmedGeneration: 2, vrrpState: 'Backup', healthy: 1, total: 2, backends: backends(false) }] });
    await agentApply(`lvs-agent/${dirB}`, 'virtualServices', 'agg', { directors: [{ node: dirB, programmedGeneration: 2, vrrpState: 'Backup', healthy: 1, total: 2, backends: backends(false) }] });
    const failing = await eventually(async () => {
      const r = await getRS('agg-2');
      expect(r.status).toMatchObject({ healthy: 0, total: 2 });
      expect(condition(r, 'Ready')).toMatchObject({ status: 'False', reason: 'Unhealthy', message: 'failing its health check on all 2 directors: connect: connection refused' });
      return r;
    });
    expect(failing.status?.directors?.map((d) => ({ node: d.node, healthy: d.healthy, message: d.message }))).toEqual(
      [dirA, dirB].sort().map((node) => ({ node, healthy: false, message: 'connect: connection refused' })));
    const rsManagers = ((failing.metadata.managedFields ?? []) as { manager: string; subresource?: string }[]).filter((m) => m.subresource === 'status').map((m) => m.manager);
    expect(rsManagers).toEqual(['lvs-controller']);
    expect(controller.stats.reconciles).toBe(passes);
    await eventually(async () => expect((await getRS('agg-1')).status).toMatchObject({ healthy: 2, total: 2, directors: [{ healthy: true }, { healthy: true }] }));

    // Healthy again on one director: one of two, Degraded says so; the other director's entry keeps its time.
    const before = failing.status?.directors?.find((d) => d.node === dirB)?.lastTransitionTime;
    await agentApply(`lvs-agent/${dirA}`, 'virtualServices', 'agg', { directors: [{ node: dirA, programmedGeneration: 2, vrrpState: 'Backup', healthy: 2, total: 2, backends: backends(true) }] });
    const half = await eventually(async () => {
      const r = await getRS('agg-2');
      expect(r.status).toMatchObject({ healthy: 1, total: 2 });
      expect(condition(r, 'Degraded')).toMatchObject({ status: 'True', reason: 'PartiallyUnhealthy' });
      return r;
    });
    expect(half.status?.directors?.find((d) => d.node === dirB)).toMatchObject({ healthy: false, lastTransitionTime: before });
    expect(half.status?.directors?.find((d) => d.node === dirA)).toMatchObject({ healthy: true });
    expect(half.status?.directors?.find((d) => d.node === dirA)).not.toHaveProperty('message');
  });

  it("keeps a BGP director's status.bgp entry on a DirectorGroup while it rewrites its own fields", async () => {
    const g = groupName('bgp-status');
    await createGroup(g, { interface: 'eth12' });
    await eventually(async () => expect(condition(await getDG(g), 'Ready')).toBeDefined());
    const entry = { node: `${suffix}-dir-a`, sessions: [{ peer: '192.0.2.1', state: 'up', info: 'Established', established: true }], announced: ['198.51.100.140'] };
    await c.directorGroups.applyStatus({ metadata: { name: g }, status: { bgp: [entry] } }, { fieldManager: `lvs-agent/${entry.node}`, force: true });
    const before = (await getDG(g)).status?.conditions;
    // A spec change makes the controller write the group's status again.
    await c.directorGroups.mergePatch(g, undefined, { spec: { interface: 'eth13' } });
    const after = await eventually(async () => {
      const d = await getDG(g);
      expect(d.status?.observedGeneration).toBe(2);
      return d;
    });
    expect(after.status?.conditions).not.toEqual(before);
    expect(after.status?.bgp).toEqual([entry]);
  });

  it('stops counting a director whose agent heartbeat Lease expired (a dead master cannot retract its entry)', async () => {
    await createVS('hb', { vip: '198.51.100.71', port: 80, protocol: 'TCP' });
    await createRS('hb-1', { address: '10.41.0.1' }, { app: 'hb' });
    const dirA = `${suffix}-dir-a`; // the group's director nodes (see above)
    const dirB = `${suffix}-dir-b`;
    // Agents renew every 300 ms with a 2 s lease; `skewMs` is how far the agent's clock is off.
    const beat = (node: string, skewMs = 0) => c.leases.apply(
      { metadata: { name: agentLeaseName(node), namespace: ns }, spec: { holderIdentity: node, leaseDurationSeconds: 2, renewTime: microTime(new Date(Date.now() + skewMs)) } },
      { fieldManager: `lvs-agent/${node}`, force: true });
    const skew = new Map<string, number>([[dirA, 0], [dirB, 0]]);
    const beating = setInterval(() => { for (const [n, ms] of skew) void beat(n, ms); }, 300);
    try {
      await beat(dirA);
      await beat(dirB);
      await agentApply(`lvs-agent/${dirA}`, 'virtualServices', 'hb', { directors: [{ node: dirA, programmedGeneration: 1, vrrpState: 'Master', healthy: 1, total: 1 }] });
      await agentApply(`lvs-agent/${dirB}`, 'virtualServices', 'hb', { directors: [{ node: dirB, programmedGeneration: 1, vrrpState: 'Backup', healthy: 1, total: 1 }] });
      await eventually(async () => expect((await getVS('hb')).status).toMatchObject({ master: dirA, vrrpState: 'Master' }));
      // A dies: B takes over and says so; A's entry still claims Master.
      skew.delete(dirA);
      await agentApply(`lvs-agent/${dirB}`, 'virtualServices', 'hb', { directors: [{ node: dirB, programmedGeneration: 1, vrrpState: 'Master', healthy: 1, total: 1 }] });
      // A's Lease stops changing: after its 2 s it no longer counts.
      await eventually(async () => expect((await getVS('hb')).status).toMatchObject({ master: dirB, vrrpState: 'Master' }));
      // A comes back to life still claiming Master, its clock 10 minutes behind (every renewTime
      // it writes is in the past): it renews, so it counts, and that is a real split brain again.
      skew.set(dirA, -600_000);
      await eventually(async () => expect((await getVS('hb')).status?.vrrpState).toBe('SplitBrain'));
      await new Promise((r) => setTimeout(r, 3000));
      expect((await getVS('hb')).status?.vrrpState).toBe('SplitBrain');
    } finally {
      clearInterval(beating);
    }
  });
});

describe('metrics', () => {
  it('serves /metrics, /healthz and /readyz', async () => {
    const withMetrics = await k.startController({ agentLeaseNamespace: ns, metrics: { port: 0, host: '127.0.0.1' } });
    const base = `http://127.0.0.1:${withMetrics.metricsPort}`;
    await eventually(async () => expect((await fetch(`${base}/readyz`)).status).toBe(200));
    expect(await (await fetch(`${base}/healthz`)).text()).toBe('ok\n');
    const text = await eventually(async () => {
      const t = await (await fetch(`${base}/metrics`)).text();
      expect(t).toMatch(/^lvs_controller_reconcile_total\{result="success"\} [1-9]/m);
      return t;
    });
    expect(text).toContain('# TYPE lvs_controller_reconcile_duration_seconds histogram');
    expect(text).toMatch(new RegExp(`^lvs_controller_vrids_allocated\\{group="${groupName('vrid')}",interface="eth7"\\} 3$`, 'm'));
    expect(text).toMatch(/^lvs_controller_objects\{kind="VirtualService",condition="Ready",status="False",reason="DirectorGroupNotFound"\} 1$/m);
    expect(text).toMatch(/^lvs_controller_leader 1$/m);
    expect((await fetch(`${base}/nope`)).status).toBe(404);
  });
});

describe('Event recorder', () => {
  it('folds repeats of one event into a series instead of new Events', async () => {
    const rec = new EventRecorder({ events: c.events, controller: 'lvs.dev/controller', instance: 'test' });
    const vs = await getVS('web');
    const ref = referenceTo(vs, 'lvs.dev/v1alpha1', 'VirtualService');
    for (let i = 0; i < 3; i++) void rec.record(ref, 'Warning', 'Flapping', 'the same thing again');
    void rec.record(ref, 'Warning', 'Flapping', 'something else');
    await rec.flush();
    const evs = (await eventsFor(c, ns, 'web')).filter((e) => e.reason === 'Flapping');
    expect(evs.map((e) => [e.note, e.series?.count]).sort()).toEqual([
      ['something else', undefined],
      ['the same thing again', 3],
    ]);
    expect(rec.stats).toEqual({ created: 2, updated: 2, failed: 0 });
  });
});
