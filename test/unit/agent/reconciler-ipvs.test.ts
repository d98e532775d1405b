// reconcileIpvs on the fakes: intent first, EEXIST/ESRCH repair, the fingerprint cache and verify
// slices. test/kernel/agent/reconciler.test.ts runs the same pass against the real kernel (parity).
import { describe, expect, it } from 'vitest';
import type { CompiledService, NodeDesired } from '../../../src/agent/compile.js';
import { MemoryOwnershipStore } from '../../../src/agent/ownership.js';
import { Reconciler } from '../../../src/agent/reconciler.js';
import { FakeIpvsClient } from '../../../src/ipvs/fake.js';
import { serviceKeyString } from '../../../src/ipvs/keys.js';
import type { IpvsOpResult, ListOptions } from '../../../src/ipvs/api.js';
import type { IpvsDest, IpvsOp, IpvsService, VirtualServiceKey } from '../../../src/ipvs/types.js';
import { FakeLinkClient } from '../../../src/link/fake.js';
import { FakeSysctl } from '../../../src/link/sysctl.js';

/** The fake kernel, plus somebody else's change made between the reconciler's read and its write. */
class RacyIpvs extends FakeIpvsClient {
  reads = 0;
  private pending: IpvsOp[] | undefined;
  race(ops: IpvsOp[]): void {
    this.pending = ops;
  }
  override async apply(ops: readonly IpvsOp[]): Promise<IpvsOpResult[]> {
    const foreign = this.pending;
    this.pending = undefined;
    if (foreign) expect((await super.apply(foreign)).every((r) => r.ok)).toBe(true);
    return super.apply(ops);
  }
  override async getService(key: VirtualServiceKey): Promise<IpvsService | undefined> {
    this.reads++;
    return super.getService(key);
  }
  override async listServicesWithDests(opts?: ListOptions) {
    this.reads++;
    return super.listServicesWithDests(opts);
  }
}

const dest = (addr: string, weight = 1): IpvsDest => ({ addr, port: 80, fwd: 'route', weight, upperThreshold: 0, lowerThreshold: 0 });
const key = (vip: string): VirtualServiceKey => ({ af: 'IPv4', protocol: 'tcp', addr: vip, port: 80 });
const service = (vip: string, dests: IpvsDest[], scheduler = 'wrr'): CompiledService => ({
  key: `demo/${vip}`, generation: 1, group: 'g1', healthy: dests.length, liveWeight: dests.length, quorumUp: true, sorryActive: false, backends: [],
  ipvs: { key: key(vip), scheduler, flags: [], timeout: 0, netmask: 32, dests },
});
const desired = (services: CompiledService[]): NodeDesired => ({
  services, links: [], realServerSide: [], timeouts: undefined, addresses: [], sysctls: {}, syncDaemons: [],
});
const addService = (vip: string, scheduler = 'rr'): IpvsOp => ({ op: 'add-service', service: { key: key(vip), scheduler, flags: [], timeout: 0, netmask: 32 } });
const addDest = (vip: string, d: IpvsDest): IpvsOp => ({ op: 'add-dest', key: key(vip), dest: d });
const INCREMENTAL = { full: false } as const;

function setup() {
  const ipvs = new RacyIpvs();
  const store = new MemoryOwnershipStore();
  const reconciler = new Reconciler({ ipvs, link: new FakeLinkClient(), sysctl: new FakeSysctl(), store });
  /** The kernel table, one line per service: `key scheduler dest:weight,...`. */
  const table = async (): Promise<string[]> =>
    (await ipvs.listServicesWithDests({ stats: false }))
      .map((s) => `${serviceKeyString(s.key)} ${s.scheduler} ${s.dests.map((d) => `${d.addr}:${d.weight}`).sort().join(',')}`)
      .sort();
  return { ipvs, store, reconciler, table };
}

const two = (): NodeDesired => desired([
  service('10.0.0.1', [dest('10.1.0.1'), dest('10.1.0.2', 2)]),
  service('10.0.0.2', [dest('10.1.0.3')]),
]);
const TWO = ['tcp/10.0.0.1:80 wrr 10.1.0.1:1,10.1.0.2:2', 'tcp/10.0.0.2:80 wrr 10.1.0.3:1'];

