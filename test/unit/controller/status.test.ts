import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { DirectorView } from '../../../src/api/index.js';
import {
  groupConditionTypes,
  isBad,
  mergeConditions,
  realServerConditionTypes,
  serviceConditionTypes,
  stallReasons,
  transitions,
} from '../../../src/controller/conditions.js';
import { groupStatus, ownedFieldsEqual, ownedStatusFields, realServerStatus, realServerViews, serviceStatus } from '../../../src/controller/status.js';
import { resolve } from '../../../src/model/resolve.js';
import type { ClusterModel } from '../../../src/model/types.js';
import { dg, node, nodesFor, rs, snapshot, web } from '../model/fixtures.js';

const T0 = '2024-05-01T10:00:00Z';
const T1 = '2024-05-01T10:05:00Z';

function model(): ClusterModel {
  return resolve(
    snapshot({
      directorGroups: [dg('g1', {}, { generation: 3 })],
      nodes: nodesFor(),
      virtualServices: [
        web('shop', 'web', '192.0.2.10', { forwarding: { method: 'DR' }, quorum: { weight: 2 } }, { generation: 4, created: '2024-01-01T00:00:00Z' }),
        web('shop', 'copy', '192.0.2.10', {}, { generation: 1, created: '2024-01-02T00:00:00Z' }),
      ],
      realServers: [
        rs('shop', 'rs1', { address: '10.0.0.11' }, { app: 'web' }, { generation: 2 }),
        rs('shop', 'rs2', { address: '10.0.0.12' }, { app: 'web' }),
        rs('shop', 'rs3', { address: '10.0.0.13', port: 8080 }, { app: 'web' }),
      ],
    }),
  );
}

const view = (node: string, v: Partial<DirectorView>): DirectorView => ({ node, ...v });

function svcModel(m: ClusterModel, key: string) {
  const s = m.services.get(key);
  if (!s) throw new Error(key);
  return s;
}

function cond<C extends { type: string }>(list: C[], type: string): C | undefined {
  return list.find((c) => c.type === type);
}

