import { describe, expect, it } from 'vitest';
import type { VirtualServiceSpecInput } from '../../../src/api/index.js';
import { groupStatus } from '../../../src/controller/status.js';
import { resolve } from '../../../src/model/index.js';
import { dg, node, snapshot, web } from './fixtures.js';

// A group that announces over BGP runs no VRRP: its VIPs must not take VRRP router ids, of which
// an interface has 255 shared by every VRRP group (and keepalived) on the segment.
const bgp = { announce: 'BGP', bgp: { localASN: 65011, peers: [{ address: '10.0.0.1', asn: 65000 }] } } as never;
const ids = (m: ReturnType<typeof resolve>, group: string): string[] => m.groups.get(group)!.vrids.map((a) => `${a.vip}@${a.interface}=${a.vrid}`);
const dr = (): Partial<VirtualServiceSpecInput> => ({ directorGroup: 'aa', scheduler: 'mh', schedulerFlags: ['mh-port'], forwarding: { method: 'DR' } });

describe('router ids and groups that announce over BGP', () => {
  it('a BGP group allocates none, drops those its status recorded, and still serves its VIPs', () => {
    const m = resolve(snapshot({
      directorGroups: [dg('aa', bgp, { vrids: [{ vip: '192.0.2.1', interface: 'eth0', vrid: 1 }] })],
      nodes: [node('d1', { 'lvs.dev/director': 'aa' })],
      virtualServices: [web('a', 'one', '192.0.2.1', dr()), web('a', 'two', '192.0.2.2', dr())],
    }));
    const g = m.groups.get('aa')!;
    expect(g.vrids).toEqual([]);
    expect(g.vips).toEqual(['192.0.2.1', '192.0.2.2']);
    expect([...m.services.values()].map((s) => [s.accepted, s.vips.map((v) => v.vip)])).toEqual([[true, ['192.0.2.1']], [true, ['192.0.2.2']]]);
    const { fields } = groupStatus(g, undefined, '2026-12-06T00:00:00Z');
    expect(fields.vrids).toBeUndefined();
    expect(fields.conditions.find((c) => c.type === 'Ready')).toMatchObject({ status: 'True', message: '1 director(s): d1; 2 VIP(s) for 2 VirtualService(s)' });
  });

  it('more VIPs than router ids: a BGP group serves all 300, a VRRP group beside it keeps the lowest ids', () => {
    const vips = Array.from({ length: 300 }, (_, i) => `10.${100 + Math.floor(i / 200)}.0.${(i % 200) + 1}`);
    const m = resolve(snapshot({
      directorGroups: [dg('aa', bgp), dg('pair')],
      nodes: [node('d1', { 'lvs.dev/director': 'aa' }), node('d2', { 'lvs.dev/director': 'pair' })],
      virtualServices: [...vips.map((v, i) => web('a', `s${i}`, v, dr())), web('b', 'vrrp', '192.0.2.50', { directorGroup: 'pair' })],
    }));
    const mine = [...m.services.values()].filter((s) => s.group === 'aa');
    expect(mine).toHaveLength(300);
    expect(mine.filter((s) => !s.accepted).map((s) => s.issues)).toEqual([]);
    expect(m.groups.get('aa')!.issues).toEqual([]);
    expect(ids(m, 'pair')).toEqual(['192.0.2.50@eth0=1']);
  });
});
