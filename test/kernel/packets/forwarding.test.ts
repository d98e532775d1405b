import { afterEach, describe, expect, it } from 'vitest';
import { assertInLab, run } from '../../lab/inside.js';
import { tallyConnections } from '../../lab/servers.js';
import { drLab, natLab, tunLab, type LvsLab } from './topologies.js';

// Real TCP through IPVS in each forwarding mode: the director (root namespace) is programmed, a
// client namespace connects to the VIP, and every real server must answer.
describe('real packets through IPVS', () => {
  let lab: LvsLab | undefined;
  afterEach(async () => {
    await run('ipvsadm', ['-C']);
    await lab?.destroy();
    lab = undefined;
  });

  const cases = [
    { mode: 'NAT', make: natLab, flag: '-m', rsPort: 8080 },
    { mode: 'DR', make: drLab, flag: '-g', rsPort: 80 },
    { mode: 'TUN', make: tunLab, flag: '-i', rsPort: 80 },
  ] as const;

  for (const c of cases) {
    it(`${c.mode}: both real servers answer through the VIP`, async () => {
      assertInLab();
      lab = await c.make();
      await run('ipvsadm', ['-A', '-t', `${lab.vip}:80`, '-s', 'rr']);
      for (const rs of lab.realServers) {
        await run('ipvsadm', ['-a', '-t', `${lab.vip}:80`, '-r', `${rs.address}:${c.rsPort}`, c.flag]);
      }
      const tally = await tallyConnections(lab.client, lab.vip, 80, 6);
      expect(tally).toEqual({ rs1: 3, rs2: 3 });
    });
  }
});