describe('serviceStatus', () => {
  const m = model();
  const web1 = svcModel(m, 'shop/web');

  it('not yet programmed by any director: Ready=False Pending, Degraded by the mapped port', () => {
    const { fields } = serviceStatus(web1, undefined, undefined, T0);
    expect(fields.observedGeneration).toBe(4);
    expect(cond(fields.conditions, 'Ready')).toMatchObject({ status: 'False', reason: 'Pending', observedGeneration: 4, lastTransitionTime: T0 });
    expect(cond(fields.conditions, 'Programmed')?.message).toBe('waiting for a director (dir-a, dir-b) to program generation 4');
    expect(cond(fields.conditions, 'Degraded')).toMatchObject({ status: 'True', reason: 'PortMappingNotSupported' });
    // Waiting for the directors is progress, not a stall; a RealServer left out of a working
    // service degrades the service without stalling it.
    expect(cond(fields.conditions, 'Reconciling')).toMatchObject({
      status: 'True',
      reason: 'Pending',
      message: 'waiting for a director (dir-a, dir-b) to program generation 4',
    });
    expect(cond(fields.conditions, 'Stalled')).toMatchObject({ status: 'False', reason: 'AsExpected' });
    expect(fields.conditions.map((c) => c.type)).toEqual([...serviceConditionTypes]);
    expect(fields).toMatchObject({ vrrpState: 'Unknown', backends: { healthy: 0, total: 2 } });
    expect(fields.master).toBeUndefined();
  });

  it('programmed, master elected, quorum met: Ready=True with master and health in the message', () => {
    const views = [
      view('dir-a', { programmedGeneration: 4, vrrpState: 'Master', healthy: 2, total: 2 }),
      view('dir-b', { programmedGeneration: 4, vrrpState: 'Backup', healthy: 1, total: 2 }),
      view('gone-node', { programmedGeneration: 4, vrrpState: 'Master', healthy: 2 }),
    ];
    const { fields } = serviceStatus(web1, views, undefined, T0);
    expect(cond(fields.conditions, 'Ready')).toMatchObject({ status: 'True', reason: 'Ready', message: '2/2 real servers healthy, master dir-a' });
    expect(cond(fields.conditions, 'Programmed')).toMatchObject({ status: 'True', message: 'generation 4 programmed on 2 of 2 directors (dir-a, dir-b)' });
    expect(cond(fields.conditions, 'Reconciling')).toMatchObject({ status: 'False', reason: 'AsExpected', message: 'generation 4 programmed on 2 of 2 directors (dir-a, dir-b)' });
    expect(cond(fields.conditions, 'Stalled')).toMatchObject({ status: 'False', reason: 'AsExpected' });
    // A stale view from a node no longer in the group does not make a split brain.
    expect(fields).toMatchObject({ master: 'dir-a', vrrpState: 'Master', backends: { healthy: 2, total: 2 } });
    // The scheduler in effect, for kubectl get's column (the spec may leave it to the default).
    expect(fields.scheduler).toBe(web1.spec?.scheduler);
    expect(fields.scheduler).toMatch(/^[a-z]+$/);
  });

  it('a director whose kernel refuses the service: Programmed and Ready False with its reason, Stalled, no Reconciling', () => {
    const views = [view('dir-a', { reason: 'UnsupportedScheduler', message: 'the kernel has no IPVS scheduler mh (module ip_vs_mh missing)' })];
    const { fields } = serviceStatus(web1, views, undefined, T0);
    const message = 'not programmed: director dir-a: the kernel has no IPVS scheduler mh (module ip_vs_mh missing)';
    expect(cond(fields.conditions, 'Programmed')).toMatchObject({ status: 'False', reason: 'UnsupportedScheduler', message });
    expect(cond(fields.conditions, 'Ready')).toMatchObject({ status: 'False', reason: 'UnsupportedScheduler', message });
    expect(cond(fields.conditions, 'Stalled')).toMatchObject({ status: 'True', reason: 'UnsupportedScheduler' });
    expect(cond(fields.conditions, 'Reconciling')?.status).toBe('False');
    // Another director programmed it: the service works, degraded by the one that cannot.
    const partly = serviceStatus(web1, [...views, view('dir-b', { programmedGeneration: 4, vrrpState: 'Master', healthy: 2 })], undefined, T0).fields.conditions;
    expect(cond(partly, 'Programmed')?.status).toBe('True');
    expect(cond(partly, 'Degraded')?.message).toContain('director dir-a: the kernel has no IPVS scheduler mh');
    expect(cond(partly, 'Stalled')?.status).toBe('False');
  });

  it('quorum not met, a director behind, two masters', () => {
    const views = [
      view('dir-a', { programmedGeneration: 4, vrrpState: 'Master', healthy: 1, liveWeight: 1, quorumLost: true }),
      view('dir-b', { programmedGeneration: 3, vrrpState: 'Master', healthy: 1, liveWeight: 1, quorumLost: true }),
    ];
    const { fields } = serviceStatus(web1, views, undefined, T0);
    expect(cond(fields.conditions, 'Ready')).toMatchObject({
      status: 'False',
      reason: 'QuorumNotMet',
      message: 'quorum lost on dir-a: healthy real servers weigh 1, quorum is 2; no sorry server, the real servers stay',
    });
    expect(fields.vrrpState).toBe('SplitBrain');
    expect(fields.master).toBeUndefined();
    const degraded = cond(fields.conditions, 'Degraded');
    expect(degraded?.message).toContain('generation 4 not yet programmed on dir-b');
    expect(degraded?.message).toContain('several directors are VRRP master: dir-a, dir-b');
    // One director programmed this generation: not Reconciling (a lagging director is Degraded).
    expect(cond(fields.conditions, 'Reconciling')).toMatchObject({ status: 'False', reason: 'AsExpected' });
    expect(cond(fields.conditions, 'Stalled')?.status).toBe('False');
  });

  it('BGP groups: Ready needs a director that announces the VIP; Degraded names those that do not', () => {
    const bgp = (a: boolean, b: boolean) => [
      view('dir-a', { programmedGeneration: 4, healthy: 2, liveWeight: 2, quorumLost: false, announced: a }),
      view('dir-b', { programmedGeneration: 4, healthy: 2, liveWeight: 2, quorumLost: false, announced: b }),
    ];
    const none = serviceStatus(web1, bgp(false, false), undefined, T0).fields.conditions;
    expect(cond(none, 'Ready')).toMatchObject({
      status: 'False', reason: 'NotAnnounced',
      message: 'no director announces the VIP over BGP (dir-a, dir-b: no live real server, health checks still answering, or draining)',
    });
    const one = serviceStatus(web1, bgp(false, true), undefined, T0).fields.conditions;
    expect(cond(one, 'Ready')).toMatchObject({ status: 'True', message: '2/2 real servers healthy, announced by dir-b' });
    expect(cond(one, 'Degraded')).toMatchObject({ status: 'True', reason: 'PortMappingNotSupported' });
    expect(cond(one, 'Degraded')?.message).toContain('not announced over BGP by dir-a');
    const both = serviceStatus(web1, bgp(true, true), undefined, T0).fields.conditions;
    expect(cond(both, 'Ready')?.message).toBe('2/2 real servers healthy, announced by dir-a, dir-b');
    expect(cond(both, 'Degraded')?.message).not.toContain('announced');
  });

  it('the conflict loser: Ready and Programmed False with reason Conflict naming the holder', () => {
    const { fields } = serviceStatus(svcModel(m, 'shop/copy'), [view('dir-a', { programmedGeneration: 1 })], undefined, T0);
    expect(cond(fields.conditions, 'Ready')).toMatchObject({ status: 'False', reason: 'Conflict' });
    expect(cond(fields.conditions, 'Ready')?.message).toMatch(/already claimed by VirtualService shop\/web/);
    expect(cond(fields.conditions, 'Programmed')).toMatchObject({ status: 'False', reason: 'Conflict' });
    // kstatus reports Failed on Stalled=True: the same reason and message as Ready.
    expect(cond(fields.conditions, 'Stalled')).toMatchObject({ status: 'True', reason: 'Conflict', message: cond(fields.conditions, 'Ready')?.message });
    expect(cond(fields.conditions, 'Reconciling')).toMatchObject({ status: 'False', reason: 'AsExpected', message: 'no rollout in progress' });
  });

  it('stalled on a missing DirectorGroup, not on a group without nodes', () => {
    const m2 = resolve(
      snapshot({
        directorGroups: [dg('g1')],
        nodes: [node('w')],
        virtualServices: [web('shop', 'orphan', '192.0.2.20', { directorGroup: 'nowhere' }), web('shop', 'idle', '192.0.2.21')],
      }),
    );
    const orphan = serviceStatus(svcModel(m2, 'shop/orphan'), undefined, undefined, T0).fields.conditions;
    expect(cond(orphan, 'Ready')).toMatchObject({ status: 'False', reason: 'DirectorGroupNotFound' });
    expect(cond(orphan, 'Stalled')).toMatchObject({ status: 'True', reason: 'DirectorGroupNotFound', message: 'DirectorGroup nowhere does not exist' });
    const idle = serviceStatus(svcModel(m2, 'shop/idle'), undefined, undefined, T0).fields.conditions;
    expect(cond(idle, 'Ready')).toMatchObject({ status: 'False', reason: 'NoDirectors' });
    expect(cond(idle, 'Stalled')).toMatchObject({ status: 'False', reason: 'AsExpected' });
    expect(cond(idle, 'Reconciling')).toMatchObject({ status: 'False', reason: 'AsExpected' });
  });

  it('keeps lastTransitionTime while the status stays, moves it when the status flips', () => {
    const first = serviceStatus(web1, undefined, undefined, T0).fields.conditions;
    const same = serviceStatus(web1, undefined, first, T1).fields.conditions;
    expect(cond(same, 'Ready')?.lastTransitionTime).toBe(T0);
    const views = [view('dir-a', { programmedGeneration: 4, vrrpState: 'Master', healthy: 2 })];
    const flipped = serviceStatus(web1, views, first, T1).fields.conditions;
    expect(cond(flipped, 'Ready')).toMatchObject({ status: 'True', lastTransitionTime: T1 });
    expect(cond(flipped, 'Degraded')?.lastTransitionTime).toBe(T0);
  });
});

