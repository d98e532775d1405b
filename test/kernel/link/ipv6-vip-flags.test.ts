import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RtLinkClient } from '../../../src/link/index.js';
import { assertInLab, run } from '../../lab/inside.js';
import { Netns } from '../../lab/netns.js';
import { spawnTracked } from '../../lab/reaper.js';

// IPv6 VIPs as keepalived adds them (vrrp_ipaddress.c): every one nodad, a /128 also with preferred
// lifetime 0 ("deprecated"), so the kernel never picks it as the source of the director's own
// connections. The director (the lab's root namespace) talks to a host on the VIP's subnet.
const dev = 'l6-a';
const peerNs = new Netns('l6-peer');
const own = 'fd00:66::1';
const peer = 'fd00:66::9';
const vip = 'fd00:66::100';
const plain = 'fd00:66::200';
const gateway = 'fd00:67::1';
const port = 7066;

/** The source address the kernel picks for a TCP connection from here to the peer. */
async function sourceTowardsPeer(): Promise<string> {
  const s: Socket = connect({ host: peer, port });
  try {
    await new Promise<void>((resolve, reject) => { s.once('connect', resolve); s.once('error', reject); });
    return s.localAddress!;
  } finally {
    s.destroy();
  }
}

const flagsOf = async (address: string): Promise<string> =>
  (await run('ip', ['-6', '-o', 'addr', 'show', 'dev', dev])).stdout.split('\n').find((l) => l.includes(` ${address}/`)) ?? '';

describe('IPv6 VIP flags (nodad, deprecated) in the lab kernel', () => {
  let link: RtLinkClient;
  let stopServer: (() => Promise<void>) | undefined;
  beforeAll(async () => {
    assertInLab();
    await run('ip', ['netns', 'del', peerNs.name!]).catch(() => undefined);
    await run('ip', ['link', 'del', dev]).catch(() => undefined);
    await run('ip', ['netns', 'add', peerNs.name!]);
    await run('ip', ['link', 'add', dev, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', peerNs.name!]);
    await run('ip', ['-6', 'addr', 'add', `${own}/64`, 'dev', dev, 'nodad']);
    await run('ip', ['link', 'set', dev, 'up']);
    await peerNs.ip('-6', 'addr', 'add', `${peer}/64`, 'dev', 'eth0', 'nodad');
    await peerNs.ip('link', 'set', 'eth0', 'up');
    await peerNs.ip('link', 'set', 'lo', 'up');
    const [cmd, ...args] = peerNs.command(process.execPath, ['-e', `require('net').createServer((s) => s.end()).listen(${port}, '::', () => console.log('up'))`]);
    const server = spawnTracked(cmd!, args, { name: 'l6 server', stdio: ['ignore', 'pipe', 'inherit'] });
    stopServer = server.stop;
    await new Promise<void>((r) => server.child.stdout!.once('data', () => r()));
    link = new RtLinkClient();
  });
  afterAll(async () => {
    link?.close();
    await stopServer?.();
    await run('ip', ['link', 'del', dev]).catch(() => undefined);
    await run('ip', ['netns', 'del', peerNs.name!]).catch(() => undefined);
  });

  it('a /128 VIP is nodad and deprecated, a VIP with a shorter prefix only nodad; ip(8) shows them so', async () => {
    await link.addAddress(dev, vip, 128);
    await link.addAddress(dev, gateway, 64);
    const v = await flagsOf(vip);
    expect(v).toContain('nodad');
    expect(v).toContain('deprecated');
    expect(v).toContain('preferred_lft 0sec');
    expect(v).toContain('valid_lft forever');
    const g = await flagsOf(gateway);
    expect(g).toContain('nodad');
    expect(g).not.toContain('deprecated');
    expect(g).toContain('preferred_lft forever');
    await link.deleteAddress(dev, gateway, 64);
  });

  it('the director\'s own connection to a host on the subnet does not use the /128 VIP as its source', async () => {
    expect(await sourceTowardsPeer()).toBe(own);
    // The control: the same kind of address added without the flags is preferred by the kernel
    // (longest match, capped by the prefix length: 128 beats the interface's /64), so the test can fail.
    await run('ip', ['-6', 'addr', 'add', `${plain}/128`, 'dev', dev, 'nodad']);
    try {
      expect(await sourceTowardsPeer()).toBe(plain);
    } finally {
      await run('ip', ['-6', 'addr', 'del', `${plain}/128`, 'dev', dev]);
    }
    expect(await sourceTowardsPeer()).toBe(own);
    await link.deleteAddress(dev, vip, 128);
  });
});
