import { describe, expect, it } from 'vitest';
import type { DirectorView } from '../../../src/api/index.js';
import { isBad, mergeConditions, transitions } from '../../../src/controller/conditions.js';
import { groupStatus, ownedFieldsEqual, ownedStatusFields, realServerStatus, serviceStatus } from '../../../src/controller/status.js';
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
        web('shop', 'web', '192.0.2.10', { forwarding: { method: 'DR' }, quorum: { minHealthy: 2 } }, { generation: 4, created: '2024-01-01T00:00:00Z' }),
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
    // A stale view from a node no longer in the group does not make a split brain.
    expect(fields).toMatchObject({ master: 'dir-a', vrrpState: 'Master', backends: { healthy: 2, total: 2 } });
  });

  it('quorum not met, a director behind, two masters', () => {
    const views = [
      view('dir-a', { programmedGeneration: 4, vrrpState: 'Master', healthy: 1 }),
      view('dir-b', { programmedGeneration: 3, vrrpState: 'Master', healthy: 1 }),
    ];
    const { fields } = serviceStatus(web1, views, undefined, T0);
    expect(cond(fields.conditions, 'Ready')).toMatchObject({ status: 'False', reason: 'QuorumNotMet', message: '1 of 2 real servers healthy, quorum needs 2' });
    expect(fields.vrrpState).toBe('SplitBrain');
    expect(fields.master).toBeUndefined();
    const degraded = cond(fields.conditions, 'Degraded');
    expect(degraded?.message).toContain('generation 4 not yet programmed on dir-b');
    expect(degraded?.message).toContain('several directors are VRRP master: dir-a, dir-b');
  });

  it('the conflict loser: Ready and Programmed False with reason Conflict naming the holder', () => {
    const { fields } = serviceStatus(svcModel(m, 'shop/copy'), [view('dir-a', { programmedGeneration: 1 })], undefined, T0);
    expect(cond(fields.conditions, 'Ready')).toMatchObject({ status: 'False', reason: 'Conflict' });
    expect(cond(fields.conditions, 'Ready')?.message).toMatch(/already claimed by VirtualService shop\/web/);
    expect(cond(fields.conditions, 'Programmed')).toMatchObject({ status: 'False', reason: 'Conflict' });
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
  });

  it('real servers: in use, mapped under DR, unhealthy everywhere', () => {
    const m = model();
    const rs1 = realServerStatus(m.realServers.get('shop/rs1') ?? (undefined as never), [{ node: 'dir-a', healthy: true }, { node: 'dir-b', healthy: false }], undefined, T0).fields;
    expect(rs1).toMatchObject({ observedGeneration: 2, healthy: 1, total: 2 });
    expect(cond(rs1.conditions, 'Ready')).toMatchObject({ status: 'True', reason: 'InUse', message: 'used by VirtualService shop/web; healthy on 1 of 2 directors' });
    expect(cond(rs1.conditions, 'Degraded')).toMatchObject({ status: 'True', reason: 'PartiallyUnhealthy' });
    const rs3 = realServerStatus(m.realServers.get('shop/rs3') ?? (undefined as never), undefined, undefined, T0).fields;
    expect(cond(rs3.conditions, 'Ready')).toMatchObject({ status: 'False', reason: 'PortMappingNotSupported' });
    const rs2 = realServerStatus(m.realServers.get('shop/rs2') ?? (undefined as never), [{ node: 'dir-a', healthy: false, message: 'connection refused' }], undefined, T0).fields;
    expect(cond(rs2.conditions, 'Ready')).toMatchObject({ status: 'False', reason: 'Unhealthy', message: 'failing its health check on all 1 directors: connection refused' });
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