describe('groupStatus and realServerStatus', () => {
  it('a group lists its directors and router ids', () => {
    const m = model();
    const { fields } = groupStatus(m.groups.get('g1') ?? (undefined as never), undefined, T0);
    expect(fields).toMatchObject({
      observedGeneration: 3,
      directors: ['dir-a', 'dir-b'],
      vrids: [{ vip: '192.0.2.10', interface: 'eth0', vrid: 1 }],
    });
    expect(cond(fields.conditions, 'Ready')).toMatchObject({ status: 'True', message: '2 director(s): dir-a, dir-b; 1 VIP(s) for 1 VirtualService(s)' });
  });

  it('a group with no nodes leaves directors and vrids out and is not Ready', () => {
    const m = resolve(snapshot({ directorGroups: [dg('g1')], nodes: [node('w')] }));
    const { fields } = groupStatus(m.groups.get('g1') ?? (undefined as never), undefined, T0);
    expect(fields.directors).toBeUndefined();
    expect(fields.vrids).toBeUndefined();
    expect(cond(fields.conditions, 'Ready')).toMatchObject({ status: 'False', reason: 'NoDirectors' });
    // A node that gets the labels ends it: not Stalled, so kstatus keeps waiting (InProgress).
    expect(cond(fields.conditions, 'Stalled')).toMatchObject({ status: 'False', reason: 'AsExpected' });
    expect(fields.conditions.map((c) => c.type)).toEqual([...groupConditionTypes]);
  });

  it('a group whose VRRP Secret does not exist is Stalled, even with no nodes as well', () => {
    const auth = { vrrp: { version: 2 as const, authSecretRef: { name: 'vrrp', namespace: 'ops', key: 'password' } } };
    const m = resolve(snapshot({ directorGroups: [dg('g1', auth), dg('g2', auth)], nodes: nodesFor('g1'), secrets: new Set<string>() }));
    const g1 = groupStatus(m.groups.get('g1') ?? (undefined as never), undefined, T0).fields.conditions;
    const message = 'Secret ops/vrrp named by vrrp.authSecretRef does not exist';
    expect(cond(g1, 'Ready')).toMatchObject({ status: 'False', reason: 'AuthSecretNotFound', message });
    expect(cond(g1, 'Stalled')).toMatchObject({ status: 'True', reason: 'AuthSecretNotFound', message });
    const g2 = groupStatus(m.groups.get('g2') ?? (undefined as never), undefined, T0).fields.conditions;
    expect(cond(g2, 'Ready')).toMatchObject({ status: 'False', reason: 'NoDirectors' });
    expect(cond(g2, 'Stalled')).toMatchObject({ status: 'True', reason: 'AuthSecretNotFound', message });
    // With the Secret there, nothing stalls.
    const fixed = resolve(snapshot({ directorGroups: [dg('g1', auth)], nodes: nodesFor('g1'), secrets: new Set(['ops/vrrp']) }));
    expect(cond(groupStatus(fixed.groups.get('g1') ?? (undefined as never), undefined, T0).fields.conditions, 'Stalled')?.status).toBe('False');
  });

  it('real servers: in use, mapped under DR, unhealthy everywhere', () => {
    const m = model();
    const rs1 = realServerStatus(m.realServers.get('shop/rs1') ?? (undefined as never), [{ node: 'dir-a', healthy: true }, { node: 'dir-b', healthy: false }], undefined, T0).fields;
    expect(rs1).toMatchObject({ observedGeneration: 2, healthy: 1, total: 2 });
    expect(cond(rs1.conditions, 'Ready')).toMatchObject({ status: 'True', reason: 'InUse', message: 'used by VirtualService shop/web; healthy on 1 of 2 directors' });
    expect(cond(rs1.conditions, 'Degraded')).toMatchObject({ status: 'True', reason: 'PartiallyUnhealthy' });
    expect(cond(rs1.conditions, 'Stalled')).toMatchObject({ status: 'False', reason: 'AsExpected' });
    expect(rs1.conditions.map((c) => c.type)).toEqual([...realServerConditionTypes]);
    const rs3 = realServerStatus(m.realServers.get('shop/rs3') ?? (undefined as never), undefined, undefined, T0).fields;
    expect(cond(rs3.conditions, 'Ready')).toMatchObject({ status: 'False', reason: 'PortMappingNotSupported' });
    // No service can use it until its spec changes: Stalled, with Ready's reason and message.
    expect(cond(rs3.conditions, 'Stalled')).toMatchObject({ status: 'True', reason: 'PortMappingNotSupported', message: cond(rs3.conditions, 'Ready')?.message });
    const rs2 = realServerStatus(m.realServers.get('shop/rs2') ?? (undefined as never), [{ node: 'dir-a', healthy: false, message: 'connection refused' }], undefined, T0).fields;
    expect(cond(rs2.conditions, 'Ready')).toMatchObject({ status: 'False', reason: 'Unhealthy', message: 'failing its health check on all 1 directors: connection refused' });
    expect(cond(rs2.conditions, 'Stalled')?.status).toBe('False');
  });

  it('real servers no service selects are not Stalled; an invalid one is', () => {
    const m = resolve(
      snapshot({
        directorGroups: [dg('g1')],
        nodes: nodesFor(),
        realServers: [rs('shop', 'lonely', { address: '10.0.0.21' }, { app: 'none' })],
        invalid: [{ kind: 'RealServer', namespace: 'shop', name: 'broken', generation: 2, error: 'spec.address: invalid IP address' }],
      }),
    );
    const lonely = realServerStatus(m.realServers.get('shop/lonely') ?? (undefined as never), undefined, undefined, T0).fields.conditions;
    expect(cond(lonely, 'Ready')).toMatchObject({ status: 'False', reason: 'NotSelected' });
    expect(cond(lonely, 'Stalled')?.status).toBe('False');
    const broken = realServerStatus(m.realServers.get('shop/broken') ?? (undefined as never), undefined, undefined, T0).fields.conditions;
    expect(cond(broken, 'Stalled')).toMatchObject({ status: 'True', reason: 'InvalidSpec', message: 'spec.address: invalid IP address' });
  });
});

