// The leader elector's deadlines on a fake clock, against an in-memory Lease store that can
// answer late (it applies each request at once, like an API server that stalls on the way back).
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { pino } from 'pino';
import type { Fence } from '../../../src/kube/fence.js';
import { KubeApiError } from '../../../src/kube/http.js';
import { LeaderElector, type LeaderElectorOptions } from '../../../src/kube/leader.js';
import type { Lease } from '../../../src/kube/types.js';

class Store {
  lease: Lease | undefined;
  rv = 0;
  /** What the store applied, with the fake time. */
  readonly applied: string[] = [];
}

/** One candidate's connection to a shared store, with its own answer delay. */
class SlowLeases {
  answerDelayMs = 0;
  constructor(readonly store = new Store()) {}
  get lease(): Lease | undefined {
    return this.store.lease;
  }
  get applied(): string[] {
    return this.store.applied;
  }

  fenced(fence: Fence) {
    const call = <R>(op: string, apply: () => R): Promise<R> => {
      fence.check();
      let result: { value: R } | { err: unknown };
      try {
        result = { value: apply() };
      } catch (err) {
        result = { err };
      }
      if (op !== 'get') this.applied.push(`${Date.now()} ${op} ${this.lease?.spec?.holderIdentity ?? '-'}`);
      if (this.answerDelayMs === 0) return 'err' in result ? Promise.reject(result.err) : Promise.resolve(result.value);
      return new Promise<R>((resolve, reject) => {
        const cut = () => {
          clearTimeout(t);
          reject(fence.signal.reason);
        };
        const t = setTimeout(() => {
          fence.signal.removeEventListener('abort', cut);
          if ('err' in result) reject(result.err);
          else resolve(result.value);
        }, this.answerDelayMs);
        fence.signal.addEventListener('abort', cut, { once: true });
      });
    };
    const store = (obj: Lease): Lease => {
      const st = this.store;
      st.lease = structuredClone({ ...obj, metadata: { ...obj.metadata, resourceVersion: String(++st.rv) } });
      return structuredClone(st.lease);
    };
    return {
      get: () => call('get', () => structuredClone(this.lease)),
      create: (obj: Lease) =>
        call('create', () => {
          if (this.store.lease) throw new KubeApiError(409, 'AlreadyExists', 'exists', undefined);
          return store(obj);
        }),
      replace: (obj: Lease) =>
        call('replace', () => {
          if (obj.metadata.resourceVersion !== this.lease?.metadata.resourceVersion) throw new KubeApiError(409, 'Conflict', 'stale', undefined);
          return store(obj);
        }),
    };
  }
}

const quiet = pino({ level: 'silent' });

function elector(leases: SlowLeases, over: Partial<LeaderElectorOptions> = {}) {
  const seen: string[] = [];
  let fence: Fence | undefined;
  const e = new LeaderElector({
    leases,
    namespace: 'ns',
    name: 'lease',
    identity: 'me',
    leaseDurationMs: 2000,
    renewDeadlineMs: 1500,
    retryPeriodMs: 300,
    now: () => Date.now(),
    onStartedLeading: (f) => {
      fence = f;
      seen.push(`${Date.now()} started`);
      f.signal.addEventListener('abort', () => seen.push(`${Date.now()} fence closed`));
    },
    onStoppedLeading: () => void seen.push(`${Date.now()} stopped`),
    log: quiet,
    ...over,
  });
  return { e, seen, fence: () => fence };
}

