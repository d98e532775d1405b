import { describe, expect, it } from 'vitest';
import type { AddressPool, AddressPoolSpecInput } from '../../../src/api/index.js';
import { type AllocationRequest, allocate } from '../../../src/pool/allocator.js';
import { buildPoolsConfig } from '../../../src/pool/config.js';
import { parseEntry } from '../../../src/pool/ranges.js';

function pool(name: string, spec: Partial<AddressPoolSpecInput> & { addresses: string[] }, created = '2026-01-01T00:00:00Z'): AddressPool {
  return {
    apiVersion: 'lvs.dev/v1alpha1',
    kind: 'AddressPool',
    metadata: { name, creationTimestamp: created },
    spec: { directorGroup: 'edge', autoAssign: true, ...spec },
  } as AddressPool;
}

let n = 0;
function svc(o: Partial<AllocationRequest> = {}): AllocationRequest {
  n++;
  return {
    key: `ns/s${n}`,
    namespace: 'ns',
    namespaceLabels: {},
    creationTimestamp: `2026-01-01T00:00:${String(n).padStart(2, '0')}Z`,
    families: ['IPv4'],
    requested: [],
    pool: undefined,
    sharingKey: undefined,
    ports: [{ port: 80, protocol: 'TCP' }],
    held: [],
    ...o,
  };
}

const addressOf = (r: ReturnType<typeof allocate>, key: string) => {
  const a = r.byService.get(key);
  return a?.ok ? a.addresses.map((x) => x.address) : a?.reason;
};

describe('pool entries', () => {
  it('parses CIDRs and ranges of both families, and refuses what CEL cannot', () => {
    expect(parseEntry('192.0.2.0/30')).toMatchObject({ family: 'IPv4', first: 0xc0000200n, last: 0xc0000203n });
    expect(parseEntry('2001:db8::10-2001:db8::1f')).toMatchObject({ family: 'IPv6' });
    expect(parseEntry('2001:db8::20-2001:db8::1f')).toBe('2001:db8::20-2001:db8::1f: a range must not end before it starts');
    expect(parseEntry('192.0.2.1/24')).toBe('192.0.2.1/24: bits set after the prefix length');
  });
});

describe('pools config', () => {
  it('the younger of two overlapping pools is refused with the overlap named; the older keeps its addresses', () => {
    const c = buildPoolsConfig([pool('b', { addresses: ['192.0.2.8/29'] }, '2026-01-02T00:00:00Z'), pool('a', { addresses: ['192.0.2.0/28'] })]);
    expect(c.pools.map((p) => p.name)).toEqual(['a']);
    expect(c.refused.get('b')).toMatchObject({ reason: 'Conflict', conflicts: [{ pool: 'a', addresses: '192.0.2.8/29' }] });
  });

  it('entries of one pool that overlap each other make the pool invalid', () => {
    const c = buildPoolsConfig([pool('a', { addresses: ['192.0.2.0/28', '192.0.2.4-192.0.2.6'] })]);
    expect(c.refused.get('a')?.reason).toBe('InvalidAddresses');
  });
});

