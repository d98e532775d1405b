import { describe, expect, it } from 'vitest';
import { resolve } from '../../../src/model/index.js';
import { dg, node, nodesFor, snapshot, web } from './fixtures.js';

const ids = (m: ReturnType<typeof resolve>, group: string): string[] => m.groups.get(group)!.vrids.map((a) => `${a.vip}@${a.interface}=${a.vrid}`);

describe('pinned router ids (spec.vrrp.routerIds)', () => {
  it('gives a pinned VIP its id, the others the lowest free ids around it, and moves an own recorded id out of the way', () => {
    const m = resolve(snapshot({
      directorGroups: [dg('g1', { vrrp: { routerIds: [{ address: '192.0.2.1', vrid: 51 }, { address: '192.0.2.2', vrid: 1 }] } }, {
        vrids: [{ vip: '192.0.2.3', interface: 'eth0', vrid: 1 }, { vip: '192.0.2.1', interface: 'eth0', vrid: 7 }],
      })],
      nodes: nodesFor(),
      virtualServices: [web('a', 'one', '192.0.2.1'), web('a', 'two', '192.0.2.2'), web('a', 'three', '192.0.2.3')],
    }));
    // .3 recorded id 1, but the group pinned 1 for .2: .3 is given the lowest free id.
    expect(ids(m, 'g1')).toEqual(['192.0.2.1@eth0=51', '192.0.2.2@eth0=1', '192.0.2.3@eth0=2']);
    expect(m.groups.get('g1')!.issues).toEqual([]);
    expect([...m.services.values()].every((s) => s.accepted)).toBe(true);
  });

  it('pins a gateway address on its own interface', () => {
    const m = resolve(snapshot({
      directorGroups: [dg('g1', { gatewayAddresses: [{ address: '10.0.1.1/24', interface: 'eth1' }], vrrp: { routerIds: [{ address: '10.0.1.1', vrid: 52 }] } })],
      nodes: nodesFor(),
      virtualServices: [web('a', 'one', '192.0.2.1')],
    }));
    expect(ids(m, 'g1')).toEqual(['192.0.2.1@eth0=1', '10.0.1.1@eth1=52']);
  });

  it("refuses a pin on an id another group holds on that interface, pinned or recorded: the VIP gets none and its service is not programmed", () => {
    const m = resolve(snapshot({
      directorGroups: [
        dg('old', {}, { created: '2024-01-01T00:00:00Z', vrids: [{ vip: '192.0.2.50', interface: 'eth0', vrid: 51 }] }),
        dg('pinner', { vrrp: { routerIds: [{ address: '192.0.2.1', vrid: 51 }, { address: '192.0.2.2', vrid: 9 }] } }, { created: '2024-01-02T00:00:00Z' }),
        dg('late', { vrrp: { routerIds: [{ address: '192.0.2.7', vrid: 9 }] } }, { created: '2024-01-03T00:00:00Z' }),
        dg('elsewhere', { interface: 'eth5', vrrp: { routerIds: [{ address: '192.0.2.8', vrid: 51 }] } }, { created: '2024-01-04T00:00:00Z' }),
      ],
      nodes: [...nodesFor('old'), node('p', { 'lvs.dev/director': 'pinner' }), node('l', { 'lvs.dev/director': 'late' }), node('e', { 'lvs.dev/director': 'elsewhere' })],
      virtualServices: [
        web('a', 'fifty', '192.0.2.50', { directorGroup: 'old' }),
        web('a', 'one', '192.0.2.1', { directorGroup: 'pinner' }),
        web('a', 'two', '192.0.2.2', { directorGroup: 'pinner' }),
        web('a', 'seven', '192.0.2.7', { directorGroup: 'late' }),
        web('a', 'eight', '192.0.2.8', { directorGroup: 'elsewhere' }),
      ],
    }));
    expect(ids(m, 'old')).toEqual(['192.0.2.50@eth0=51']);
    expect(ids(m, 'pinner')).toEqual(['192.0.2.2@eth0=9']);
    expect(m.groups.get('pinner')!.issues).toEqual([{
      reason: 'Conflict', blocking: false,
      message: 'pinned VRRP router ids refused, these addresses get none: 192.0.2.1 (router id 51 on eth0 is held by DirectorGroup old)',
    }]);
    expect(ids(m, 'late')).toEqual([]);
    expect(m.groups.get('late')!.issues[0]!.message).toContain('192.0.2.7 (router id 9 on eth0 is held by DirectorGroup pinner)');
    // Another interface is another L2 segment: the same id is free there.
    expect(ids(m, 'elsewhere')).toEqual(['192.0.2.8@eth5=51']);
    const one = m.services.get('a/one')!;
    expect(one.accepted).toBe(false);
    expect(one.issues.map((i) => i.reason)).toContain('Conflict');
    expect(one.issues.map((i) => i.reason)).not.toContain('VridExhausted');
    expect(one.issues.find((i) => i.reason === 'Conflict')!.message).toMatch(/pinned for VIP 192\.0\.2\.1 in DirectorGroup pinner is held by another virtual router/);
    expect(m.services.get('a/two')!.accepted).toBe(true);
  });

  it('refuses the second of two pins of one id within a group', () => {
    const m = resolve(snapshot({
      directorGroups: [dg('g1', { vrrp: { routerIds: [{ address: '192.0.2.1', vrid: 5 }, { address: '192.0.2.2', vrid: 5 }] } })],
      nodes: nodesFor(),
      virtualServices: [web('a', 'one', '192.0.2.1'), web('a', 'two', '192.0.2.2')],
    }));
    expect(ids(m, 'g1')).toEqual(['192.0.2.1@eth0=5']);
    expect(m.groups.get('g1')!.issues[0]!.message).toContain('192.0.2.2 (router id 5 on eth0 is pinned twice in this group)');
  });
});
