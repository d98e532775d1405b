import { afterEach, describe, expect, it } from 'vitest';
import { HealthChecker, type CheckConfig, type HealthChange, type HealthCheckerOptions } from '../../../src/health/checker.js';
import { FakeClock, ScriptedProbe } from './fakes.js';

const cfg = (address: string, extra: Partial<CheckConfig> = {}): CheckConfig => ({
  target: { address, port: 80 },
  spec: { type: 'tcp', timeoutMs: 500 },
  intervalMs: 1000,
  rise: 2,
  fall: 3,
  ...extra,
});

let checker: HealthChecker | undefined;
afterEach(() => checker?.close());

function setup(opts: HealthCheckerOptions = {}) {
  const clock = new FakeClock();
  const probe = new ScriptedProbe(clock);
  checker = new HealthChecker({ clock, probe: probe.probe, jitter: 0, ...opts });
  const changes: Array<HealthChange & { at: number }> = [];
  checker.on('change', (c) => changes.push({ ...c, at: clock.now() }));
  return { clock, probe, checker, changes };
}

describe('HealthChecker on a fake clock', () => {
  it('starts down (alpha) and comes up after `rise` successes, with one event', async () => {
    const { clock, probe, checker, changes } = setup();
    expect(checker.set('a', cfg('10.0.0.1'))).toBe('added');
    expect(checker.get('a')).toMatchObject({ healthy: false, probes: 0 });
    await clock.advance(5000);
    expect(probe.callsFor('10.0.0.1')).toEqual([0, 1000, 2000, 3000, 4000, 5000]);
    expect(changes).toEqual([
      { key: 'a', target: { address: '10.0.0.1', port: 80 }, healthy: true, reason: 'ok', consecutive: 2, at: 1000 },
    ]);
  });

  it('goes down after `fall` consecutive failures, with the failing reason', async () => {
    const { clock, probe, checker, changes } = setup();
    checker.set('a', cfg('10.0.0.1', { initial: 'up' }));
    await clock.advance(1000);
    expect(changes).toEqual([]); // already up: successes are not transitions
    probe.set('10.0.0.1', 'down');
    await clock.advance(5000);
    expect(changes).toEqual([
      expect.objectContaining({ healthy: false, reason: 'connect ECONNREFUSED', consecutive: 3, at: 4000 }),
    ]);
    // Probes at 0 and 1000 passed; 2000..6000 failed.
    expect(checker.get('a')).toMatchObject({ healthy: false, consecutiveFail: 5, failures: 5, probes: 7 });
  });

  it('does not flap on alternating results below the thresholds', async () => {
    const { clock, probe, checker, changes } = setup();
    checker.set('a', cfg('10.0.0.1', { initial: 'up', rise: 2, fall: 2 }));
    await clock.advance(500); // off the probe grid, so each step below holds exactly one probe
    for (let i = 0; i < 10; i++) {
      probe.set('10.0.0.1', i % 2 ? 'up' : 'down');
      await clock.advance(1000);
    }
    expect(probe.callsFor('10.0.0.1').length).toBe(11);
    expect(checker.get('a')).toMatchObject({ failures: 5, healthy: true });
    expect(changes).toEqual([]);
  });

  it('enforces the probe timeout through the signal, on the injected clock', async () => {
    const { clock, probe, checker, changes } = setup();
    probe.set('10.0.0.1', 'hang');
    checker.set('a', cfg('10.0.0.1', { initial: 'up', fall: 1, spec: { type: 'tcp', timeoutMs: 300 } }));
    await clock.advance(299);
    expect(checker.stats().inFlight).toBe(1);
    await clock.advance(1);
    expect(changes).toEqual([expect.objectContaining({ healthy: false, reason: 'timeout after 300ms', at: 300 })]);
    expect(checker.stats().inFlight).toBe(0);
    // The next probe starts one interval after the previous one ended.
    await clock.advance(1000);
    expect(probe.callsFor('10.0.0.1')).toEqual([0, 1300]);
  });

  it('never has more than maxInFlight probes running; the rest queue and all get their turn', async () => {
    const { clock, probe, checker } = setup({ maxInFlight: 3 });
    for (let i = 0; i < 10; i++) {
      probe.set(`10.0.0.${i}`, 'hold');
      checker.set(`t${i}`, cfg(`10.0.0.${i}`, { spec: { type: 'tcp', timeoutMs: 60_000 } }));
    }
    await clock.advance(0);
    expect(checker.stats()).toMatchObject({ inFlight: 3, queued: 7, maxInFlight: 3 });
    // Release one at a time: each freed slot goes to the oldest waiter.
    for (let round = 0; round < 10; round++) {
      expect(probe.inFlight).toBeLessThanOrEqual(3);
      const first = probe.calls[round]!.address;
      probe.release(first);
      await clock.advance(0);
    }
    expect(probe.maxInFlight).toBe(3);
    expect(probe.calls.slice(0, 10).map((c) => c.address)).toEqual([...Array(10).keys()].map((i) => `10.0.0.${i}`));
    expect(checker.stats()).toMatchObject({ inFlight: 0, queued: 0, probesTotal: 10 });
  });

  it('removing a target cancels its queued or running probe and frees the slot', async () => {
    const { clock, probe, checker, changes } = setup({ maxInFlight: 1 });
    probe.set('10.0.0.1', 'hold');
    probe.set('10.0.0.2', 'hold');
    checker.set('running', cfg('10.0.0.1', { rise: 1 }));
    checker.set('queued', cfg('10.0.0.2', { rise: 1 }));
    await clock.advance(0);
    expect(checker.stats()).toMatchObject({ inFlight: 1, queued: 1 });
    expect(checker.remove('queued')).toBe(true);
    expect(checker.stats().queued).toBe(0);
    expect(checker.remove('running')).toBe(true);
    await clock.advance(0);
    expect(checker.stats()).toMatchObject({ inFlight: 0, queued: 0, targets: 0, probesTotal: 0 });
    await clock.advance(10_000);
    expect(probe.callsFor('10.0.0.2')).toEqual([]);
    expect(changes).toEqual([]);
    expect(clock.pendingTimers).toBe(0);
    expect(checker.remove('running')).toBe(false);
  });

  it('update: same config is a no-op, new thresholds keep the counters, a new address restarts them', async () => {
    const { clock, probe, checker, changes } = setup();
    checker.set('a', cfg('10.0.0.1', { rise: 3 }));
    await clock.advance(1000); // two successes, rise 3: still down
    expect(checker.get('a')).toMatchObject({ healthy: false, consecutiveOk: 2 });
    expect(checker.set('a', cfg('10.0.0.1', { rise: 3 }))).toBe('unchanged');
    expect(checker.set('a', cfg('10.0.0.1', { rise: 2 }))).toBe('updated');
    await clock.advance(1000);
    expect(changes.map((c) => [c.healthy, c.consecutive])).toEqual([[true, 3]]);

    probe.set('10.0.0.9', 'hold');
    expect(checker.set('a', cfg('10.0.0.9'))).toBe('updated');
    expect(checker.get('a')).toMatchObject({ healthy: true, consecutiveOk: 0, consecutiveFail: 0 });
    await clock.advance(0);
    expect(probe.callsFor('10.0.0.9')).toEqual([2000]);
    // The probe of the old address in flight at the switch would be ignored; so is a running one replaced now.
    checker.set('a', cfg('10.0.0.1'));
    probe.release('10.0.0.9');
    await clock.advance(0);
    expect(checker.get('a')).toMatchObject({ target: { address: '10.0.0.1' }, consecutiveOk: 1, failures: 0 });
  });

  it('sync keeps exactly the given keys', async () => {
    const { clock, checker } = setup();
    checker.sync([
      ['a', cfg('10.0.0.1')],
      ['b', cfg('10.0.0.2')],
    ]);
    await clock.advance(0);
    checker.sync([['b', cfg('10.0.0.2')], ['c', cfg('10.0.0.3')]]);
    expect(checker.snapshot().map((s) => s.key).sort()).toEqual(['b', 'c']);
  });

  it('spreads probes with jitter from the injected random source', async () => {
    const randoms = [0.5, 0, 0.999];
    const { clock, probe, checker } = setup({ jitter: 0.2, random: () => randoms.shift() ?? 0.5 });
    checker.set('a', cfg('10.0.0.1'));
    await clock.advance(99);
    expect(probe.calls).toEqual([]);
    await clock.advance(3000);
    // first at 0.5 * 1000 * 0.2 = 100; then 1000 * (1 - 0.2) = 800; then ~1000 * (1 + 0.2); then 1000.
    const at = probe.callsFor('10.0.0.1');
    expect(at.slice(0, 2)).toEqual([100, 900]);
    expect(at[2]).toBeCloseTo(2099.6, 1);
  });

  it('turns a probe that throws or rejects into a failure', async () => {
    const clock = new FakeClock();
    checker = new HealthChecker({
      clock,
      jitter: 0,
      probe: (target) => {
        if (target.address === 'sync') throw new Error('bad spec');
        return Promise.reject(Object.assign(new Error('x'), { code: 'EWHAT', syscall: 'connect' }));
      },
    });
    checker.set('s', cfg('sync', { initial: 'up', fall: 1 }));
    checker.set('r', cfg('rejects', { initial: 'up', fall: 1 }));
    await clock.advance(0);
    expect(checker.get('s')?.lastResult).toMatchObject({ ok: false, reason: 'bad spec' });
    expect(checker.get('r')?.lastResult).toMatchObject({ ok: false, reason: 'connect EWHAT' });
    expect(checker.stats()).toMatchObject({ inFlight: 0, failuresTotal: 2, healthy: 0 });
  });

  it('survives a listener that throws', async () => {
    const { clock, probe, checker } = setup();
    checker.on('change', () => {
      throw new Error('listener bug');
    });
    checker.set('a', cfg('10.0.0.1', { rise: 1 }));
    await clock.advance(2000);
    expect(checker.get('a')?.healthy).toBe(true);
    expect(probe.callsFor('10.0.0.1')).toEqual([0, 1000, 2000]);
  });

  it('keeps stats and a snapshot for metrics', async () => {
    const { clock, probe, checker } = setup();
    probe.set('10.0.0.2', 'down');
    checker.set('a', cfg('10.0.0.1'));
    checker.set('b', cfg('10.0.0.2', { spec: { type: 'udp', timeoutMs: 500 } }));
    await clock.advance(1000);
    const stats = checker.stats();
    expect(stats).toMatchObject({ targets: 2, healthy: 1, probesTotal: 4, failuresTotal: 2 });
    expect(stats.latency.tcp?.count).toBe(2);
    expect(stats.latency.udp?.count).toBe(2);
    expect(stats.latency.tcp?.sum).toBe(6);
    // The same probes in the prom-client histogram, in seconds (3 ms: in the 5 ms bucket, not the 2.5 ms one).
    const h = await checker.latencyHistogram.get();
    const value = (name: string, labels: object) => h.values.find((v) => v.metricName === name && Object.entries(labels).every(([k, x]) => (v.labels as Record<string, unknown>)[k] === x))?.value;
    expect(h.type).toBe('histogram');
    expect(value('lvs_agent_healthcheck_latency_seconds_count', { type: 'tcp' })).toBe(2);
    expect(value('lvs_agent_healthcheck_latency_seconds_sum', { type: 'tcp' })).toBeCloseTo(0.006);
    expect(value('lvs_agent_healthcheck_latency_seconds_bucket', { type: 'tcp', le: 0.0025 })).toBe(0);
    expect(value('lvs_agent_healthcheck_latency_seconds_bucket', { type: 'tcp', le: 0.005 })).toBe(2);
    expect(value('lvs_agent_healthcheck_latency_seconds_bucket', { type: 'udp', le: '+Inf' })).toBe(2);
    const a = checker.snapshot().find((s) => s.key === 'a');
    expect(a).toMatchObject({
      type: 'tcp',
      healthy: true,
      lastChangeAt: 1000,
      lastResult: { ok: true, latencyMs: 3, at: 1000 },
      latencyEwmaMs: 3,
    });
  });

  it('close() aborts running probes and stops all timers', async () => {
    const { clock, probe, checker } = setup();
    probe.set('10.0.0.1', 'hang');
    checker.set('a', cfg('10.0.0.1'));
    checker.set('b', cfg('10.0.0.2'));
    await clock.advance(0);
    expect(probe.inFlight).toBe(1);
    checker.close();
    await clock.advance(0);
    expect(probe.inFlight).toBe(0);
    await clock.advance(10_000);
    expect(probe.calls.length).toBe(2);
    expect(() => checker.set('c', cfg('10.0.0.3'))).toThrow(/closed/);
  });

  it('rejects nonsense configuration', () => {
    const { checker } = setup();
    expect(() => checker.set('x', cfg('10.0.0.1', { intervalMs: 0 }))).toThrow(/intervalMs/);
    expect(() => checker.set('x', cfg('10.0.0.1', { rise: 0 }))).toThrow(/rise/);
    expect(() => checker.set('x', cfg('10.0.0.1', { spec: { type: 'tcp', timeoutMs: -1 } }))).toThrow(/timeoutMs/);
    expect(checker.has('x')).toBe(false);
  });

  it('retries a failing healthy target after retryDelayMs until fall, then goes back to the interval (keepalived delay_before_retry)', async () => {
    const { clock, probe, checker, changes } = setup();
    checker.set('a', cfg('10.0.0.1', { initial: 'up', intervalMs: 10_000, retryDelayMs: 1000, fall: 3 }));
    await clock.advance(0); // first probe at 0 passes
    probe.set('10.0.0.1', 'down');
    await clock.advance(40_000);
    // 10 s: first failure; retries 1 s apart until the third failure takes it down; then every 10 s.
    expect(probe.callsFor('10.0.0.1')).toEqual([0, 10_000, 11_000, 12_000, 22_000, 32_000]);
    expect(changes).toEqual([expect.objectContaining({ healthy: false, consecutive: 3, at: 12_000 })]);
    // A success between failures resets the count, and the interval applies again.
    probe.set('10.0.0.1', 'up');
    await clock.advance(10_000); // 42 s: up again (rise 2 needs 52 s)
    await clock.advance(10_000);
    expect(checker.get('a')).toMatchObject({ healthy: true });
    probe.set('10.0.0.1', 'down');
    await clock.advance(2_000); // 62 s: one failure
    probe.set('10.0.0.1', 'up');
    await clock.advance(1_000); // 63 s: the retry passes
    await clock.advance(10_000);
    expect(probe.callsFor('10.0.0.1').slice(6)).toEqual([42_000, 52_000, 62_000, 63_000, 73_000]);
  });

  it('without retryDelayMs a failed attempt is retried at the interval', async () => {
    const { clock, probe, checker } = setup();
    checker.set('a', cfg('10.0.0.1', { initial: 'up', intervalMs: 5000 }));
    probe.set('10.0.0.1', 'down');
    await clock.advance(15_000);
    expect(probe.callsFor('10.0.0.1')).toEqual([0, 5000, 10_000, 15_000]);
  });

  it('starts the first probe after random() * warmupMs (keepalived warmup)', async () => {
    const { clock, probe, checker } = setup({ random: () => 0.5 });
    checker.set('a', cfg('10.0.0.1', { intervalMs: 1000, warmupMs: 8000 }));
    checker.set('b', cfg('10.0.0.2', { intervalMs: 1000 })); // default: within interval * jitter (0 here)
    checker.set('c', cfg('10.0.0.3', { intervalMs: 1000, warmupMs: 0 }));
    await clock.advance(5000);
    expect(probe.callsFor('10.0.0.1')).toEqual([4000, 5000]);
    expect(probe.callsFor('10.0.0.2')[0]).toBe(0);
    expect(probe.callsFor('10.0.0.3')[0]).toBe(0);
  });

  it('applies a changed retry delay without restarting the counters', async () => {
    const { clock, probe, checker } = setup();
    checker.set('a', cfg('10.0.0.1', { initial: 'up', intervalMs: 10_000, fall: 5 }));
    probe.set('10.0.0.1', 'down');
    await clock.advance(0);
    expect(checker.set('a', cfg('10.0.0.1', { initial: 'up', intervalMs: 10_000, fall: 5, retryDelayMs: 500 }))).toBe('updated');
    expect(checker.get('a')).toMatchObject({ consecutiveFail: 1 });
    await clock.advance(10_000); // the pending 10 s timer runs, then retries every 500 ms
    await clock.advance(1000);
    expect(probe.callsFor('10.0.0.1')).toEqual([0, 10_000, 10_500, 11_000]);
  });
});
