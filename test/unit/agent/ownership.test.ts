import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FileOwnershipStore, emptyOwnedState } from '../../../src/agent/ownership.js';
import { parseServiceKey, serviceKeyString } from '../../../src/ipvs/keys.js';

describe('the ownership record', () => {
  let dir = '';
  afterAll(async () => { if (dir) await rm(dir, { recursive: true, force: true }); });

  // Before keys were canonical (#15), the record kept the spec's spelling of a VIP; the kernel
  // reports the canonical one, so an upgraded agent would take its own service for a foreign one.
  it('reads service keys written in any spelling as the kernel spells them', async () => {
    dir = await mkdtemp(join(tmpdir(), 'lvs-owned-'));
    const path = join(dir, 'owned.json');
    await writeFile(path, JSON.stringify({ version: 1, services: ['tcp/[2001:DB8:0::1]:80', 'udp/192.0.2.1:53', 'fwmark/inet6/7', 'junk'], addresses: [], sysctls: {} }));
    const state = await new FileOwnershipStore(path).load();
    expect(state.services).toEqual(['tcp/[2001:db8::1]:80', 'udp/192.0.2.1:53', 'fwmark/inet6/7', 'junk']);
  });

  // Issue #15's fault drill: a record cut short or overwritten used to throw at the first pass,
  // so the agent crash-looped and nothing on the node was repaired any more.
  it.each([
    ['truncated', '{"version":1,"services":["tcp/10.0.0.1:80","tcp/10.0'],
    ['empty', ''],
    ['garbage', '\u0000\u00ff binary garbage'],
    ['the wrong shape', '{"version":1,"services":"tcp/10.0.0.1:80"}'],
    ['sync daemons of the wrong shape', '{"version":1,"services":[],"syncDaemons":{"state":"master"}}'],
    ['VRRP masters of the wrong shape', '{"version":1,"services":[],"vrrpMasters":["g1/eth0/192.0.2.1"]}'],
    ['not an object', 'null'],
  ])('%s: the record is set aside and the agent starts owning nothing', async (_, text) => {
    const d = await mkdtemp(join(tmpdir(), 'lvs-owned-'));
    try {
      const path = join(d, 'owned.json');
      await writeFile(path, text);
      const store = new FileOwnershipStore(path);
      expect(await store.load()).toEqual(emptyOwnedState());
      expect(store.unreadable?.keptAs).toMatch(/owned\.json\.unreadable-/);
      expect(await readFile(store.unreadable!.keptAs, 'utf8')).toBe(text);
      expect(await readdir(d)).not.toContain('owned.json');
      // The next save is a good record again.
      await store.save({ ...emptyOwnedState(), services: ['tcp/10.0.0.1:80'] });
      expect((await new FileOwnershipStore(path).load()).services).toEqual(['tcp/10.0.0.1:80']);
    } finally {
      await rm(d, { recursive: true, force: true });
    }
  });

  it('refuses a record of another version (a newer agent wrote it) rather than dropping it', async () => {
    const d = await mkdtemp(join(tmpdir(), 'lvs-owned-'));
    try {
      const path = join(d, 'owned.json');
      await writeFile(path, JSON.stringify({ version: 2, services: [] }));
      await expect(new FileOwnershipStore(path).load()).rejects.toThrow(/unknown ownership record version 2/);
    } finally {
      await rm(d, { recursive: true, force: true });
    }
  });

  // The program's family is `IPv4`/`IPv6` now; the record keeps the words the previous version
  // wrote (`fwmark/inet6/7`), so the fwmark services an upgraded agent compiles are still the
  // ones its record says it owns, and a downgraded agent still reads a record written by this one.
  it('loads fwmark keys written by the previous version as the services this version compiles', async () => {
    dir ||= await mkdtemp(join(tmpdir(), 'lvs-owned-'));
    const path = join(dir, 'owned-fwmark.json');
    await writeFile(path, JSON.stringify({ version: 1, services: ['fwmark/inet6/7', 'fwmark/inet/1'], addresses: [], sysctls: {} }));
    const state = await new FileOwnershipStore(path).load();
    expect(state.services.map(parseServiceKey)).toEqual([{ af: 'IPv6', fwmark: 7 }, { af: 'IPv4', fwmark: 1 }]);
    expect(state.services).toEqual([serviceKeyString({ af: 'IPv6', fwmark: 7 }), serviceKeyString({ af: 'IPv4', fwmark: 1 })]);
    await new FileOwnershipStore(path).save(state);
    expect(JSON.parse(await readFile(path, 'utf8')).services).toEqual(['fwmark/inet6/7', 'fwmark/inet/1']);
  });
});