describe('Reconciler IPVS pass on the fakes', () => {
  it('programs everything on the first pass and records it as ours', async () => {
    const { reconciler, store, table } = setup();
    const res = await reconciler.reconcile(two());
    expect(res).toMatchObject({ ipvsOps: 5, errors: [], foreign: [] });
    expect(await table()).toEqual(TWO);
    expect(store.state.services).toEqual(['tcp/10.0.0.1:80', 'tcp/10.0.0.2:80']);
  });

  it('does nothing on a second pass, full or incremental; the incremental one reads nothing', async () => {
    const { ipvs, reconciler, table } = setup();
    const d = two();
    await reconciler.reconcile(d);
    const opsBefore = ipvs.applied.length;
    expect(await reconciler.reconcile(d)).toMatchObject({ ipvsOps: 0, errors: [] });
    ipvs.reads = 0;
    expect(await reconciler.reconcile(structuredClone(d), INCREMENTAL)).toMatchObject({ ipvsOps: 0, errors: [] });
    expect(ipvs.reads).toBe(0); // same content, new objects: the fingerprint says up to date
    expect(ipvs.applied.length).toBe(opsBefore);
    expect(await table()).toEqual(TWO);
  });

  it('never touches a foreign service or its destinations, desired or not', async () => {
    const { ipvs, reconciler, store, table } = setup();
    await ipvs.apply([addService('10.0.0.9'), addDest('10.0.0.9', dest('10.9.0.1', 7)), addService('10.0.0.2'), addDest('10.0.0.2', dest('10.9.0.2', 3))]);
    const res = await reconciler.reconcile(two());
    expect(res.foreign).toEqual(['tcp/10.0.0.2:80']);
    expect(res.errors.map((e) => e.what)).toEqual(['service tcp/10.0.0.2:80']);
    const theirs = ['tcp/10.0.0.2:80 rr 10.9.0.2:3', 'tcp/10.0.0.9:80 rr 10.9.0.1:7'];
    expect(await table()).toEqual([TWO[0], ...theirs].sort());
    expect(store.state.services).toEqual(['tcp/10.0.0.1:80']);
    // Nothing desired any more: only our own service goes.
    expect((await reconciler.reconcile(desired([]))).errors).toEqual([]);
    expect(await table()).toEqual(theirs);
    expect(store.state.services).toEqual([]);
  });

  it('EEXIST on add (somebody added the service meanwhile): not ours, our destinations taken back out', async () => {
    const { ipvs, reconciler, store, table } = setup();
    ipvs.race([addService('10.0.0.1'), addDest('10.0.0.1', dest('10.9.0.1', 7))]);
    const res = await reconciler.reconcile(two());
    expect(res.errors.map((e) => e.what)).toEqual(['add-service tcp/10.0.0.1:80']);
    expect(res.errors[0]!.message).toMatch(/EEXIST|exists/);
    expect(store.state.services).toEqual(['tcp/10.0.0.2:80']);
    expect(await table()).toEqual(['tcp/10.0.0.1:80 rr 10.9.0.1:7', TWO[1]]);
    // The next pass sees it as foreign and leaves it alone.
    const next = await reconciler.reconcile(two(), INCREMENTAL);
    expect(next).toMatchObject({ ipvsOps: 0, foreign: ['tcp/10.0.0.1:80'] });
    expect(await table()).toEqual(['tcp/10.0.0.1:80 rr 10.9.0.1:7', TWO[1]]);
  });

  it('ESRCH on edit (somebody deleted the service meanwhile): re-added at the next pass', async () => {
    const { ipvs, reconciler, store, table } = setup();
    await reconciler.reconcile(two());
    const changed = desired([service('10.0.0.1', [dest('10.1.0.1', 5), dest('10.1.0.2', 2)], 'rr'), service('10.0.0.2', [dest('10.1.0.3')])]);
    ipvs.race([{ op: 'del-service', key: key('10.0.0.1') }]);
    const res = await reconciler.reconcile(changed, INCREMENTAL);
    expect(res.errors.map((e) => e.what).sort()).toEqual(['edit-dest tcp/10.0.0.1:80 -> 10.1.0.1:80', 'edit-service tcp/10.0.0.1:80']);
    expect(store.state.services).toEqual(['tcp/10.0.0.1:80', 'tcp/10.0.0.2:80']); // still ours to repair
    const next = await reconciler.reconcile(changed, INCREMENTAL);
    expect(next).toMatchObject({ ipvsOps: 3, errors: [] });
    expect(await table()).toEqual(['tcp/10.0.0.1:80 rr 10.1.0.1:5,10.1.0.2:2', TWO[1]]);
  });

  it('ESRCH on delete (somebody deleted it first): the goal is reached, no longer ours', async () => {
    const { ipvs, reconciler, store, table } = setup();
    await reconciler.reconcile(two());
    ipvs.race([{ op: 'del-service', key: key('10.0.0.2') }]);
    const res = await reconciler.reconcile(desired([two().services[0]!]), INCREMENTAL);
    expect(res).toMatchObject({ ipvsOps: 1, errors: [] });
    expect(store.state.services).toEqual(['tcp/10.0.0.1:80']);
    expect(await table()).toEqual([TWO[0]]);
    expect(await reconciler.reconcile(desired([two().services[0]!]), INCREMENTAL)).toMatchObject({ ipvsOps: 0, errors: [] });
  });

  it('trusts the fingerprint cache until a verify slice notices a changed kernel', async () => {
    const { ipvs, reconciler, table } = setup();
    const d = two();
    await reconciler.reconcile(d);
    await ipvs.apply([{ op: 'edit-dest', key: key('10.0.0.1'), dest: dest('10.1.0.2', 9) }]); // a foreign edit
    expect(await reconciler.reconcile(d, INCREMENTAL)).toMatchObject({ ipvsOps: 0 });
    expect(await table()).toContain('tcp/10.0.0.1:80 wrr 10.1.0.1:1,10.1.0.2:9');
    ipvs.reads = 0;
    const res = await reconciler.reconcile(d, { full: false, verify: new Set(['tcp/10.0.0.1:80']) });
    expect(res).toMatchObject({ ipvsOps: 1, errors: [] });
    expect(ipvs.reads).toBe(1); // only the verified service was read back
    expect(await table()).toEqual(TWO);
  });

  it('verify slices walk the whole table over several passes (ipvsadm -C healed)', async () => {
    const { ipvs, reconciler, table } = setup();
    const vips = ['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4', '10.0.0.5'];
    const d = desired(vips.map((v, i) => service(v, [dest(`10.1.0.${i + 1}`)])));
    await reconciler.reconcile(d);
    const all = await table();
    await ipvs.apply([{ op: 'flush' }]);
    const keys = vips.map((v) => `tcp/${v}:80`);
    for (let i = 0; i < keys.length; i += 2) {
      const res = await reconciler.reconcile(d, { full: false, verify: new Set(keys.slice(i, i + 2)) });
      expect(res.errors).toEqual([]);
      expect(await table()).toEqual(all.slice(0, i + 2));
    }
    expect(await table()).toEqual(all);
    expect(await reconciler.reconcile(d, INCREMENTAL)).toMatchObject({ ipvsOps: 0 });
  });
});