describe('allocate', () => {
  const config = buildPoolsConfig([pool('p', { addresses: ['192.0.2.0/31', '2001:db8::/127'] })]);

  it('gives addresses in order, oldest Service first, and reports exhaustion', () => {
    const [a, b, c] = [svc(), svc(), svc()];
    const r = allocate(config, [c, b, a]);
    expect(addressOf(r, a.key)).toEqual(['192.0.2.0']);
    expect(addressOf(r, b.key)).toEqual(['192.0.2.1']);
    expect(r.byService.get(c.key)).toMatchObject({ ok: false, reason: 'PoolExhausted', message: 'no free IPv4 address in AddressPool p' });
    expect(r.usage.get('p')).toEqual({ allocated: 2, free: 2n });
  });

  it('keeps what a Service holds, even when an older Service arrives later', () => {
    const young = svc({ held: ['192.0.2.0'] });
    const old = svc({ creationTimestamp: '2025-01-01T00:00:00Z' });
    const r = allocate(config, [young, old]);
    expect(addressOf(r, young.key)).toEqual(['192.0.2.0']);
    expect(addressOf(r, old.key)).toEqual(['192.0.2.1']);
  });

  it('an address being released (still in a status) is reused only after it is gone', () => {
    const s = svc();
    expect(addressOf(allocate(config, [s], new Set(['192.0.2.0'])), s.key)).toEqual(['192.0.2.1']);
    expect(addressOf(allocate(config, [s]), s.key)).toEqual(['192.0.2.0']);
  });

  it('an address one Service gives up stays reserved for the pass it is given up in', () => {
    const moving = svc({ held: ['192.0.2.0'], requested: ['192.0.2.1'] });
    const other = svc();
    const r = allocate(config, [moving, other]);
    expect(addressOf(r, moving.key)).toEqual(['192.0.2.1']);
    expect(r.byService.get(other.key)).toMatchObject({ ok: false, reason: 'PoolExhausted' });
  });

  it('honours a requested address, and refuses one that is taken or outside every pool', () => {
    const a = svc({ requested: ['192.0.2.1'] });
    const b = svc({ requested: ['192.0.2.1'] });
    const c = svc({ requested: ['198.51.100.1'] });
    const r = allocate(config, [a, b, c]);
    expect(addressOf(r, a.key)).toEqual(['192.0.2.1']);
    expect(r.byService.get(b.key)).toMatchObject({ ok: false, reason: 'RequestedAddressInUse' });
    expect((r.byService.get(b.key) as { message: string }).message).toContain(`by Service ${a.key}`);
    expect(r.byService.get(c.key)).toMatchObject({ ok: false, reason: 'RequestedAddressNotInPool' });
  });

  it('shares an address between Services of one sharing key and different ports, never across keys or ports', () => {
    const a = svc({ sharingKey: 'k', ports: [{ port: 80, protocol: 'TCP' }] });
    const b = svc({ sharingKey: 'k', ports: [{ port: 53, protocol: 'UDP' }] });
    const c = svc({ sharingKey: 'k', ports: [{ port: 80, protocol: 'TCP' }] });
    const d = svc({ sharingKey: 'other', requested: ['192.0.2.0'] });
    const r = allocate(config, [a, b, c, d]);
    expect(addressOf(r, a.key)).toEqual(['192.0.2.0']);
    expect(addressOf(r, b.key)).toEqual(['192.0.2.0']);
    expect(addressOf(r, c.key)).toEqual(['192.0.2.1']);
    expect(r.byService.get(d.key)).toMatchObject({ ok: false, reason: 'RequestedAddressInUse' });
    expect(r.usage.get('p')?.allocated).toBe(2);
  });

  it('dual-stack Services get one address per family, or none', () => {
    const s = svc({ families: ['IPv4', 'IPv6'] });
    expect(addressOf(allocate(config, [s]), s.key)).toEqual(['192.0.2.0', '2001:db8::']);
    const v4only = buildPoolsConfig([pool('p', { addresses: ['192.0.2.0/31'] })]);
    const t = svc({ families: ['IPv4', 'IPv6'] });
    const other = svc();
    const r = allocate(v4only, [t, other]);
    expect(r.byService.get(t.key)).toMatchObject({ ok: false, reason: 'NoPool' });
    expect(addressOf(r, other.key)).toEqual(['192.0.2.0']);
  });

  it('namespaces and namespaceSelector limit who may take addresses; autoAssign false only on request', () => {
    const c = buildPoolsConfig([
      pool('private', { addresses: ['10.0.0.0/31'], namespaces: ['team-a'], namespaceSelector: { matchLabels: { tier: 'gold' } } }, '2025-01-01T00:00:00Z'),
      pool('manual', { addresses: ['10.1.0.0/31'], autoAssign: false }),
    ]);
    const listed = svc({ namespace: 'team-a' });
    const labelled = svc({ namespace: 'team-b', namespaceLabels: { tier: 'gold' } });
    const outsider = svc({ namespace: 'team-c' });
    const asking = svc({ namespace: 'team-c', pool: 'manual' });
    const stealing = svc({ namespace: 'team-c', requested: ['10.0.0.1'] });
    const r = allocate(c, [listed, labelled, outsider, asking, stealing]);
    expect(addressOf(r, listed.key)).toEqual(['10.0.0.0']);
    expect(addressOf(r, labelled.key)).toEqual(['10.0.0.1']);
    expect(r.byService.get(outsider.key)).toMatchObject({ ok: false, reason: 'NoPool' });
    expect(addressOf(r, asking.key)).toEqual(['10.1.0.0']);
    expect(r.byService.get(stealing.key)).toMatchObject({ ok: false, reason: 'NotAllowed' });
  });

  it('a held address outside the Service\'s pools now is given up for a valid one', () => {
    const c = buildPoolsConfig([pool('a', { addresses: ['10.0.0.0/31'], namespaces: ['other'] }), pool('b', { addresses: ['10.1.0.0/31'] }, '2026-02-01T00:00:00Z')]);
    const s = svc({ held: ['10.0.0.0'] });
    expect(addressOf(allocate(c, [s]), s.key)).toEqual(['10.1.0.0']);
  });

  it('an IPv6 /64 is counted exactly and allocated without expanding it', () => {
    const c = buildPoolsConfig([pool('big', { addresses: ['2001:db8:1::/64'] })]);
    const s = svc({ families: ['IPv6'] });
    const r = allocate(c, [s]);
    expect(addressOf(r, s.key)).toEqual(['2001:db8:1::']);
    expect(r.usage.get('big')).toEqual({ allocated: 1, free: 2n ** 64n - 1n });
  });

  it('an unknown pool asked for is reported as such', () => {
    const s = svc({ pool: 'nope' });
    expect(allocate(config, [s]).byService.get(s.key)).toMatchObject({ ok: false, reason: 'UnknownPool' });
  });
});

describe('what admission cannot check (CEL without the 1.31 IP library)', () => {
  it('zod refuses an IPv6 CIDR with host bits and a reversed IPv6 range; the controller refuses such a pool', async () => {
    const { parseAddressPoolSpec } = await import('../../../src/api/index.js');
    for (const [entry, message] of [
      ['2001:db8::1/120', 'a CIDR must have no bits set after its prefix length'],
      ['2001:db8::20-2001:db8::1f', 'a range must not end before it starts'],
    ] as const) {
      const r = parseAddressPoolSpec({ addresses: [entry], directorGroup: 'edge' });
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.error).toContain(message);
      const c = buildPoolsConfig([pool('v6', { addresses: [entry] })]);
      expect(c.refused.get('v6')).toMatchObject({ reason: 'InvalidAddresses' });
    }
  });
});
