import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertInLab, run } from '../../lab/inside.js';
import { Topology, type Netns } from '../../lab/netns.js';
import { startNameServer, tallyConnections, type RunningServer } from '../../lab/servers.js';

// The lab itself: a real IPVS kernel with every scheduler loaded, and namespaces that carry packets.
describe('kernel lab', () => {
  const topo = new Topology('lab');
  let a: Netns;
  let b: Netns;
  let server: RunningServer;

  beforeAll(async () => {
    assertInLab();
    a = await topo.ns('a');
    b = await topo.ns('b');
    await topo.veth(a, 'lab-a0', b, 'lab-b0');
    await a.addr('lab-a0', '10.200.0.1/24');
    await b.addr('lab-b0', '10.200.0.2/24');
    server = await startNameServer(b, '10.200.0.2', 8080, 'b');
  });
  afterAll(async () => {
    await server?.stop();
    await topo.destroy();
  });

  it('runs a kernel with IPVS', async () => {
    const { stdout } = await run('ipvsadm', ['-Ln']);
    expect(stdout).toMatch(/IP Virtual Server version \d+\.\d+\.\d+/);
  });

  it('carries TCP between namespaces', async () => {
    expect(await tallyConnections(a, '10.200.0.2', 8080, 3)).toEqual({ b: 3 });
  });
});
