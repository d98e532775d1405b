import { describe, expect, it } from 'vitest';
import type { AgentPass } from '../../../src/agent/agent.js';
import { compile, type HealthLookup } from '../../../src/agent/compile.js';
import type { ReconcileError } from '../../../src/agent/reconciler.js';
import { NodeViews } from '../../../src/agent/status-views.js';
import { resolve } from '../../../src/model/index.js';
import { dg, node, rs, snapshot, web } from '../model/fixtures.js';

const model = resolve(snapshot({
  directorGroups: [dg('g1')],
  virtualServices: [
    web('shop', 'web', '192.168.10.100', { forwarding: { method: 'DR' } }),
    web('shop', 'api', '192.168.10.101', { forwarding: { method: 'DR' }, backends: { realServerSelector: { matchLabels: { tier: 'shared' } } } }),
  ],
  realServers: [
    rs('shop', 'web-1', { address: '10.1.0.1' }, { app: 'web', tier: 'shared' }),
    rs('shop', 'web-2', { address: '10.1.0.2', weight: 2 }, { app: 'web' }),
  ],
  nodes: [node('d1', { 'lvs.dev/director': 'g1' })],
}));

function pass(health: HealthLookup, errors: ReconcileError[] = [], leads = true): AgentPass {
  const desired = compile(model, 'd1', health, () => leads);
  return { model, desired, result: { ipvsOps: 0, addressOps: 0, sysctlOps: 0, nftOps: 0, foreign: [], errors, durationMs: 1 } };
}

describe('NodeViews', () => {
  it('reports every directed service with its real servers, why one fails, then only what changed', () => {
    const views = new NodeViews('d1', (_s, address) => `connect ${address}: refused`);
    const first = views.update(pass(() => true), 't1');
    expect([...first.services.keys()].sort()).toEqual(['shop/api', 'shop/web']);
    expect(first.services.get('shop/web')).toMatchObject({ node: 'd1', programmedGeneration: 1, vrrpState: 'Master', healthy: 2, total: 2, lastTransitionTime: 't1' });
    expect(first.services.get('shop/web')!.backends).toEqual([{ address: '10.1.0.1', port: 80, healthy: true, weight: 1 }, { address: '10.1.0.2', port: 80, healthy: true, weight: 2 }]);
    // The same pass again: nothing to write.
    const same = views.update(pass(() => true), 't2');
    expect(same.services.size).toBe(0);

    // web-1 fails (it serves both services): both services change, each saying why.
    const down = views.update(pass((_s, b) => b.address !== '10.1.0.1'), 't3');
    expect([...down.services.keys()].sort()).toEqual(['shop/api', 'shop/web']);
    expect(down.services.get('shop/web')).toMatchObject({ healthy: 1, lastTransitionTime: 't3', backends: [{ address: '10.1.0.1', healthy: false, weight: 0, message: 'connect 10.1.0.1: refused' }, { address: '10.1.0.2', healthy: true, weight: 2 }] });
    expect(down.services.get('shop/api')!.backends).toEqual([{ address: '10.1.0.1', port: 80, healthy: false, weight: 0, message: 'connect 10.1.0.1: refused' }]);
  });

  it('BGP groups: says whether this director announces the VIP, and reports when that changes', () => {
    const bgpModel = resolve(snapshot({
      directorGroups: [dg('g1', { announce: 'BGP', bgp: { localASN: 65011, peers: [{ address: '10.0.0.1', asn: 65000 }] } } as never)],
      virtualServices: [web('shop', 'web', '192.168.10.100', { scheduler: 'mh', forwarding: { method: 'DR' } })],
      realServers: [rs('shop', 'web-1', { address: '10.1.0.1' }, { app: 'web' })],
      nodes: [node('d1', { 'lvs.dev/director': 'g1' })],
    }));
    const bgpPass = (announced: string[]): AgentPass => ({
      model: bgpModel, desired: compile(bgpModel, 'd1', () => true, () => false), announced: new Set(announced),
      result: { ipvsOps: 0, addressOps: 0, sysctlOps: 0, nftOps: 0, foreign: [], errors: [], durationMs: 1 },
    });
    const views = new NodeViews('d1');
    expect(views.update(bgpPass([]), 't1').services.get('shop/web')).toMatchObject({ announced: false });
    expect(views.update(bgpPass([]), 't2').services.size).toBe(0);
    expect(views.update(bgpPass(['192.168.10.100']), 't3').services.get('shop/web')).toMatchObject({ announced: true });
    // A VRRP group's entries carry no such field.
    expect(new NodeViews('d1').update(pass(() => true), 't1').services.get('shop/web')).not.toHaveProperty('announced');
  });

  it('shows errors and withholds programmedGeneration for a service the kernel refused', () => {
    const views = new NodeViews('d1');
    views.update(pass(() => true), 't1');
    const changed = views.update(pass(() => true, [{ what: 'add-service tcp/192.168.10.101:80', message: 'EEXIST', services: ['shop/api'] }]), 't2');
    expect([...changed.services.keys()]).toEqual(['shop/api']);
    const api = changed.services.get('shop/api')!;
    expect(api.programmedGeneration).toBeUndefined();
    expect(api.message).toBe('add-service tcp/192.168.10.101:80: EEXIST');
    expect(api.lastTransitionTime).toBe('t1'); // neither health nor VRRP state changed
  });

  it('follows the VRRP state, and releases everything when the node directs nothing', () => {
    let state: 'Master' | 'Backup' = 'Backup';
    const views = new NodeViews('d1', undefined, () => state);
    expect(views.update(pass(() => true), 't1').services.get('shop/web')!.vrrpState).toBe('Backup');
    state = 'Master';
    const flipped = views.update(pass(() => true), 't2');
    expect(flipped.services.get('shop/web')).toMatchObject({ vrrpState: 'Master', lastTransitionTime: 't2' });
    const empty: AgentPass = { ...pass(() => true), desired: { ...pass(() => true).desired, services: [] } };
    const gone = views.update(empty, 't3');
    expect([...gone.services.entries()].sort()).toEqual([['shop/api', undefined], ['shop/web', undefined]]);
  });
});

