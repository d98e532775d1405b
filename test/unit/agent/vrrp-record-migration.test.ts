// An upgrade from an agent that kept VRRP state in vrrp.json: the new agent moves it into the
// ownership record once and loses nothing: the VIP it was master of is kept after the restart,
// and the sync daemon the old agent started is still its own (stopped when no longer wanted).
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { emptyDesired } from '../../../src/agent/compile.js';
import { FileOwnershipStore } from '../../../src/agent/ownership.js';
import { OwnershipRecord } from '../../../src/agent/ownership-record.js';
import { migrateVrrpRecord } from '../../../src/agent/vrrp-record-migration.js';
import { flush, twoDirectors, vip1, vrrpLab } from './vrrp-fixtures.js';

const dirs: string[] = [];
afterAll(async () => { for (const d of dirs) await rm(d, { recursive: true, force: true }); });

/** A state dir as the old agent left it: owned.json with a service, vrrp.json beside it. */
async function oldStateDir(vrrp: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'lvs-migrate-'));
  dirs.push(dir);
  await writeFile(join(dir, 'owned.json'), JSON.stringify({ version: 1, services: ['tcp/192.168.10.100:80'], addresses: [], sysctls: { 'net.ipv4.ip_forward': { original: '0', applied: '1' } } }));
  await writeFile(join(dir, 'vrrp.json'), vrrp);
  return dir;
}

const name1 = `g1/eth0/${vip1}`;
const oldRecord = JSON.stringify({ version: 1, masters: { [name1]: [vip1] }, daemons: [{ state: 'master', mcastIfn: 'eth0', syncId: 3 }, { state: 'backup', mcastIfn: 'eth0', syncId: 3 }] });

describe('moving vrrp.json into the ownership record', () => {
  it('keeps which instances were master and which sync daemons the old agent started, beside what was recorded already', async () => {
    const dir = await oldStateDir(oldRecord);
    const store = new FileOwnershipStore(join(dir, 'owned.json'));
    expect(await migrateVrrpRecord(join(dir, 'vrrp.json'), new OwnershipRecord(store))).toBe(true);
    expect(existsSync(join(dir, 'vrrp.json'))).toBe(false);
    const state = await store.load();
    expect(state).toEqual({
      version: 1, services: ['tcp/192.168.10.100:80'], addresses: [], sysctls: { 'net.ipv4.ip_forward': { original: '0', applied: '1' } },
      vrrpMasters: { [name1]: [vip1] },
      syncDaemons: [{ state: 'master', mcastIfn: 'eth0', syncId: 3 }, { state: 'backup', mcastIfn: 'eth0', syncId: 3 }],
    });
    // Once: the next start finds nothing to move and keeps the record as it is.
    expect(await migrateVrrpRecord(join(dir, 'vrrp.json'), new OwnershipRecord(store))).toBe(false);
    expect(await store.load()).toEqual(state);
  });

  it('after the upgrade the agent keeps the VIP it was master of, and stops the old agent\'s sync daemons as its own', async () => {
    const dir = await oldStateDir(oldRecord);
    const { director, run } = vrrpLab();
    const d1 = director('d1', '192.168.10.1', {
      before: (d) => {
        void d.link.addAddress('eth0', vip1, 32);
        void d.ipvs.startDaemon({ state: 'master', mcastIfn: 'eth0', syncId: 3 });
        void d.ipvs.startDaemon({ state: 'backup', mcastIfn: 'eth0', syncId: 3 });
      },
    });
    // The lab's reconciler and VRRP share one record: point it at the migrated state.
    const store = new FileOwnershipStore(join(dir, 'owned.json'));
    await migrateVrrpRecord(join(dir, 'vrrp.json'), new OwnershipRecord(store));
    d1.store.state = await store.load();

    await d1.leadership.update(twoDirectors({ vips: [vip1] }));
    await flush();
    expect(await d1.holds()).toBe(true); // kept while the election runs
    await run(500);
    expect(await d1.holds()).toBe(true); // alone: master again, never without the VIP
    // An uninstall now stops both daemons: the record says this agent started them.
    await d1.reconciler.reconcile(emptyDesired());
    expect(await d1.ipvs.listDaemons()).toEqual([]);
    await d1.leadership.stop();
  });

  it('an unreadable vrrp.json counts as empty, as the old agent read it, and is removed', async () => {
    const dir = await oldStateDir('{"version": 1, "mas');
    const store = new FileOwnershipStore(join(dir, 'owned.json'));
    const before = await readFile(join(dir, 'owned.json'), 'utf8');
    expect(await migrateVrrpRecord(join(dir, 'vrrp.json'), new OwnershipRecord(store))).toBe(true);
    expect(existsSync(join(dir, 'vrrp.json'))).toBe(false);
    expect(await readFile(join(dir, 'owned.json'), 'utf8')).toBe(before);
  });
});
