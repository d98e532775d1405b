import { describe, expect, it } from 'vitest';
import { MemoryOwnershipStore, emptyOwnedState } from '../../../src/agent/ownership.js';
import { twoDirectors, vip1, vrrpLab, type LabDirector } from './vrrp-fixtures.js';

// Gateway addresses under VrrpLeadership: an instance on their own interface, the address added
// with its prefix by the master, recorded like a VIP (vrrpMasters), given up on a stop, and kept
// across a restart of the master until the election says otherwise.
const gw = '10.0.1.1';
const gwName = `g1/eth1/${gw}`;
const snap = twoDirectors({ vips: [vip1], gatewayAddresses: [{ address: `${gw}/24`, interface: 'eth1' }] });

/** eth1 with the director's own address on the inner network (the gateway instance's advert source). */
const withInner = (own: string, extra?: (d: Omit<LabDirector, 'leadership'>) => void) => (d: Omit<LabDirector, 'leadership'>): void => {
  d.link.links.push({ index: 3, name: 'eth1', up: true });
  void d.link.addAddress('eth1', own, 24);
  extra?.(d);
};
const inner = async (d: LabDirector): Promise<string[]> => (await d.link.listAddresses('eth1')).map((a) => `${a.address}/${a.prefixLen}`);

describe('VrrpLeadership with gateway addresses', () => {
  it('the master holds the gateway with its prefix beside the VIP and records it; a stop hands both over', async () => {
    const { director, run } = vrrpLab();
    const d1 = director('d1', '192.168.10.1', { before: withInner('10.0.1.11') });
    const d2 = director('d2', '192.168.10.2', { before: withInner('10.0.1.12') });
    for (const d of [d1, d2]) await d.leadership.update(snap);
    await run(500);
    // Equal priorities: the higher address wins on both interfaces.
    expect(await inner(d2)).toEqual(['10.0.1.12/24', `${gw}/24`]);
    expect(await inner(d1)).toEqual(['10.0.1.11/24']);
    expect(await d2.holds()).toBe(true);
    expect(d2.store.state.vrrpMasters).toEqual({ [`g1/eth0/${vip1}`]: [vip1], [gwName]: [gw] });
    expect(d2.leadership.status().find((s) => s.name === gwName)).toMatchObject({ interface: 'eth1', vrid: 1, state: 'master', vips: [`${gw}/24`], primaryAddress: '10.0.1.12' });

    await d2.leadership.stop();
    expect(await inner(d2)).toEqual(['10.0.1.12/24']);
    await run(100);
    expect(await inner(d1)).toEqual(['10.0.1.11/24', `${gw}/24`]);
    expect(d1.store.state.vrrpMasters[gwName]).toEqual([gw]);
  });

  it('after a restart alone keeps the gateway it held as master throughout and becomes master', async () => {
    const { director, run } = vrrpLab();
    const store = new MemoryOwnershipStore({ ...emptyOwnedState(), vrrpMasters: { [gwName]: [gw] } });
    const d1 = director('d1', '192.168.10.1', { store, before: withInner('10.0.1.11', (d) => void d.link.addAddress('eth1', gw, 24)) });
    await d1.leadership.update(snap);
    for (let i = 0; i < 50; i++) {
      await run(10);
      expect(await inner(d1)).toContain(`${gw}/24`);
    }
    expect(d1.leadership.status().find((s) => s.name === gwName)?.state).toBe('master');
  });
});
