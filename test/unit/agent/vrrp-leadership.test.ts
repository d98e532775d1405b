import { describe, expect, it } from 'vitest';
import { MemoryOwnershipStore, emptyOwnedState } from '../../../src/agent/ownership.js';
import { flush, twoDirectors, vip1, vip2, vrrpLab } from './vrrp-fixtures.js';

const name1 = `g1/eth0/${vip1}`;
/** A record of a run that was master of vip1's instance when it ended. */
const wasMaster = (): MemoryOwnershipStore => new MemoryOwnershipStore({ ...emptyOwnedState(), vrrpMasters: { [name1]: [vip1] } });

describe('VrrpLeadership', () => {
  it('elects one holder of the VIP, records it as master, says who is master of the group, and leaves VRRP VIPs out of compile', async () => {
    const { director, run } = vrrpLab();
    const snap = twoDirectors({ vips: [vip1] });
    const d1 = director('d1', '192.168.10.1');
    const d2 = director('d2', '192.168.10.2');
    for (const d of [d1, d2]) await d.leadership.update(snap);
    expect(d1.leadership.leadership('g1', vip1, 'eth0')).toBe(false);
    await run(500);
    // Equal priorities: the higher address wins.
    expect([await d1.holds(), await d2.holds()]).toEqual([false, true]);
    expect(d2.leadership.stateOf('g1', [vip1])).toBe('Master');
    expect(d1.leadership.stateOf('g1', [vip1])).toBe('Backup');
    expect([d1.leadership.isMaster('g1'), d2.leadership.isMaster('g1'), d2.leadership.isMaster('other')]).toEqual([false, true, false]);
    expect(d2.store.state.vrrpMasters).toEqual({ [name1]: [vip1] });
    expect(d1.store.state.vrrpMasters).toEqual({});

    // Graceful stop of the master: priority 0, VIP handed over at once.
    await d2.leadership.stop();
    expect(await d2.holds()).toBe(false);
    expect(d2.leadership.isMaster('g1')).toBe(false);
    await run(100);
    expect(await d1.holds()).toBe(true);
    expect(d1.leadership.stateOf('g1', [vip1])).toBe('Master');
    expect(d1.leadership.isMaster('g1')).toBe(true);

    // The VIP leaves the model: the instance stops, gives the VIP up and leaves the record.
    await d1.leadership.update(twoDirectors({ vips: [vip2] }));
    expect(await d1.holds()).toBe(false);
    expect(d1.leadership.status().map((s) => s.name)).toEqual([`g1/eth0/${vip2}`]);
    expect(d1.store.state.vrrpMasters).toEqual({});
    expect(d1.leadership.isMaster('g1')).toBe(false);
  });

  it('asks for a pass on every transition and takeover', async () => {
    const { director, run } = vrrpLab();
    const d1 = director('d1', '192.168.10.1');
    let asked = 0;
    d1.leadership.onChange(() => asked++);
    await d1.leadership.update(twoDirectors({ vips: [vip1] }));
    expect(asked).toBe(1); // -> Backup
    await run(500);
    expect(d1.leadership.isMaster('g1')).toBe(true);
    expect(asked).toBe(3); // -> Master, then its takeover done
  });

  it('VRRPv2 PASS: reads the password from the Secret; peers with the same one elect one master, a wrong one is not heard', async () => {
    const snap = twoDirectors({ vips: [vip1], vrrp: { version: 2, advertIntervalMs: 1000, authSecretRef: { name: 'vrrp', namespace: 'lvs-system', key: 'password' } } });
    const reads: string[] = [];
    const secret = (value: string) => ({ readSecret: async (ns: string, name: string, key: string) => { reads.push(`${ns}/${name}/${key}`); return value; } });
    for (const [p1, p2, holders] of [['1111', '1111', 1], ['1111', '2222', 2]] as const) {
      const { director, run } = vrrpLab();
      const d1 = director('d1', '192.168.10.1', { extra: secret(p1) });
      const d2 = director('d2', '192.168.10.2', { extra: secret(p2) });
      for (const d of [d1, d2]) await d.leadership.update(snap);
      await run(5000);
      expect([await d1.holds(), await d2.holds()].filter(Boolean)).toHaveLength(holders);
      for (const d of [d1, d2]) await d.leadership.stop();
    }
    expect(reads).toEqual(Array(4).fill('lvs-system/vrrp/password'));
  });

  it('takes a model it has seen already as no change (no Secret read again on every pass)', async () => {
    const snap = twoDirectors({ vips: [vip1], vrrp: { version: 2, advertIntervalMs: 1000, authSecretRef: { name: 'vrrp', namespace: 'lvs-system', key: 'password' } } });
    let reads = 0;
    const { director } = vrrpLab();
    const d1 = director('d1', '192.168.10.1', { extra: { readSecret: async () => { reads++; return 'pw'; } } });
    const { resolve } = await import('../../../src/model/index.js');
    const model = resolve(snap);
    await d1.leadership.update(snap, model);
    await d1.leadership.update(snap, model);
    expect(reads).toBe(1);
    await d1.leadership.update(snap, resolve(snap));
    expect(reads).toBe(2);
    await d1.leadership.stop();
  });

  it('a sole director holds its VIPs through the reconciler, without VRRP', async () => {
    const { director } = vrrpLab();
    const d1 = director('d1', '192.168.10.1');
    await d1.leadership.update(twoDirectors({ directors: 1 }));
    expect(d1.leadership.leadership('g1', vip1, 'eth0')).toBe(true);
    expect(d1.leadership.stateOf('g1', [vip1])).toBeUndefined();
    expect(d1.leadership.status()).toEqual([]);
  });

  it('after a restart keeps a VIP it held as master until a master it accepts is heard', async () => {
    const { director, run } = vrrpLab();
    const snap = twoDirectors({ vips: [vip1] });
    // d2 (higher address) is master already; d1 crashed while master and restarts holding the VIP.
    const d2 = director('d2', '192.168.10.2');
    await d2.leadership.update(snap);
    await run(500);
    expect(await d2.holds()).toBe(true);
    const d1 = director('d1', '192.168.10.1', { store: wasMaster(), before: (d) => void d.link.addAddress('eth0', vip1, 32) });
    await d1.leadership.update(snap);
    await flush();
    expect(await d1.holds()).toBe(true); // not removed at start
    expect(d1.leadership.isMaster('g1')).toBe(false); // kept, not master: no master sync daemon
    await run(200);
    expect(await d1.holds()).toBe(false); // d2's adverts won
    expect(d1.store.state.vrrpMasters).toEqual({});
  });

  it('after a restart alone keeps the VIP throughout and becomes master', async () => {
    const { director, run } = vrrpLab();
    const d1 = director('d1', '192.168.10.1', { store: wasMaster(), before: (d) => void d.link.addAddress('eth0', vip1, 32) });
    await d1.leadership.update(twoDirectors({ vips: [vip1] }));
    for (let i = 0; i < 50; i++) {
      await run(10);
      expect(await d1.holds()).toBe(true);
    }
    expect(d1.leadership.stateOf('g1', [vip1])).toBe('Master');
    expect(d1.store.state.vrrpMasters).toEqual({ [name1]: [vip1] });
  });
});
