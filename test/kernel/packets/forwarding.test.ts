import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { NetlinkIpvsClient } from '../../../src/ipvs/client.js';
import type { ForwardMethod } from '../../../src/ipvs/types.js';
import { assertInLab, run } from '../../lab/inside.js';
import { tallyConnections } from '../../lab/servers.js';
import { drLab, natLab, tunLab, type LvsLab } from './topologies.js';

// Real TCP through IPVS in each forwarding mode: our netlink client programs the director (the
// lab kernel's root namespace), a client namespace connects to the VIP, every real server answers.
describe('real packets through IPVS programmed by our client', () => {
  let ipvs: NetlinkIpvsClient;
  let lab: LvsLab | undefined;
  beforeAll(async () => {
    assertInLab();
    ipvs = await NetlinkIpvsClient.open();
  });
  afterEach(async () => {
    await ipvs.flush();
    await lab?.destroy();
    lab = undefined;
  });
  afterAll(() => ipvs?.close());

  const cases: { mode: string; make: () => Promise<LvsLab>; fwd: ForwardMethod; rsPort: number; ipvsadmFlag: string }[] = [
    { mode: 'NAT', make: natLab, fwd: 'masq', rsPort: 8080, ipvsadmFlag: 'Masq' },
    { mode: 'DR', make: drLab, fwd: 'route', rsPort: 80, ipvsadmFlag: 'Route' },
    { mode: 'TUN', make: tunLab, fwd: 'tunnel', rsPort: 80, ipvsadmFlag: 'Tunnel' },
  ];

  for (const c of cases) {
    it(`${c.mode}: both real servers answer through the VIP, spread by weight`, async () => {
      lab = await c.make();
      const key = { af: 'IPv4', protocol: 'tcp', addr: lab.vip, port: 80 } as const;
      await ipvs.addService({ key, scheduler: 'wrr', flags: [], timeout: 0, netmask: 32 });
      for (const [i, rs] of lab.realServers.entries()) {
        await ipvs.addDest(key, { addr: rs.address, port: c.rsPort, fwd: c.fwd, weight: i + 1, upperThreshold: 0, lowerThreshold: 0 });
      }
      const listing = (await run('ipvsadm', ['-Ln'])).stdout;
      for (const rs of lab.realServers) expect(listing).toMatch(new RegExp(`${rs.address}:${c.rsPort}\\s+${c.ipvsadmFlag}`));
      // wrr with weights 1:2 over 9 connections: exactly 3 and 6.
      expect(await tallyConnections(lab.client, lab.vip, 80, 9)).toEqual({ rs1: 3, rs2: 6 });
    });
  }
});
