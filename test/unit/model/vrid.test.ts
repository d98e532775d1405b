import { describe, expect, it } from 'vitest';
import { allocateVrids } from '../../../src/model/vrid.js';

const a = (vip: string, vrid: number, iface = 'eth0') => ({ vip, interface: iface, vrid });

describe('allocateVrids', () => {
  const cases: {
    name: string;
    vips: string[];
    previous?: ReturnType<typeof a>[];
    taken?: number[];
    want: string[];
    exhausted?: string[];
  }[] = [
    { name: 'fresh VIPs take 1, 2, ... in VIP order', vips: ['192.0.2.2', '192.0.2.1'], want: ['192.0.2.1=1', '192.0.2.2=2'] },
    { name: 'recorded ids stay', vips: ['192.0.2.1', '192.0.2.2'], previous: [a('192.0.2.1', 200), a('192.0.2.2', 7)], want: ['192.0.2.1=200', '192.0.2.2=7'] },
    { name: 'a new VIP fills the lowest gap', vips: ['192.0.2.1', '192.0.2.3', '192.0.2.9'], previous: [a('192.0.2.1', 1), a('192.0.2.3', 3)], want: ['192.0.2.1=1', '192.0.2.3=3', '192.0.2.9=2'] },
    { name: 'ids of VIPs that went away are free again', vips: ['192.0.2.5'], previous: [a('192.0.2.1', 1)], want: ['192.0.2.5=1'] },
    { name: 'a record for another interface is not kept', vips: ['192.0.2.1'], previous: [a('192.0.2.1', 9, 'eth1')], want: ['192.0.2.1=1'] },
    { name: 'ids other groups hold are skipped, also when recorded here', vips: ['192.0.2.1', '192.0.2.2'], previous: [a('192.0.2.1', 1)], taken: [1, 2], want: ['192.0.2.1=3', '192.0.2.2=4'] },
    { name: 'a duplicate id in a hand-edited status goes to the lower VIP', vips: ['192.0.2.1', '192.0.2.2'], previous: [a('192.0.2.2', 5), a('192.0.2.1', 5)], want: ['192.0.2.1=5', '192.0.2.2=1'] },
    { name: 'out-of-range records are replaced', vips: ['192.0.2.1', '192.0.2.2'], previous: [a('192.0.2.1', 0), a('192.0.2.2', 256)], want: ['192.0.2.1=1', '192.0.2.2=2'] },
    { name: 'duplicate VIPs count once', vips: ['192.0.2.1', '192.0.2.1'], want: ['192.0.2.1=1'] },
    {
      name: 'exhaustion leaves the last VIPs without an id',
      vips: ['192.0.2.1', '192.0.2.2', '192.0.2.3'],
      taken: Array.from({ length: 254 }, (_, i) => i + 1),
      want: ['192.0.2.1=255'],
      exhausted: ['192.0.2.2', '192.0.2.3'],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const r = allocateVrids({ interface: 'eth0', vips: c.vips, previous: c.previous ?? [], taken: new Set(c.taken ?? []) });
      expect(r.allocations.map((x) => `${x.vip}=${x.vrid}`)).toEqual(c.want);
      expect(r.allocations.every((x) => x.interface === 'eth0')).toBe(true);
      expect(r.exhausted).toEqual(c.exhausted ?? []);
    });
  }

  it('is stable: feeding the result back changes nothing, whatever new VIPs come', () => {
    const first = allocateVrids({ interface: 'eth0', vips: ['192.0.2.1', '192.0.2.2', '192.0.2.3'], previous: [] });
    const again = allocateVrids({ interface: 'eth0', vips: ['192.0.2.3', '192.0.2.0', '192.0.2.2', '192.0.2.1'], previous: first.allocations });
    for (const x of first.allocations) expect(again.allocations).toContainEqual(x);
    expect(again.allocations.find((x) => x.vip === '192.0.2.0')?.vrid).toBe(4);
  });
});
