import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProcSysctl, RtLinkClient } from '../../../src/link/index.js';
import { assertInLab, run } from '../../lab/inside.js';

// The real link layer against the lab kernel, cross-checked with iproute2's own view.
describe('RtLinkClient and ProcSysctl in the lab kernel', () => {
  let link: RtLinkClient;
  beforeAll(async () => {
    assertInLab();
    await run('ip', ['link', 'add', 'lk-dummy', 'type', 'dummy']);
    await run('ip', ['addr', 'add', '10.210.0.1/24', 'dev', 'lk-dummy']);
    link = new RtLinkClient();
  });
  afterAll(async () => {
    link?.close();
    await run('ip', ['link', 'del', 'lk-dummy']).catch(() => undefined);
  });

  const ipAddrs = async (dev: string): Promise<string[]> => {
    const j = JSON.parse((await run('ip', ['-j', 'addr', 'show', 'dev', dev])).stdout) as
      { addr_info: { local: string; prefixlen: number }[] }[];
    return j.flatMap((l) => l.addr_info.map((a) => `${a.local}/${a.prefixlen}`)).sort();
  };

  it('brings a link up and lists it', async () => {
    await link.setUp('lk-dummy');
    const l = (await link.listLinks()).find((x) => x.name === 'lk-dummy');
    expect(l?.up).toBe(true);
    expect(l?.mac).toMatch(/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/);
  });

  it('adds and deletes IPv4 and IPv6 VIPs, idempotently, leaving other addresses alone', async () => {
    await link.addAddress('lk-dummy', '10.210.0.100', 32);
    await link.addAddress('lk-dummy', '10.210.0.100', 32); // already there: no error
    await link.addAddress('lk-dummy', '2001:db8:210::100', 128);
    expect(await ipAddrs('lk-dummy')).toEqual(expect.arrayContaining(['10.210.0.1/24', '10.210.0.100/32', '2001:db8:210::100/128']));
    const ours = (await link.listAddresses('lk-dummy')).map((a) => `${a.address}/${a.prefixLen}`);
    expect(ours).toEqual(expect.arrayContaining(['10.210.0.1/24', '10.210.0.100/32', '2001:db8:210::100/128']));

    await link.deleteAddress('lk-dummy', '10.210.0.100', 32);
    await link.deleteAddress('lk-dummy', '10.210.0.100', 32); // already gone: no error
    await link.deleteAddress('lk-dummy', '2001:db8:210::100', 128);
    const left = await ipAddrs('lk-dummy');
    expect(left).toContain('10.210.0.1/24');
    expect(left).not.toContain('10.210.0.100/32');
    expect(left).not.toContain('2001:db8:210::100/128');
  });

  it('names a missing interface in its error', async () => {
    await expect(link.addAddress('lk-missing', '10.210.0.5', 32)).rejects.toThrow(/no such interface: lk-missing/);
  });

  it('reads and writes sysctls like sysctl(8)', async () => {
    const s = new ProcSysctl();
    await s.set('net.ipv4.conf.lk-dummy.arp_ignore', '1');
    expect((await run('sysctl', ['-n', 'net.ipv4.conf.lk-dummy.arp_ignore'])).stdout.trim()).toBe('1');
    expect(await s.get('net.ipv4.conf.lk-dummy.arp_ignore')).toBe('1');
    expect(await s.get('net.ipv4.no_such_key')).toBeUndefined();
  });
});
