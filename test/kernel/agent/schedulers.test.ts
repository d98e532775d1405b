import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CompiledService, NodeDesired } from '../../../src/agent/compile.js';
import { FileOwnershipStore } from '../../../src/agent/ownership.js';
import { Reconciler } from '../../../src/agent/reconciler.js';
import { probeSchedulers } from '../../../src/agent/schedulers.js';
import { schedulers } from '../../../src/api/index.js';
import { NetlinkIpvsClient } from '../../../src/ipvs/client.js';
import { ProcSysctl, RtLinkClient } from '../../../src/link/index.js';
import { assertInLab, run } from '../../lab/inside.js';

// The scheduler probe against the lab kernel: what it reads from files matches what the kernel
// accepts (a scheduler it calls missing fails with ENOENT, one it calls present can be used), and
// a service with a missing scheduler is a terminal error: tried once, reported with its reason.
const fwmark = 4242;
const desired = (scheduler: string): NodeDesired => ({
  services: [{
    key: 'demo/odd', generation: 1, group: 'g1', healthy: 0, liveWeight: 0, quorumUp: true, sorryActive: false, backends: [],
    ipvs: { key: { af: 'IPv4', fwmark }, scheduler, flags: [], timeout: 0, netmask: 32, dests: [] },
  } satisfies CompiledService],
  links: [], realServerSide: [], timeouts: undefined, addresses: [], sysctls: {}, syncDaemons: [],
});

describe('IPVS scheduler probe on the lab kernel', () => {
  let ipvs: NetlinkIpvsClient;
  let dir: string;

  beforeAll(async () => {
    assertInLab();
    await run('ipvsadm', ['-C']);
    ipvs = await NetlinkIpvsClient.open();
    dir = mkdtempSync('/tmp/lvs-sched-');
  });
  afterAll(async () => {
    await run('ipvsadm', ['-C']).catch(() => undefined);
    ipvs?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('agrees with the kernel on every scheduler', async () => {
    const probe = await probeSchedulers();
    expect(probe.available.length + probe.unsupported.length).toBe(schedulers.length); // the lab mounts /lib/modules
    expect(probe.available).toContain('wrr');
    for (const s of schedulers) {
      const err = await ipvs.addService({ key: { af: 'IPv4', fwmark }, scheduler: s, flags: [], timeout: 0, netmask: 32 }).then(() => undefined, (e: { code?: string }) => e);
      if (err === undefined) await ipvs.delService({ af: 'IPv4', fwmark });
      expect({ s, accepted: err === undefined, code: err?.code }).toEqual({ s, accepted: probe.available.includes(s), ...(probe.available.includes(s) ? { code: undefined } : { code: 'ENOENT' }) });
    }
  });

  it('a missing scheduler is terminal: reported with UnsupportedScheduler, not tried again', async () => {
    const missing = (await probeSchedulers()).unsupported[0];
    if (!missing) return; // this kernel has every scheduler: the unit tier covers the rest
    const reconciler = new Reconciler({ ipvs, link: new RtLinkClient(), sysctl: new ProcSysctl(), store: new FileOwnershipStore(join(dir, 'owned.json')) });
    const first = await reconciler.reconcile(desired(missing), { full: true });
    expect(first.errors).toEqual([expect.objectContaining({ reason: 'UnsupportedScheduler', code: 'ENOENT', services: ['demo/odd'] })]);
    expect(first.errors[0]?.message).toContain(`FWM ${fwmark} IPv4`);
    const again = await reconciler.reconcile(desired(missing), { full: false });
    expect(again.ipvsOps).toBe(0);
    expect(again.errors.map((e) => e.reason)).toEqual(['UnsupportedScheduler']);
    const fixed = await reconciler.reconcile(desired('rr'), { full: false });
    expect(fixed.errors).toEqual([]);
    expect((await ipvs.listServicesWithDests({ stats: false })).map((s) => s.scheduler)).toEqual(['rr']);
  });
});
