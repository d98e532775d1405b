// Leader election against an API server that answers late (issue 15, defect 2): the leader's
// connection goes through a proxy that holds every answer back 4 s (requests still land at
// once), the standby's is fast. Each candidate writes a counter object while it believes it
// leads. Seen from the API server (one watch, in resourceVersion order), every write must land
// while its writer holds the Lease: after the standby took it, nothing from the old leader.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { makeClients } from '../../src/kube/client.js';
import { fromKubeconfigFile } from '../../src/kube/config.js';
import { KubeHttp } from '../../src/kube/http.js';
import { LeaderElector } from '../../src/kube/leader.js';
import { collectionPath, resources } from '../../src/kube/resources.js';
import type { Lease } from '../../src/kube/types.js';
import { eventually, kit, sleep, testLogger, unique } from './controller-kit.js';
import { type DelayProxy, startDelayProxy } from './delay-proxy.js';

const k = kit(inject('kubeconfig'), inject('binDir'), 'leader-slow');
const c = k.clients;
const ns = unique('leader-slow');

interface Candidate {
  id: string;
  elector: LeaderElector;
  proxy: DelayProxy;
  http: KubeHttp;
}
const candidates: Candidate[] = [];

async function candidate(id: string, lease: string): Promise<Candidate> {
  const proxy = await startDelayProxy(k.api.server);
  const http = new KubeHttp(proxy.access(fromKubeconfigFile(k.kubeconfig)));
  const leases = makeClients(http).leases;
  const elector = new LeaderElector({
    leases,
    namespace: ns,
    name: lease,
    identity: id,
    leaseDurationMs: 2000,
    renewDeadlineMs: 1500,
    retryPeriodMs: 300,
    // The writer a controller would be: patches while leading, through the leadership's fence.
    onStartedLeading: async (fence) => {
      for (let seq = 0; !fence.signal.aborted; seq++) {
        await leases
          .fenced(fence)
          .mergePatch('counter', ns, { metadata: { annotations: { writer: id, seq: String(seq) } } })
          .catch(() => undefined);
        await sleep(50);
      }
    },
    log: testLogger('leader-slow'),
  });
  const cand = { id, elector, proxy, http };
  candidates.push(cand);
  elector.start();
  return cand;
}

/** Lease events in the namespace, in the order the API server applied them. */
async function recordLeases(signal: AbortSignal): Promise<{ name: string; rv: bigint; holder?: string; writer?: string }[]> {
  const seen: { name: string; rv: bigint; holder?: string; writer?: string }[] = [];
  const { resourceVersion } = await c.leases.list({ namespace: ns });
  void c.http
    .watch<Lease>(
      collectionPath(resources.leases, ns),
      (ev) => {
        const l = ev.object;
        const holder = l.spec?.holderIdentity ?? undefined;
        const writer = l.metadata.annotations?.writer;
        seen.push({ name: l.metadata.name ?? '', rv: BigInt(l.metadata.resourceVersion ?? '0'), ...(holder ? { holder } : {}), ...(writer ? { writer } : {}) });
      },
      { query: { resourceVersion }, idleTimeoutMs: 120_000, signal },
    )
    .catch((err: unknown) => seen.push({ name: `watch failed: ${String(err)}`, rv: 0n }));
  return seen;
}

beforeAll(async () => {
  const made = await k.api.kubectl(['create', 'namespace', ns]);
  expect(made.code, made.stderr).toBe(0);
});

afterAll(async () => {
  for (const x of candidates) x.proxy.delayMs = 0;
  await Promise.all(candidates.map((x) => x.elector.stop()));
  for (const x of candidates) {
    x.http.close();
    await x.proxy.close();
  }
  await k.api.kubectl(['delete', 'namespace', ns, '--wait=false']);
  k.close();
});

describe('leader election with a slow API server', () => {
  it('the old leader stops writing before the standby takes the Lease', async () => {
    await c.leases.create({ metadata: { name: 'counter', namespace: ns }, spec: {} });
    const stopWatch = new AbortController();
    const seen = await recordLeases(stopWatch.signal);

    const a = await candidate('cand-a', 'slow');
    await eventually(() => expect(seen.filter((e) => e.writer === 'cand-a').length).toBeGreaterThan(3));
    const b = await candidate('cand-b', 'slow');
    await sleep(1000);
    expect(b.elector.isLeader).toBe(false);

    // The leader's answers now come 4 s late: longer than the lease, shorter than the client's timeout.
    a.proxy.delayMs = 4000;
    const slowFrom = Date.now();
    let both = 0;
    while (Date.now() - slowFrom < 9000) {
      if (a.elector.isLeader && b.elector.isLeader) both++;
      await sleep(20);
    }
    await eventually(() => expect(seen.filter((e) => e.writer === 'cand-b').length).toBeGreaterThan(3));
    a.proxy.delayMs = 0;
    await sleep(4500); // whatever the proxy still holds reaches the old leader
    stopWatch.abort();

    let holder: string | undefined;
    const overlapping: string[] = [];
    for (const e of seen) {
      expect(e.name).not.toMatch(/^watch failed/);
      if (e.name === 'slow') holder = e.holder;
      else if (e.writer && e.writer !== holder) overlapping.push(`${e.writer} wrote at rv ${e.rv} while ${holder ?? 'nobody'} held the Lease`);
    }
    const takeovers = seen.filter((e) => e.name === 'slow' && e.holder === 'cand-b');
    console.log(`[leader-slow] writes: a ${seen.filter((e) => e.writer === 'cand-a').length}, b ${seen.filter((e) => e.writer === 'cand-b').length}; both believed leading in ${both} samples; late writes: ${overlapping.length}`);
    expect(takeovers.length).toBeGreaterThan(0);
    expect(overlapping).toEqual([]);
    expect(both).toBe(0);
  });
});
