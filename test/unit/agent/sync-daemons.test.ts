// The IPVS sync daemons as part of the desired state: the pure diff's rules, and the reconciler
// applying them with the ownership record (what this agent started is its own, nothing else is).
import { describe, expect, it } from 'vitest';
import { emptyDesired, type NodeDesired } from '../../../src/agent/compile.js';
import { MemoryOwnershipStore, emptyOwnedState } from '../../../src/agent/ownership.js';
import { Reconciler } from '../../../src/agent/reconciler.js';
import { diffSyncDaemons, type OwnedDaemon } from '../../../src/agent/sync-daemon-diff.js';
import { FakeIpvsClient } from '../../../src/ipvs/fake.js';
import type { SyncDaemon } from '../../../src/ipvs/types.js';
import { FakeLinkClient, FakeSysctl } from '../../../src/link/index.js';

const backup: OwnedDaemon = { state: 'backup', mcastIfn: 'eth0', syncId: 3 };
const master: OwnedDaemon = { state: 'master', mcastIfn: 'eth0', syncId: 3 };
const other = (d: OwnedDaemon): OwnedDaemon => ({ ...d, syncId: 99 });

describe('diffSyncDaemons', () => {
  const cases: { name: string; want: SyncDaemon[]; have: SyncDaemon[]; ours: OwnedDaemon[]; ops: unknown[]; owned: OwnedDaemon[] }[] = [
    { name: 'starts what is wanted, master first', want: [master, backup], have: [], ours: [], ops: [{ op: 'start', daemon: master }, { op: 'start', daemon: backup }], owned: [master, backup] },
    { name: 'keeps a running daemon with the wanted settings, and counts it as ours', want: [backup], have: [backup], ours: [], ops: [], owned: [backup] },
    { name: 'compares interface and sync id only (the kernel reports its defaults too)', want: [backup], have: [{ ...backup, syncMaxLen: 1472, mcastPort: 8848 }], ours: [backup], ops: [], owned: [backup] },
    { name: 'replaces a daemon with other settings when that state is wanted', want: [backup], have: [other(backup)], ours: [], ops: [{ op: 'stop', state: 'backup' }, { op: 'start', daemon: backup }], owned: [backup] },
    { name: 'stops its own daemon that is no longer wanted (master -> backup)', want: [backup], have: [master, backup], ours: [master, backup], ops: [{ op: 'stop', state: 'master' }], owned: [backup] },
    { name: 'leaves a daemon someone else started alone', want: [backup], have: [other(master), backup], ours: [backup], ops: [], owned: [backup] },
    { name: 'nothing wanted: stops only its own', want: [], have: [master, other(backup)], ours: [master], ops: [{ op: 'stop', state: 'master' }], owned: [] },
    { name: 'forgets its own daemon that somebody stopped', want: [], have: [], ours: [master, backup], ops: [], owned: [] },
  ];
  for (const c of cases) {
    it(c.name, () => {
      expect(diffSyncDaemons(c.want, c.have, c.ours)).toEqual({ ops: c.ops, owned: c.owned });
    });
  }
});

describe('Reconciler: sync daemons', () => {
  const setup = (ipvs = new FakeIpvsClient(), store = new MemoryOwnershipStore()) => ({
    ipvs, store, reconciler: new Reconciler({ ipvs, link: new FakeLinkClient(['lo', 'eth0']), sysctl: new FakeSysctl(), store }),
  });
  const desired = (syncDaemons: SyncDaemon[]): NodeDesired => ({ ...emptyDesired(), syncDaemons });

  it('runs the desired daemons, records them, and switches master off again, leaving the backup', async () => {
    const { ipvs, store, reconciler } = setup();
    const r = await reconciler.reconcile(desired([master, backup]));
    expect(r).toMatchObject({ errors: [], ipvsOps: 2 });
    expect(await ipvs.listDaemons()).toEqual([expect.objectContaining(master), expect.objectContaining(backup)]);
    expect(store.state.syncDaemons).toEqual([master, backup]);

    expect((await reconciler.reconcile(desired([backup]), { full: false })).ipvsOps).toBe(1);
    expect(await ipvs.listDaemons()).toEqual([expect.objectContaining(backup)]);
    expect(store.state.syncDaemons).toEqual([backup]);
    // Unchanged: no kernel change.
    const calls = ipvs.applied.length;
    expect((await reconciler.reconcile(desired([backup]), { full: false })).ipvsOps).toBe(0);
    expect(ipvs.applied.length).toBe(calls);
  });

  it('an uninstall (nothing desired) stops its own daemons and leaves someone else\'s', async () => {
    const ipvs = new FakeIpvsClient();
    await ipvs.startDaemon(other(master)); // keepalived's, say
    const { store, reconciler } = setup(ipvs);
    await reconciler.reconcile(desired([backup]));
    expect(store.state.syncDaemons).toEqual([backup]);
    await reconciler.reconcile(emptyDesired());
    expect(await ipvs.listDaemons()).toEqual([expect.objectContaining(other(master))]);
    expect(store.state.syncDaemons).toEqual([]);
  });

  it('a daemon that cannot start is reported and not recorded; the next pass tries again', async () => {
    const ipvs = new FakeIpvsClient({ interfaces: ['eth1'] });
    const { store, reconciler } = setup(ipvs, new MemoryOwnershipStore({ ...emptyOwnedState() }));
    const r = await reconciler.reconcile(desired([backup]));
    expect(r.errors).toEqual([expect.objectContaining({ what: 'start backup sync daemon on eth0 (sync id 3)', code: 'ENODEV' })]);
    expect(store.state.syncDaemons).toEqual([]);
    const again = await reconciler.reconcile(desired([backup]), { full: false });
    expect(again.errors).toHaveLength(1);
  });
});
