// Leader election between in-process controllers on a real kube-apiserver: one leader,
// a standby that takes over on release, on expiry of a dead holder's Lease, and a
// leader that steps down when it loses the Lease.
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import type { VirtualService } from '../../src/api/index.js';
import type { Controller } from '../../src/controller/controller.js';
import type { Lease } from '../../src/kube/types.js';
import { microTime } from '../../src/kube/types.js';
import { condition, eventually, installCrds, kit, sleep, unique } from './controller-kit.js';

const k = await kit(inject('kubeconfig'), inject('binDir'), 'leader');
const c = k.clients;
const ns = unique('ctl-leader');

/** Short timings so takeovers happen within a test: Lease 2 s, renew deadline 1.5 s, retry 0.3 s. */
function elect(identity: string, lease: string) {
  return {
    leaderElection: { namespace: ns, name: lease, identity, leaseDurationMs: 2000, renewDeadlineMs: 1500, retryPeriodMs: 300 },
  };
}

const lease = async (name: string) => (await c.leases.get(name, ns)) as Lease;

function createVS(name: string, vip: string): Promise<VirtualService> {
  return c.virtualServices.create({
    metadata: { name, namespace: ns },
    spec: { vip, port: 80, protocol: 'TCP', directorGroup: `none-${ns}`, backends: { realServerSelector: {} } },
  } as unknown as VirtualService);
}

beforeAll(async () => {
  await installCrds(k.api);
  const made = await k.api.kubectl(['create', 'namespace', ns]);
  expect(made.code, made.stderr).toBe(0);
});

afterEach(() => k.stopAll());

afterAll(async () => {
  await k.api.kubectl(['delete', 'virtualservices,leases', '--all', '-n', ns, '--wait=false']);
  await k.api.kubectl(['delete', 'namespace', ns, '--wait=false']);
  k.close();
});

describe('leader election', () => {
  it('elects one leader; only it writes; the standby takes over when the leader stops', async () => {
    const a = await k.startController(elect('ctl-a', 'two'));
    const b = await k.startController(elect('ctl-b', 'two'));
    await eventually(() => expect([a.isLeader, b.isLeader].filter(Boolean)).toHaveLength(1));
    await sleep(1000); // several retry periods: still exactly one
    expect([a.isLeader, b.isLeader].filter(Boolean)).toHaveLength(1);
    const [leader, standby] = (a.isLeader ? [a, b] : [b, a]) as [Controller, Controller];
    const held = await lease('two');
    expect(held.spec?.holderIdentity).toBe(leader.identity);
    expect(held.spec?.leaseDurationSeconds).toBe(2);

    await createVS('first', '203.0.113.1');
    await eventually(async () => expect(condition(await c.virtualServices.get('first', ns), 'Ready')?.reason).toBe('DirectorGroupNotFound'));
    expect(leader.stats.writes).toBeGreaterThan(0);
    expect(standby.stats.writes).toBe(0);
    expect(standby.stats.reconciles).toBe(0);

    const stoppedAt = Date.now();
    await leader.stop(); // releases the Lease
    await eventually(() => expect(standby.isLeader).toBe(true), 5000, 20);
    const takeoverMs = Date.now() - stoppedAt;
    // Released, so no need to wait out the 2 s lease: one retry period (+jitter) suffices.
    expect(takeoverMs).toBeLessThan(1500);
    const taken = await lease('two');
    expect(taken.spec?.holderIdentity).toBe(standby.identity);
    expect(taken.spec?.leaseTransitions).toBe(held.spec?.leaseTransitions === undefined ? 1 : (held.spec.leaseTransitions ?? 0) + 1);

    await createVS('second', '203.0.113.2');
    await eventually(async () => expect(condition(await c.virtualServices.get('second', ns), 'Ready')?.reason).toBe('DirectorGroupNotFound'));
    expect(standby.stats.writes).toBeGreaterThan(0);
    console.log(`[leader] takeover after release: ${takeoverMs} ms`);
  });

  it('waits out the Lease of a holder that died without releasing it', async () => {
    await c.leases.create({
      metadata: { name: 'ghost', namespace: ns },
      spec: { holderIdentity: 'crashed-pod_1', leaseDurationSeconds: 2, acquireTime: microTime(new Date()), renewTime: microTime(new Date()), leaseTransitions: 4 },
    });
    const startedAt = Date.now();
    const ctl = await k.startController(elect('ctl-c', 'ghost'));
    await sleep(1200);
    expect(ctl.isLeader).toBe(false);
    await eventually(() => expect(ctl.isLeader).toBe(true), 6000, 20);
    const waited = Date.now() - startedAt;
    expect(waited).toBeGreaterThanOrEqual(2000);
    expect(waited).toBeLessThan(4000);
    expect((await lease('ghost')).spec).toMatchObject({ holderIdentity: 'ctl-c', leaseTransitions: 5 });
    console.log(`[leader] takeover from a dead holder: ${waited} ms (lease 2 s)`);
  });

  it('a leader that finds the Lease taken steps down and stops writing', async () => {
    const ctl = await k.startController(elect('ctl-d', 'stolen'));
    await eventually(() => expect(ctl.isLeader).toBe(true));
    const cur = await lease('stolen');
    // Someone else (a partitioned-then-healed replica, an operator) holds it now, renewing it.
    const intruder = { ...cur, spec: { ...cur.spec, holderIdentity: 'intruder', renewTime: microTime(new Date()), leaseDurationSeconds: 30 } };
    await c.leases.replace(intruder);
    await eventually(() => expect(ctl.isLeader).toBe(false), 5000, 20);
    const writes = ctl.stats.writes;
    await createVS('third', '203.0.113.3');
    await sleep(800);
    expect(ctl.stats.writes).toBe(writes);
    expect(condition(await c.virtualServices.get('third', ns), 'Ready')).toBeUndefined();
  });
});
