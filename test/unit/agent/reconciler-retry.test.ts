// Terminal and transient IPVS failures on the fakes: a service the kernel refuses for good is not
// tried again on every pass (only when it changes or the kernel does), one that failed otherwise
// backs off on its own, and neither holds back the other services.
import { describe, expect, it } from 'vitest';
import type { CompiledService, NodeDesired } from '../../../src/agent/compile.js';
import { MemoryOwnershipStore } from '../../../src/agent/ownership.js';
import { Reconciler } from '../../../src/agent/reconciler.js';
import { ServiceRetry } from '../../../src/agent/service-retry.js';
import { FakeIpvsClient } from '../../../src/ipvs/fake.js';
import type { IpvsOpResult } from '../../../src/ipvs/api.js';
import type { IpvsDest, IpvsOp } from '../../../src/ipvs/types.js';
import { FakeLinkClient } from '../../../src/link/fake.js';
import { FakeSysctl } from '../../../src/link/sysctl.js';

class CountingIpvs extends FakeIpvsClient {
  readonly tried: string[] = [];
  override async apply(ops: readonly IpvsOp[]): Promise<IpvsOpResult[]> {
    for (const op of ops) if (op.op === 'add-service' || op.op === 'edit-service') this.tried.push(`${op.op} ${'addr' in op.service.key ? op.service.key.addr : ''}`);
    return super.apply(ops);
  }
}

const dest = (addr: string): IpvsDest => ({ addr, port: 80, fwd: 'route', weight: 1, upperThreshold: 0, lowerThreshold: 0 });
const service = (vip: string, scheduler = 'wrr', generation = 1): CompiledService => ({
  key: `demo/${vip}`, generation, group: 'g1', healthy: 1, liveWeight: 1, quorumUp: true, sorryActive: false, backends: [],
  ipvs: { key: { af: 'IPv4', protocol: 'tcp', addr: vip, port: 80 }, scheduler, flags: [], timeout: 0, netmask: 32, dests: [dest('10.1.0.1')] },
});
const desired = (services: CompiledService[]): NodeDesired => ({ services, links: [], realServerSide: [], timeouts: undefined, addresses: [], sysctls: {}, syncDaemons: [] });

function setup() {
  let now = 0;
  const ipvs = new CountingIpvs({ schedulers: ['rr', 'wrr'] });
  const retry = new ServiceRetry({ now: () => now, baseDelayMs: 100, maxDelayMs: 1000 });
  const reconciler = new Reconciler({ ipvs, link: new FakeLinkClient(), sysctl: new FakeSysctl(), store: new MemoryOwnershipStore() }, retry);
  const tries = (vip: string) => ipvs.tried.filter((t) => t.endsWith(` ${vip}`)).length;
  return { ipvs, reconciler, retry, tries, advance: (ms: number) => { now += ms; } };
}

