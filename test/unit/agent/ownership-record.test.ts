import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FileOwnershipStore, type OwnedState, type OwnershipStore } from '../../../src/agent/ownership.js';
import { OwnershipRecord } from '../../../src/agent/ownership-record.js';

let dir = '';
afterAll(async () => { if (dir) await rm(dir, { recursive: true, force: true }); });

describe('the shared ownership record', () => {
  it('keeps every writer\'s change when they write at once (reconciler and VRRP instances), one file write at a time', async () => {
    dir = await mkdtemp(join(tmpdir(), 'lvs-record-'));
    const file = new FileOwnershipStore(join(dir, 'owned.json'));
    let writing = 0;
    let overlapped = false;
    const store: OwnershipStore = {
      load: () => file.load(),
      save: async (s: OwnedState) => {
        overlapped ||= writing > 0;
        writing++;
        try { await file.save(s); } finally { writing--; }
      },
    };
    const record = new OwnershipRecord(store);
    await Promise.all([
      record.set({ services: ['tcp/192.0.2.1:80'] }),
      ...['a', 'b', 'c'].map((n) => record.update((s) => ({ vrrpMasters: { ...s.vrrpMasters, [n]: [n] } }))),
      record.set({ syncDaemons: [{ state: 'backup', mcastIfn: 'eth0', syncId: 1 }] }),
    ]);
    expect(overlapped).toBe(false);
    const onDisk = await file.load();
    expect(onDisk.services).toEqual(['tcp/192.0.2.1:80']);
    expect(onDisk.vrrpMasters).toEqual({ a: ['a'], b: ['b'], c: ['c'] });
    expect(onDisk.syncDaemons).toEqual([{ state: 'backup', mcastIfn: 'eth0', syncId: 1 }]);
  });

  it('writes nothing for a change that changes nothing', async () => {
    let saves = 0;
    const record = new OwnershipRecord({ load: async () => ({ version: 1, services: ['x'], addresses: [], sysctls: {}, syncDaemons: [], vrrpMasters: {} }), save: async () => { saves++; } });
    await record.set({ services: ['x'], vrrpMasters: {} });
    expect(saves).toBe(0);
    await record.set({ services: ['x', 'y'] });
    expect(saves).toBe(1);
  });
});
