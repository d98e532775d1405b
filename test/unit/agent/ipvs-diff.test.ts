import { describe, expect, it } from 'vitest';
import { diffIpvs } from '../../../src/agent/ipvs-diff.js';
import { parseServiceKey, serviceKeyString } from '../../../src/ipvs/keys.js';
import type { IpvsDest, IpvsServiceWithDests } from '../../../src/ipvs/types.js';

const dest = (addr: string, weight = 1, extra: Partial<IpvsDest> = {}): IpvsDest =>
  ({ addr, port: 80, fwd: 'route', weight, upperThreshold: 0, lowerThreshold: 0, ...extra });
const svc = (addr: string, dests: IpvsDest[], extra: Partial<IpvsServiceWithDests> = {}): IpvsServiceWithDests =>
  ({ key: { af: 'IPv4', protocol: 'tcp', addr, port: 80 }, scheduler: 'wrr', flags: [], timeout: 0, netmask: 32, dests, ...extra });
const key = (addr: string): string => serviceKeyString({ af: 'IPv4', protocol: 'tcp', addr, port: 80 });

describe('diffIpvs', () => {
  it('adds a missing service with its destinations and owns it', () => {
    const want = svc('10.0.0.1', [dest('10.1.0.1'), dest('10.1.0.2', 2)]);
    const d = diffIpvs([want], [], new Set());
    expect(d.ops.map((o) => o.op)).toEqual(['add-service', 'add-dest', 'add-dest']);
    expect([...d.owned]).toEqual([key('10.0.0.1')]);
  });

  it('emits nothing when the kernel already matches (hashed flag and read-back stats ignored)', () => {
    const want = svc('10.0.0.1', [dest('10.1.0.1')]);
    const have = svc('10.0.0.1', [dest('10.1.0.1', 1, { activeConns: 4 })], { flags: ['hashed'] });
    expect(diffIpvs([want], [have], new Set([key('10.0.0.1')])).ops).toEqual([]);
  });

  it('edits only what changed: one weight, the scheduler', () => {
    const want = svc('10.0.0.1', [dest('10.1.0.1', 3), dest('10.1.0.2')], { scheduler: 'wlc' });
    const have = svc('10.0.0.1', [dest('10.1.0.1', 1), dest('10.1.0.2')]);
    const d = diffIpvs([want], [have], new Set([key('10.0.0.1')]));
    expect(d.ops).toEqual([
      { op: 'edit-service', service: { key: want.key, scheduler: 'wlc', flags: [], timeout: 0, netmask: 32 } },
      { op: 'edit-dest', key: want.key, dest: dest('10.1.0.1', 3) },
    ]);
  });

  it('ignores timeout/netmask on non-persistent services but edits them on persistent ones', () => {
    const have = svc('10.0.0.1', [], { timeout: 0, netmask: 32 });
    expect(diffIpvs([svc('10.0.0.1', [], { timeout: 300, netmask: 24 })], [have], new Set([key('10.0.0.1')])).ops).toEqual([]);
    const p = diffIpvs([svc('10.0.0.1', [], { flags: ['persistent'], timeout: 300, netmask: 24 })],
      [svc('10.0.0.1', [], { flags: ['persistent', 'hashed'], timeout: 360, netmask: 24 })], new Set([key('10.0.0.1')]));
    expect(p.ops.map((o) => o.op)).toEqual(['edit-service']);
  });

  it('removes destinations no longer wanted and edits a changed forwarding method or tunnel', () => {
    const want = svc('10.0.0.1', [dest('10.1.0.1', 1, { fwd: 'tunnel', tunnel: { type: 'gue', port: 6080, flags: [] } })]);
    const have = svc('10.0.0.1', [dest('10.1.0.1', 1, { fwd: 'tunnel', tunnel: { type: 'ipip', port: 0, flags: [] } }), dest('10.1.0.9')]);
    const d = diffIpvs([want], [have], new Set([key('10.0.0.1')]));
    expect(d.ops.map((o) => `${o.op}`)).toEqual(['del-dest', 'edit-dest']);
  });

  it('deletes owned services that are no longer desired, first', () => {
    const d = diffIpvs([svc('10.0.0.2', [])], [svc('10.0.0.1', [dest('10.1.0.1')])], new Set([key('10.0.0.1')]));
    expect(d.ops.map((o) => o.op)).toEqual(['del-service', 'add-service']);
    expect([...d.owned]).toEqual([key('10.0.0.2')]);
  });

  it('adopts a desired service somebody else made when asked: edits only what differs, never recreates it; others stay foreign', () => {
    const theirs = svc('10.0.0.1', [dest('10.1.0.1', 1), dest('10.1.0.9')], { flags: ['hashed'] });
    const other = svc('10.0.0.2', [dest('10.1.0.1')]);
    const want = svc('10.0.0.1', [dest('10.1.0.1', 2), dest('10.1.0.2')]);
    const d = diffIpvs([want, svc('10.0.0.2', [dest('10.1.0.1')])], [theirs, other], new Set(), new Set([key('10.0.0.1')]));
    expect(d.adopted).toEqual([key('10.0.0.1')]);
    expect(d.foreign).toEqual([key('10.0.0.2')]);
    expect([...d.owned]).toEqual([key('10.0.0.1')]);
    expect(d.ops.map((o) => `${o.op} ${'dest' in o ? `${o.dest.addr} w${'weight' in o.dest ? o.dest.weight : '-'}` : ''}`).sort()).toEqual(['add-dest 10.1.0.2 w1', 'del-dest 10.1.0.9 w-', 'edit-dest 10.1.0.1 w2']);
    // Already ours: nothing to adopt.
    expect(diffIpvs([want], [want], new Set([key('10.0.0.1')]), new Set([key('10.0.0.1')])).adopted).toEqual([]);
    // Not in the kernel: an ordinary add.
    expect(diffIpvs([want], [], new Set(), new Set([key('10.0.0.1')])).ops[0]!.op).toBe('add-service');
  });

  it('never touches foreign services: not owned, not desired -> left; desired -> conflict', () => {
    const foreignA = svc('10.9.0.1', [dest('10.1.0.1')]);
    const foreignB = svc('10.0.0.1', [dest('10.8.0.1')]);
    const d = diffIpvs([svc('10.0.0.1', [dest('10.1.0.1')])], [foreignA, foreignB], new Set());
    expect(d.ops).toEqual([]);
    expect(d.foreign).toEqual([key('10.0.0.1')]);
    expect(d.owned.size).toBe(0);
  });

  it('treats fwmark and IPv6 services as their own keys', () => {
    const fw: IpvsServiceWithDests = { key: { af: 'IPv4', fwmark: 1 }, scheduler: 'rr', flags: ['persistent'], timeout: 600, netmask: 32, dests: [] };
    const v6 = svc('2001:db8::1', [dest('2001:db8:1::1')], { key: { af: 'IPv6', protocol: 'tcp', addr: '2001:db8::1', port: 80 } });
    const d = diffIpvs([fw, v6], [], new Set());
    expect([...d.owned].sort()).toEqual(['fwmark/inet/1', 'tcp/[2001:db8::1]:80']);
  });
});

describe('service keys', () => {
  it.each([
    { af: 'IPv4', protocol: 'tcp', addr: '10.0.0.1', port: 80 },
    { af: 'IPv6', protocol: 'udp', addr: '2001:db8::1', port: 53 },
    { af: 'IPv4', protocol: 'sctp', addr: '192.0.2.1', port: 9 },
    { af: 'IPv6', fwmark: 7 },
  ] as const)('round-trips %o', (k) => {
    expect(parseServiceKey(serviceKeyString(k))).toEqual(k);
  });
});
