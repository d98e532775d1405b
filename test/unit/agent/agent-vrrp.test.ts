// VRRP as a step of the agent's pass: nothing of it runs before start() (the restart bug of an
// early pass cannot happen), the pass hands it the model and compiles what it decided (VIPs left
// to VRRP, the master sync daemon on the master), and stop() hands the VIPs over without a gap
// before its last pass stops the master daemon.
import { describe, expect, it } from 'vitest';
import { Agent } from '../../../src/agent/agent.js';
import type { SnapshotSource } from '../../../src/agent/source.js';
import { HealthChecker } from '../../../src/health/index.js';
import { flush, twoDirectors, vip1, vrrpLab, type LabDirector } from './vrrp-fixtures.js';

const snap = twoDirectors({ vips: [vip1], sync: { enabled: true, syncId: 3 } });
const source: SnapshotSource = { snapshot: () => snap, onChange: () => () => undefined };
const backup = { state: 'backup', mcastIfn: 'eth0', syncId: 3 };
const master = { ...backup, state: 'master' };
const daemons = async (d: LabDirector): Promise<unknown[]> => (await d.ipvs.listDaemons()).map(({ state, mcastIfn, syncId }) => ({ state, mcastIfn, syncId }));

describe('an agent with VRRP', () => {
  it('runs VRRP only from its passes, compiles the sync daemons from it, and hands over without a gap on stop', async () => {
    const { director, run } = vrrpLab();
    const agents = ['d1', 'd2'].map((name, i) => {
      const d = director(name, `192.168.10.${i + 1}`);
      const checker = new HealthChecker({ probe: async () => ({ ok: true, latencyMs: 1 }) });
      return { d, agent: new Agent({ node: name, source, reconciler: d.reconciler, vrrp: d.leadership, checker, debounceMs: 1 }) };
    });
    const [a1, a2] = agents as [typeof agents[0], typeof agents[0]];

    // Asked for a pass before start: nothing runs, VRRP has no instance, the kernel is untouched.
    a1.agent.schedule(0);
    await a1.agent.pass();
    await run(500);
    expect(a1.d.leadership.status()).toEqual([]);
    expect([await daemons(a1.d), a1.d.ipvs.applied]).toEqual([[], []]);

    for (const { agent } of agents) await agent.start();
    await run(500);
    // d2 (higher address) is master: VRRP holds the VIP, compile leaves it to VRRP.
    expect([await a1.d.holds(), await a2.d.holds()]).toEqual([false, true]);
    expect(a2.agent.lastPass?.desired.addresses.map((a) => a.address)).toEqual([]);
    expect(await daemons(a2.d)).toEqual([master, backup]);
    expect(await daemons(a1.d)).toEqual([backup]);
    expect(a2.d.store.state.syncDaemons).toEqual([master, backup]);
    expect(a2.d.store.state.vrrpMasters).toEqual({ [`g1/eth0/${vip1}`]: [vip1] });

    // A restart of the master: someone holds the VIP at every step, and the old master gives
    // it up only once d1 took over.
    let stopped = false;
    const stopping = a2.agent.stop({ handover: true }).then(() => { stopped = true; });
    for (let i = 0; i < 200 && !stopped; i++) {
      await run(10);
      expect((await a1.d.holds()) || (await a2.d.holds())).toBe(true);
    }
    await stopping;
    expect([await a1.d.holds(), await a2.d.holds()]).toEqual([true, false]);
    // The last pass stopped the master daemon; the backup daemon stays for the next agent.
    expect(await daemons(a2.d)).toEqual([backup]);
    expect(a2.d.store.state.syncDaemons).toEqual([backup]);
    await run(50);
    expect(await daemons(a1.d)).toEqual([master, backup]);
    await a1.agent.stop();
    await flush();
  });
});
