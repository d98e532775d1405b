// Priority that follows health, FAULT in status and Events, through VrrpLeadership on the
// in-memory LAN; and the pure rule that says which VIPs a director cannot serve.
import { describe, expect, it } from 'vitest';
import type { CompiledService } from '../../../src/agent/compile.js';
import { healthOffset, unservedVips } from '../../../src/agent/vrrp-health.js';
import { resolve } from '../../../src/model/index.js';
import { MemoryLinks } from '../vrrp/memory-links.js';
import { twoDirectors, vip1, vip2, vrrpLab } from './vrrp-fixtures.js';

/** A compiled service as compile makes it, reduced to what the rule reads. */
function compiled(key: string, weights: (number | undefined)[]): CompiledService {
  return {
    key, generation: 1, group: 'g1', healthy: 0, liveWeight: 0, quorumUp: true, sorryActive: false,
    ipvs: { key: { protocol: 'TCP', family: 'IPv4', addr: '0.0.0.0', port: 80 }, scheduler: 'wlc', flags: [], timeout: 0, netmask: 32, dests: [] },
    backends: weights.map((weight, i) => ({ address: `10.1.0.${i + 1}`, port: 80, healthy: weight !== undefined && weight > 0, weight })),
  } as unknown as CompiledService;
}

const model = resolve(twoDirectors());
const [s0, s1] = [...model.groups.get('g1')!.services];

describe('unservedVips', () => {
  it('a VIP whose services have no real server at weight > 0 is unserved: failed (left out or inhibited at 0), or only the sorry server serving', () => {
    expect(s0 && s1).toBeTruthy();
    const vipOf = (key: string): string => model.services.get(key)!.vips[0]!.vip;
    expect([vipOf(s0!), vipOf(s1!)]).toEqual([vip1, vip2]);
    expect(unservedVips(model, [compiled(s0!, [1, undefined]), compiled(s1!, [2])], ['g1'])).toEqual(new Map([['g1', []]]));
    expect(unservedVips(model, [compiled(s0!, [undefined, 0]), compiled(s1!, [2])], ['g1'])).toEqual(new Map([['g1', [vip1]]]));
    // The sorry server is not among the backends: while it serves alone the real servers are out.
    expect(unservedVips(model, [compiled(s0!, [undefined]), compiled(s1!, [0])], ['g1'])).toEqual(new Map([['g1', [vip1, vip2]]]));
  });

  it('a VIP with no real server configured, or a service not compiled, does not count', () => {
    expect(unservedVips(model, [compiled(s0!, [])], ['g1'])).toEqual(new Map([['g1', []]]));
    expect(unservedVips(model, [], ['g1', 'missing'])).toEqual(new Map([['g1', []]]));
  });

  it('the offset is the drop per unserved VIP', () => {
    expect(healthOffset([], 100)).toBe(-0);
    expect(healthOffset([vip1, vip2], 30)).toBe(-60);
  });
});

describe('VrrpLeadership: priority follows health', () => {
  const healthy = [compiled(s0!, [1]), compiled(s1!, [1])];
  const vip1Down = [compiled(s0!, [undefined]), compiled(s1!, [1])];

  it('the master that cannot serve a VIP lowers the whole group: the other director takes every VIP; healthy again, it takes them back (preempt)', async () => {
    const { director, run } = vrrpLab();
    // d1 is the preferred master (keepalived's MASTER 150 / BACKUP 100); the default drop is 100.
    const snap = twoDirectors({ annotations: { 'lvs.dev/vrrp-priority': '150' } });
    const d1 = director('d1', '192.168.10.1');
    const d2 = director('d2', '192.168.10.2');
    for (const d of [d1, d2]) await d.leadership.update(snap);
    await run(1000);
    expect([await d1.holds(vip1), await d1.holds(vip2)]).toEqual([true, true]);
    d1.leadership.followHealth(model, vip1Down);
    d2.leadership.followHealth(model, healthy);
    expect(d1.leadership.status().map((s) => s.priority)).toEqual([50, 50]);
    await run(1000);
    expect([await d2.holds(vip1), await d2.holds(vip2), await d1.holds(vip1), await d1.holds(vip2)]).toEqual([true, true, false, false]);
    expect(d2.leadership.stateOf('g1', [vip1, vip2])).toBe('Master');
    d1.leadership.followHealth(model, healthy);
    expect(d1.leadership.status().map((s) => s.priority)).toEqual([150, 150]);
    await run(1000);
    expect([await d1.holds(vip1), await d1.holds(vip2), await d2.holds(vip1)]).toEqual([true, true, false]);
  });

  it('directors equally unable to serve keep their master: nothing flaps', async () => {
    const { director, run } = vrrpLab();
    const snap = twoDirectors({ vrrp: { unhealthyPriorityDrop: 30 } });
    const m = resolve(snap);
    const d1 = director('d1', '192.168.10.1');
    const d2 = director('d2', '192.168.10.2');
    for (const d of [d1, d2]) await d.leadership.update(snap, m);
    await run(1000);
    for (const d of [d2, d1]) d.leadership.followHealth(m, vip1Down);
    expect(d1.leadership.status().map((s) => s.priority)).toEqual([70, 70]);
    await run(5000);
    expect(d2.leadership.status().map((s) => [s.state, s.counters.transitions])).toEqual([
      ['master', { 'initialize->backup': 1, 'backup->master': 1 }],
      ['master', { 'initialize->backup': 1, 'backup->master': 1 }],
    ]);
    expect(d1.leadership.status().map((s) => s.state)).toEqual(['backup', 'backup']);
  });
});

describe('VrrpLeadership: FAULT', () => {
  it('an interface of the group down: status Fault, a Warning Event naming it, the VIPs move; up again, Backup', async () => {
    const { director, run } = vrrpLab();
    const links = new MemoryLinks();
    const events: { reason: string; type: string; message: string }[] = [];
    const recorder = { record: async (_ref: unknown, type: string, reason: string, message: string) => { events.push({ type, reason, message }); } };
    const snap = twoDirectors({ vrrp: { trackInterfaces: [{ name: 'eth1' }] } });
    const d1 = director('d1', '192.168.10.1');
    const d2 = director('d2', '192.168.10.2', { extra: { links, events: recorder as never } });
    for (const d of [d1, d2]) await d.leadership.update(snap);
    await run(1000);
    expect(d2.leadership.stateOf('g1', [vip1])).toBe('Master');
    links.set('eth1', false);
    await run(10);
    expect(d2.leadership.stateOf('g1', [vip1])).toBe('Fault');
    expect(d2.leadership.isMaster('g1')).toBe(false);
    expect(await d2.holds(vip1)).toBe(false);
    expect(events.filter((e) => e.reason === 'VrrpFault').map((e) => [e.type, e.message.includes('eth1 down')])).toEqual([
      ['Warning', true], ['Warning', true],
    ]);
    await run(1000);
    expect([await d1.holds(vip1), await d1.holds(vip2)]).toEqual([true, true]);
    links.set('eth1', true);
    await run(10);
    expect(d2.leadership.stateOf('g1', [vip1, vip2])).toBe('Backup');
    await run(1000);
    // Equal priorities: d2 hears d1's adverts at its own priority and stays Backup (no preempt on the address).
    expect(d2.leadership.stateOf('g1', [vip1, vip2])).toBe('Backup');
    expect(d1.leadership.stateOf('g1', [vip1, vip2])).toBe('Master');
  });
});
