import { describe, expect, it } from 'vitest';
import { diffAddresses, diffSysctls } from '../../../src/agent/link-diff.js';
import type { InterfaceAddress } from '../../../src/link/types.js';

const observed = (ifname: string, address: string, prefixLen: number): InterfaceAddress =>
  ({ ifname, ifindex: 2, family: address.includes(':') ? 'IPv6' : 'IPv4', address, prefixLen });

describe('diffAddresses', () => {
  it('adds missing VIPs and owns them; removes owned ones no longer wanted', () => {
    const d = diffAddresses(
      [{ ifname: 'eth0', address: '10.0.0.100', prefixLen: 32 }],
      [observed('eth0', '10.0.0.5', 24), observed('eth0', '10.0.0.101', 32)],
      [{ ifname: 'eth0', address: '10.0.0.101', prefixLen: 32 }]);
    expect(d.add).toEqual([{ ifname: 'eth0', address: '10.0.0.100', prefixLen: 32 }]);
    expect(d.remove).toEqual([{ ifname: 'eth0', address: '10.0.0.101', prefixLen: 32 }]);
    expect(d.owned).toEqual([{ ifname: 'eth0', address: '10.0.0.100', prefixLen: 32 }]);
  });

  it('uses but never claims an address somebody else configured', () => {
    const d = diffAddresses([{ ifname: 'lo', address: '10.0.0.100', prefixLen: 32 }], [observed('lo', '10.0.0.100', 32)], []);
    expect(d).toEqual({ add: [], remove: [], owned: [] });
  });

  it('re-adds an owned VIP that someone deleted (drift)', () => {
    const vip = { ifname: 'eth0', address: '10.0.0.100', prefixLen: 32 };
    expect(diffAddresses([vip], [], [vip])).toEqual({ add: [vip], remove: [], owned: [vip] });
  });
});

describe('diffSysctls', () => {
  it('records the original value the first time it changes a key', () => {
    const d = diffSysctls({ 'net.ipv4.ip_forward': '1' }, { 'net.ipv4.ip_forward': '0' }, {});
    expect(d.set).toEqual([{ key: 'net.ipv4.ip_forward', value: '1' }]);
    expect(d.owned).toEqual({ 'net.ipv4.ip_forward': { original: '0', applied: '1' } });
  });

  it('does not own a key that already had the wanted value', () => {
    expect(diffSysctls({ 'k': '1' }, { k: '1' }, {})).toEqual({ set: [], restore: [], owned: {} });
  });

  it('restores what it found when the key is no longer wanted, unless someone changed it since', () => {
    const owned = { a: { original: '0', applied: '1' }, b: { original: '0', applied: '1' } };
    const d = diffSysctls({}, { a: '1', b: '2' }, owned);
    expect(d.restore).toEqual([{ key: 'a', value: '0' }]);
    expect(d.owned).toEqual({});
  });

  it('re-applies a drifted owned key and keeps its first original', () => {
    const d = diffSysctls({ a: '1' }, { a: '0' }, { a: { original: '0', applied: '1' } });
    expect(d.set).toEqual([{ key: 'a', value: '1' }]);
    expect(d.owned).toEqual({ a: { original: '0', applied: '1' } });
  });

  it('skips keys the kernel does not have', () => {
    expect(diffSysctls({ 'net.ipv4.conf.gone.arp_ignore': '1' }, {}, {})).toEqual({ set: [], restore: [], owned: {} });
  });
});