describe('realServerViews: a RealServer\'s health per director, from the services using it', () => {
  const m = resolve(snapshot({
    directorGroups: [dg('g1')],
    nodes: nodesFor(),
    virtualServices: [
      web('shop', 'api', '192.0.2.11', { forwarding: { method: 'DR' }, backends: { realServerSelector: { matchLabels: { app: 'web' } } } }),
      web('shop', 'web', '192.0.2.10', { forwarding: { method: 'DR' } }),
    ],
    realServers: [rs('shop', 'rs1', { address: '10.0.0.11' }, { app: 'web' }), rs('shop', 'rs2', { address: '10.0.0.12' }, { app: 'web' })],
  }));
  const r = (key: string) => m.realServers.get(key) ?? (undefined as never);
  const entry = (node: string, failing: Record<string, string>): DirectorView => ({
    node,
    backends: [
      { address: '10.0.0.11', port: 80, healthy: !failing['10.0.0.11'], weight: 1, ...(failing['10.0.0.11'] ? { message: failing['10.0.0.11'] } : {}) },
      { address: '10.0.0.12', port: 80, healthy: !failing['10.0.0.12'], weight: 1, ...(failing['10.0.0.12'] ? { message: failing['10.0.0.12'] } : {}) },
    ],
  });
  const uses = (api: DirectorView[], webViews: DirectorView[]) => [
    { model: svcModel(m, 'shop/web'), views: webViews },
    { model: svcModel(m, 'shop/api'), views: api },
  ];

  it('failing on a director when any service using it fails there, the first service by name saying why; sorted by node', () => {
    expect(r('shop/rs1').usedBy.sort()).toEqual(['shop/api', 'shop/web']);
    const views = realServerViews(r('shop/rs1'), uses(
      [entry('dir-b', {}), entry('dir-a', { '10.0.0.11': 'api: refused' })],
      [entry('dir-a', { '10.0.0.11': 'web: timeout' }), entry('dir-b', {})],
    ), undefined, T0);
    expect(views).toEqual([
      { node: 'dir-a', healthy: false, message: 'api: refused', lastTransitionTime: T0 },
      { node: 'dir-b', healthy: true, lastTransitionTime: T0 },
    ]);
    expect(realServerViews(r('shop/rs2'), uses([entry('dir-a', {})], [entry('dir-a', {})]), undefined, T0)).toEqual([{ node: 'dir-a', healthy: true, lastTransitionTime: T0 }]);
  });

  it('keeps a director\'s transition time while its verdict holds; ignores entries of non-directors and for other addresses', () => {
    const before = [{ node: 'dir-a', healthy: true, lastTransitionTime: '2024-01-01T00:00:00Z' }, { node: 'dir-b', healthy: true, lastTransitionTime: '2024-01-01T00:00:00Z' }];
    const stray = { node: 'not-a-director', backends: [{ address: '10.0.0.11', port: 80, healthy: false, weight: 0 }] };
    const stale = { node: 'dir-b', backends: [{ address: '10.0.0.99', port: 80, healthy: true, weight: 1 }] };
    const views = realServerViews(r('shop/rs1'), uses([entry('dir-a', {}), stray], [entry('dir-a', {}), entry('dir-b', { '10.0.0.11': 'refused' })]), before, T0);
    expect(views).toEqual([
      { node: 'dir-a', healthy: true, lastTransitionTime: '2024-01-01T00:00:00Z' },
      { node: 'dir-b', healthy: false, message: 'refused', lastTransitionTime: T0 },
    ]);
    expect(realServerViews(r('shop/rs1'), uses([stale], [stale]), before, T0)).toEqual([]);
  });

  it('the status carries them, and a stored list in another order is the same', () => {
    const views = realServerViews(r('shop/rs1'), uses([entry('dir-a', {}), entry('dir-b', { '10.0.0.11': 'refused' })], []), undefined, T0);
    const { fields } = realServerStatus(r('shop/rs1'), views, undefined, T0);
    expect(fields).toMatchObject({ healthy: 1, total: 2, directors: views });
    const stored = { ...fields, directors: [...views].reverse() };
    expect(ownedFieldsEqual(stored, fields, ownedStatusFields.RealServer)).toBe(true);
    expect(ownedFieldsEqual({ ...fields, directors: [views[0]] }, fields, ownedStatusFields.RealServer)).toBe(false);
    // No director reports: the field is left out (released).
    expect(realServerStatus(r('shop/rs1'), [], undefined, T0).fields).not.toHaveProperty('directors');
  });
});

