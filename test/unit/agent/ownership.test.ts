import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FileOwnershipStore } from '../../../src/agent/ownership.js';

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
});
