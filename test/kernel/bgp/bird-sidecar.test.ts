import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { BirdDaemon } from '../../../src/bgp/runtime/bird-daemon.js';
import { waitUntil } from '../vrrp/routers.js';
import { EcmpLab } from './ecmp-lab.js';
import { useEcmpLab } from './use-ecmp-lab.js';

// BIRD in a sidecar (the chart's agent.bird.sidecar, agent --bird=sidecar): the chart's own
// script runs BIRD beside director d1's agent in its namespace, against the lab's router. The
// agent never starts or stops that BIRD: it writes bird.conf (only once BIRD has parsed it) and
// reloads it. What a pod gains: the agent's container restarts without the sessions.
describe('BIRD as the agent\'s sidecar', () => {
  const lab = new EcmpLab('bs');
  let sidecar: ReturnType<EcmpLab['startBirdSidecar']>;
  const birdc = async (...args: string[]): Promise<string> => (await lab.dns(1).exec('birdc', ['-s', join(lab.birdDir('d1'), 'bird.ctl'), ...args])).stdout;
  /** Whether the process `pid` still runs (the sidecar's shell execs BIRD: one pid). */
  const running = (pid: number): boolean => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0]!.endsWith('bird');
    } catch {
      return false;
    }
  };
  /** The router keeps d1 as the VIP's next hop for `ms`: no withdrawal, no session reset. */
  const keepsD1 = async (ms: number): Promise<boolean> => {
    for (const end = Date.now() + ms; Date.now() < end;) {
      if ((await lab.nexthops()) !== '10.0.0.11') return false;
      await new Promise((r) => setTimeout(r, 100));
    }
    return true;
  };

  useEcmpLab(lab);

  it('waits for the agent\'s first configuration, then runs BIRD, which the agent only configures', async () => {
    sidecar = lab.startBirdSidecar('d1');
    await waitUntil('the sidecar waiting', async () => sidecar.out().includes('waiting for the agent'), 10_000, 50);
    await lab.startAgent('d1', { birdSidecar: true });
    await lab.waitNexthops([1]);
    expect(sidecar.out()).toContain('bird-sidecar: starting BIRD');
    expect(running(sidecar.child.pid!)).toBe(true);
    expect(lab.agents.get('d1')!.log()).toContain('BIRD sidecar answering');
    expect(lab.agents.get('d1')!.log()).not.toContain('BIRD started');
  });

  it('an agent killed and started again: the same BIRD keeps the session and the route, the new agent adopts it', async () => {
    const pid = sidecar.child.pid!;
    lab.agents.get('d1')!.child.kill('SIGKILL');
    // BFD and the 3 s hold time would withdraw the route of a dead speaker within seconds.
    expect(await keepsD1(5000)).toBe(true);
    await lab.startAgent('d1', { birdSidecar: true });
    expect(await keepsD1(3000)).toBe(true);
    expect(running(pid)).toBe(true);
    expect(await birdc('show', 'protocols')).toMatch(/lvs_peer_10_0_0_1\s+BGP\s+---\s+up\b.*Established/);
  });

  it('BIRD\'s container restarted: it loads the last configuration the agent wrote, and the route comes back', async () => {
    sidecar.child.kill('SIGKILL');
    await lab.waitNexthops([]);
    sidecar = lab.startBirdSidecar('d1');
    const ms = await lab.waitNexthops([1]);
    console.log(`bgp-figures sidecar restart: route back ${ms} ms after BIRD's container started`);
    expect(sidecar.out()).not.toContain('waiting for the agent');
  });

  it('a configuration BIRD refuses never replaces the last good one (which a restarted BIRD would load)', async () => {
    const file = join(lab.birdDir('d1'), 'bird.conf');
    const good = readFileSync(file, 'utf8');
    const daemon = new BirdDaemon({ dir: lab.birdDir('d1'), mode: 'sidecar', log: pino({ level: 'silent' }) });
    await expect(daemon.apply('protocol bgp lvs_broken { local as 65001; neighbor 10.0.0.1 as; }\n')).rejects.toThrow(/BIRD refused the configuration \(the last good one stays in .*bird\.conf\): .*error/i);
    expect(readFileSync(file, 'utf8')).toBe(good);
    expect(await keepsD1(1000)).toBe(true);
  });

  it('a graceful stop of the agent withdraws the route and leaves BIRD running without sessions', async () => {
    const pid = sidecar.child.pid!;
    const a = lab.agents.get('d1')!;
    const exited = new Promise((r) => a.child.once('exit', r));
    a.child.kill('SIGTERM');
    await lab.waitNexthops([]);
    await exited;
    expect(running(pid)).toBe(true);
    // Idle: what a restarted sidecar would load now announces nothing.
    const conf = readFileSync(join(lab.birdDir('d1'), 'bird.conf'), 'utf8');
    expect(conf).not.toContain('protocol bgp');
    expect(await birdc('show', 'protocols')).not.toContain('lvs_peer_');
  });
});