describe('NodeViews: what only this director knows', () => {
  it('a terminal kernel error carries its reason', () => {
    const views = new NodeViews('d1');
    const err = { what: 'add-service tcp/192.168.10.101:80', message: 'scheduler "mh" (module ip_vs_mh) is not available in this kernel (ENOENT)', services: ['shop/api'], reason: 'UnsupportedScheduler' };
    const api = views.update(pass(() => true, [err]), 't1').services.get('shop/api')!;
    expect(api).toMatchObject({ reason: 'UnsupportedScheduler', message: expect.stringMatching(/ip_vs_mh/) });
    expect(api.programmedGeneration).toBeUndefined();
    const fixed = views.update(pass(() => true), 't2').services.get('shop/api')!;
    expect(fixed.reason).toBeUndefined();
    expect(fixed.programmedGeneration).toBe(1);
  });

  it('a service its kernel cannot serve (probed scheduler missing) is reported, not dropped', () => {
    const blocked = resolve(snapshot({
      directorGroups: [dg('g1')],
      virtualServices: [web('shop', 'web', '192.168.10.100'), web('shop', 'odd', '192.168.10.102', { scheduler: 'twos' })],
      nodes: [node('d1', { 'lvs.dev/director': 'g1' })],
      unsupportedSchedulers: ['twos'],
    }));
    const p = (m: typeof blocked): AgentPass => ({ model: m, desired: compile(m, 'd1', () => true, () => true), result: { ipvsOps: 0, addressOps: 0, sysctlOps: 0, nftOps: 0, foreign: [], errors: [], durationMs: 1 } });
    const views = new NodeViews('d1');
    const first = views.update(p(blocked), 't1');
    expect(first.services.get('shop/odd')).toEqual({ node: 'd1', reason: 'UnsupportedScheduler', message: expect.stringMatching(/ip_vs_twos/), lastTransitionTime: 't1' });
    expect(views.service('shop/odd')?.reason).toBe('UnsupportedScheduler');
    expect(views.update(p(blocked), 't2').services.size).toBe(0);
    // The module got installed: the service is compiled and reported as programmed.
    const fine = resolve(snapshot({
      directorGroups: [dg('g1')],
      virtualServices: [web('shop', 'web', '192.168.10.100'), web('shop', 'odd', '192.168.10.102', { scheduler: 'twos' })],
      nodes: [node('d1', { 'lvs.dev/director': 'g1' })],
    }));
    const after = views.update(p(fine), 't3').services.get('shop/odd');
    expect(after).toMatchObject({ programmedGeneration: 1 });
    expect(after?.reason).toBeUndefined();
  });
});

describe('NodeViews: a pass looks again only at what changed', () => {
  // The same compiled objects pass after pass, as the agent's CompileCache hands them out.
  const desired = compile(model, 'd1', () => true, () => true);
  const same = (errors: ReconcileError[] = []): AgentPass => ({ model, desired, result: { ipvsOps: 0, addressOps: 0, sysctlOps: 0, nftOps: 0, foreign: [], errors, durationMs: 1 } });

  it('errors that come and go on an unchanged service', () => {
    const views = new NodeViews('d1');
    views.update(same(), 't1');
    const failed = views.update(same([{ what: 'edit-dest', message: 'EINVAL', services: ['shop/web'] }]), 't2');
    expect([...failed.services.keys()]).toEqual(['shop/web']);
    expect(failed.services.get('shop/web')!.programmedGeneration).toBeUndefined();
    const healed = views.update(same(), 't3');
    expect(healed.services.get('shop/web')).toMatchObject({ programmedGeneration: 1, message: '' });
    expect(views.update(same(), 't4').services.size).toBe(0);
  });

  it('a VRRP transition without a new compiled object', () => {
    let state: 'Master' | 'Backup' = 'Backup';
    const views = new NodeViews('d1', undefined, () => state);
    views.update(same(), 't1');
    state = 'Master';
    const flipped = views.update(same(), 't2');
    expect([...flipped.services.keys()].sort()).toEqual(['shop/api', 'shop/web']);
    expect(flipped.services.get('shop/api')).toMatchObject({ vrrpState: 'Master', lastTransitionTime: 't2' });
  });

  it('one changed service among unchanged ones', () => {
    const views = new NodeViews('d1');
    views.update(same(), 't1');
    const web = desired.services.find((s) => s.key === 'shop/web')!;
    const edited = { ...desired, services: desired.services.map((s) => (s === web ? { ...web, healthy: 1 } : s)) };
    const changed = views.update({ ...same(), desired: edited }, 't2');
    expect([...changed.services.keys()]).toEqual(['shop/web']);
    expect(changed.services.get('shop/web')).toMatchObject({ healthy: 1, lastTransitionTime: 't2' });
  });
});