describe('Reconciler retries', () => {
  it('a scheduler the kernel lacks is terminal: reported with a reason every pass, tried once, others unaffected', async () => {
    const { reconciler, tries } = setup();
    const bad = service('10.0.0.9', 'mh');
    let d = desired([bad, service('10.0.0.1')]);
    const first = await reconciler.reconcile(d, { full: false });
    expect(first.errors.find((e) => e.services.includes('demo/10.0.0.9'))).toMatchObject({ reason: 'UnsupportedScheduler' });
    expect(first.errors.find((e) => e.services.includes('demo/10.0.0.9'))?.message).toMatch(/scheduler "mh"/);
    for (let i = 2; i <= 10; i++) {
      // Every pass (another service changes each time) reports the failure again without trying it.
      d = desired([bad, service('10.0.0.1'), service(`10.0.1.${i}`)]);
      const r = await reconciler.reconcile(d, { full: i % 3 === 0 });
      expect(r.errors.map((e) => e.reason)).toContain('UnsupportedScheduler');
      expect(r.errors.every((e) => e.services.includes('demo/10.0.0.9'))).toBe(true);
      expect(tries(`10.0.1.${i}`)).toBe(1);
    }
    expect(tries('10.0.0.9')).toBe(1);
    expect(first.retryInMs).toBeUndefined(); // nothing to come back for
  });

  it('a terminal service is tried again when it changes or the kernel does', async () => {
    const { reconciler, tries } = setup();
    await reconciler.reconcile(desired([service('10.0.0.9', 'mh')]), { full: false });
    await reconciler.reconcile(desired([service('10.0.0.9', 'mh')]), { full: false });
    expect(tries('10.0.0.9')).toBe(1);
    reconciler.kernelChanged();
    await reconciler.reconcile(desired([service('10.0.0.9', 'mh')]), { full: false });
    expect(tries('10.0.0.9')).toBe(2);
    const fixed = await reconciler.reconcile(desired([service('10.0.0.9', 'rr', 2)]), { full: false });
    expect(fixed.errors).toEqual([]);
    expect(tries('10.0.0.9')).toBe(3);
  });

  it('a transient failure backs off per service and resets on success', async () => {
    const { ipvs, reconciler, retry, tries, advance } = setup();
    ipvs.injectError((op) => op.op === 'add-service' && 'addr' in op.service.key && op.service.key.addr === '10.0.0.9', 'ENOMEM', { once: false });
    const d = desired([service('10.0.0.9'), service('10.0.0.1')]);
    const r = await reconciler.reconcile(d, { full: false });
    expect(r.errors[0]?.reason).toBeUndefined();
    expect(r.retryInMs).toBe(100);
    await reconciler.reconcile(d, { full: false }); // not due: left alone, still reported
    expect(tries('10.0.0.9')).toBe(1);
    advance(100);
    expect((await reconciler.reconcile(d, { full: false })).retryInMs).toBe(200);
    expect(tries('10.0.0.9')).toBe(2);
    advance(200);
    await reconciler.reconcile(d, { full: false });
    expect(retry.failuresOf('tcp/10.0.0.9:80')).toBe(3);
    ipvs.clearInjectedErrors();
    advance(400);
    const ok = await reconciler.reconcile(d, { full: false });
    expect(ok.errors).toEqual([]);
    expect(retry.failuresOf('tcp/10.0.0.9:80')).toBe(0);
    expect(tries('10.0.0.1')).toBe(1);
  });

  it('a held service that is in the kernel is neither edited nor deleted on a full pass', async () => {
    const { ipvs, reconciler } = setup();
    await reconciler.reconcile(desired([service('10.0.0.9', 'rr')]), { full: true });
    await reconciler.reconcile(desired([service('10.0.0.9', 'mh', 2)]), { full: false }); // edit-service fails: terminal
    await reconciler.reconcile(desired([service('10.0.0.9', 'mh', 2)]), { full: true });
    expect((await ipvs.listServicesWithDests({ stats: false })).map((s) => s.scheduler)).toEqual(['rr']);
    expect((await reconciler.ownedState()).services).toEqual(['tcp/10.0.0.9:80']);
  });

  it('a held service that is in the kernel is neither edited nor deleted on a pass for a change', async () => {
    const { ipvs, reconciler } = setup();
    await reconciler.reconcile(desired([service('10.0.0.9', 'rr'), service('10.0.0.8')]), { full: true });
    await reconciler.reconcile(desired([service('10.0.0.9', 'mh', 2), service('10.0.0.8')]), { full: false }); // edit-service fails: terminal
    // Another service changes: the held one stays in the kernel as it was, and ours.
    const r = await reconciler.reconcile(desired([service('10.0.0.9', 'mh', 2), service('10.0.0.8', 'rr', 2)]), { full: false });
    expect(r.errors.map((e) => e.services)).toEqual([['demo/10.0.0.9']]);
    expect((await ipvs.listServicesWithDests({ stats: false })).map((s) => s.scheduler).sort()).toEqual(['rr', 'rr']);
    expect((await reconciler.ownedState()).services).toEqual(['tcp/10.0.0.8:80', 'tcp/10.0.0.9:80']);
  });
});
