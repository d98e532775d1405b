import { describe, expect, it } from 'vitest';
import { HeartbeatWatch } from '../../../src/kube/node-heartbeat.js';
import type { Lease } from '../../../src/kube/types.js';

const lease = (node: string, renewTime: string | undefined, durationSeconds = 40): Lease => ({
  metadata: { name: `lvs-agent-${node}`, namespace: 'lvs-system' },
  spec: { holderIdentity: node, leaseDurationSeconds: durationSeconds, ...(renewTime ? { renewTime } : {}) },
});

describe('HeartbeatWatch', () => {
  it('times a Lease by when its renewTime was seen to change, not by the time written in it', () => {
    const w = new HeartbeatWatch();
    // The agent's clock is 10 minutes behind: its renewTime is always in the controller's past.
    expect(w.observe([lease('a', '2026-01-01T00:00:00.000000Z')], 1_000_000).dead).toEqual(new Set());
    expect(w.observe([lease('a', '2026-01-01T00:00:10.000000Z')], 1_030_000).dead).toEqual(new Set());
    // It stops renewing: dead one lease duration after the last change was seen.
    expect(w.observe([lease('a', '2026-01-01T00:00:10.000000Z')], 1_070_000).dead).toEqual(new Set());
    const later = w.observe([lease('a', '2026-01-01T00:00:10.000000Z')], 1_070_001);
    expect(later.dead).toEqual(new Set(['a']));
    expect(later.nextExpiry).toBeUndefined();
    // It comes back: alive at once.
    expect(w.observe([lease('a', '2026-01-01T00:20:00.000000Z')], 1_080_000).dead).toEqual(new Set());
  });

  it('a renewTime far in the future does not keep a silent agent alive', () => {
    const w = new HeartbeatWatch();
    const future = '2099-01-01T00:00:00.000000Z';
    w.observe([lease('b', future, 10)], 0);
    expect(w.observe([lease('b', future, 10)], 10_001).dead).toEqual(new Set(['b']));
  });

  it('reports the next expiry of the live Leases, counts a Lease without renewTime dead, forgets deleted Leases', () => {
    const w = new HeartbeatWatch();
    const r = w.observe([lease('a', 't1', 40), lease('b', 't1', 10), lease('c', undefined)], 5_000);
    expect(r.dead).toEqual(new Set(['c']));
    expect(r.nextExpiry).toBe(15_000);
    // b deleted and recreated with the same renewTime: a new sighting, timed from now.
    w.observe([lease('a', 't1', 40)], 6_000);
    expect(w.observe([lease('a', 't1', 40), lease('b', 't1', 10)], 20_000).dead).toEqual(new Set());
  });
});