describe('LeaderElector deadlines', () => {
  beforeEach(() => vi.useFakeTimers({ now: 0 }));
  afterEach(() => vi.useRealTimers());

  it('stops leading at the renew deadline while a renewal hangs, not when its answer comes', async () => {
    const leases = new SlowLeases();
    const { e, seen, fence } = elector(leases);
    e.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(e.isLeader).toBe(true);
    await vi.advanceTimersByTimeAsync(1000); // renewals at 300, 600, 900
    const lastSent = 900;
    leases.answerDelayMs = 30_000; // the client's default timeout
    await vi.advanceTimersByTimeAsync(lastSent + 1500 - 1 - Date.now());
    expect(e.isLeader).toBe(true);
    await vi.advanceTimersByTimeAsync(1);
    expect(e.isLeader).toBe(false);
    expect(fence()?.signal.aborted).toBe(true);
    expect(seen).toEqual(['0 started', `${lastSent + 1500} fence closed`, `${lastSent + 1500} stopped`]);
    leases.answerDelayMs = 0;
    await e.stop();
  });

  it('counts the deadline from when the renewal was sent: late answers end the term', async () => {
    const leases = new SlowLeases();
    const { e, seen } = elector(leases);
    e.start();
    await vi.advanceTimersByTimeAsync(301); // renewed at 300: the deadline is 1800
    // Every answer 800 ms late: the next round (GET, then PUT) would succeed at 2200, past it.
    leases.answerDelayMs = 800;
    await vi.advanceTimersByTimeAsync(2000);
    expect(e.isLeader).toBe(false);
    expect(seen).toEqual(['0 started', '1800 fence closed', '1800 stopped']);
    leases.answerDelayMs = 0;
    await e.stop();
  });

  it('a round won only after the renew deadline does not make a leader', async () => {
    const leases = new SlowLeases();
    leases.answerDelayMs = 800; // GET + create: 1600 ms > 1500 ms
    const { e, seen } = elector(leases);
    e.start();
    await vi.advanceTimersByTimeAsync(5000);
    expect(e.isLeader).toBe(false);
    expect(seen).toEqual([]);
    await e.stop();
  });

  it('the old leader closes its fence before a standby takes over', async () => {
    const store = new Store();
    const slow = new SlowLeases(store);
    const fast = new SlowLeases(store);
    const a = elector(slow, { identity: 'a' });
    a.e.start();
    await vi.advanceTimersByTimeAsync(0);
    const b = elector(fast, { identity: 'b' });
    b.e.start();
    await vi.advanceTimersByTimeAsync(1000);
    expect(b.e.isLeader).toBe(false);
    slow.answerDelayMs = 30_000; // a's requests still land, their answers hang
    await vi.advanceTimersByTimeAsync(6000);
    expect(a.e.isLeader).toBe(false);
    expect(b.e.isLeader).toBe(true);
    const closed = Number(a.seen.find((x) => x.endsWith('fence closed'))?.split(' ')[0]);
    const takeover = Number(store.applied.find((x) => x.endsWith('replace b'))?.split(' ')[0]);
    // The margin is lease duration - renew deadline (500 ms here).
    expect(takeover - closed).toBeGreaterThanOrEqual(500);
    slow.answerDelayMs = 0;
    await Promise.all([a.e.stop(), b.e.stop()]);
  });

  it('stop() closes the fence and calls onStoppedLeading before releasing the Lease', async () => {
    const leases = new SlowLeases();
    const { e, seen } = elector(leases);
    e.start();
    await vi.advanceTimersByTimeAsync(500);
    const stopping = e.stop();
    await vi.advanceTimersByTimeAsync(0);
    await stopping;
    expect(seen.slice(1)).toEqual(['500 fence closed', '500 stopped']);
    expect(leases.lease?.spec).toMatchObject({ holderIdentity: null, leaseDurationSeconds: 1 });
  });

  it('rejects timings without client-go margins', () => {
    const o = { leases: new SlowLeases(), namespace: 'ns', name: 'l', onStartedLeading: () => undefined, log: quiet };
    expect(() => new LeaderElector({ ...o, leaseDurationMs: 10_000, renewDeadlineMs: 10_000 })).toThrow('lease duration must exceed renew deadline');
    expect(() => new LeaderElector({ ...o, renewDeadlineMs: 2200, retryPeriodMs: 2000 })).toThrow('1.2 x retry period');
  });
});