describe('conditions bookkeeping', () => {
  it('reports transitions and judges them', () => {
    const prev = mergeConditions(undefined, [{ type: 'Ready', status: 'True', reason: 'Ready', message: 'ok' }], 1, T0);
    const ts = transitions(prev, [
      { type: 'Ready', status: 'False', reason: 'Conflict', message: 'taken' },
      { type: 'Degraded', status: 'False', reason: 'AsExpected', message: '' },
    ]);
    expect(ts.map((t) => [t.type, t.from?.reason, t.to.reason, isBad(t)])).toEqual([
      ['Ready', 'Ready', 'Conflict', true],
      ['Degraded', undefined, 'AsExpected', false],
    ]);
    expect(transitions(prev, [{ type: 'Ready', status: 'True', reason: 'Ready', message: 'other words' }])).toEqual([]);
  });

  it('judges Stalled like Degraded (True is bad) and Reconciling as never bad', () => {
    const t = (type: string, status: 'True' | 'False', reason: string) => transitions(undefined, [{ type, status, reason, message: '' }])[0] ?? (undefined as never);
    expect(isBad(t('Stalled', 'True', 'Conflict'))).toBe(true);
    expect(isBad(t('Stalled', 'False', 'AsExpected'))).toBe(false);
    expect(isBad(t('Degraded', 'True', 'SplitBrain'))).toBe(true);
    expect(isBad(t('Reconciling', 'True', 'Pending'))).toBe(false);
    expect(isBad(t('Reconciling', 'False', 'AsExpected'))).toBe(false);
    expect(isBad(t('Programmed', 'False', 'Pending'))).toBe(true);
  });

  it('Stalled reasons are the reasons the Argo CD health check in docs/install.md calls Degraded', () => {
    const doc = readFileSync(new URL('../../../docs/install.md', import.meta.url), 'utf8');
    const lua = doc.slice(doc.indexOf('resource.customizations.health.lvs.dev_VirtualService'));
    const luaReasons = [...lua.slice(0, lua.indexOf('```')).matchAll(/c\.reason == "([A-Za-z]+)"/g)].map((x) => x[1]);
    expect(luaReasons.sort()).toEqual([...stallReasons].sort());
  });

  it('skips writes only when every owned field matches', () => {
    const m = model();
    const { fields } = serviceStatus(svcModel(m, 'shop/web'), undefined, undefined, T0);
    const stored = { ...JSON.parse(JSON.stringify(fields)), directors: [{ node: 'dir-a' }] };
    expect(ownedFieldsEqual(stored, fields, ownedStatusFields.VirtualService)).toBe(true);
    expect(ownedFieldsEqual({ ...stored, master: 'dir-b' }, fields, ownedStatusFields.VirtualService)).toBe(false);
    expect(ownedFieldsEqual({ ...stored, backends: { total: 2, healthy: 1 } }, fields, ownedStatusFields.VirtualService)).toBe(false);
    expect(ownedFieldsEqual({ ...stored, backends: { total: 2, healthy: 0 } }, fields, ownedStatusFields.VirtualService)).toBe(true);
    expect(ownedFieldsEqual(undefined, fields, ownedStatusFields.VirtualService)).toBe(false);
  });
});
