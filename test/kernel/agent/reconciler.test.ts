import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compile, type CompiledService, type NodeDesired } from '../../../src/agent/compile.js';
import { FileOwnershipStore } from '../../../src/agent/ownership.js';
import { Reconciler } from '../../../src/agent/reconciler.js';
import { NetlinkIpvsClient } from '../../../src/ipvs/client.js';
import type { IpvsDest } from '../../../src/ipvs/types.js';
import { ProcSysctl, RtLinkClient } from '../../../src/link/index.js';
import { resolve } from '../../../src/model/index.js';
import { dg, node, rs, snapshot, web } from '../../unit/model/fixtures.js';
import { assertInLab, run } from '../../lab/inside.js';

// The reconciler against the real kernel: it converges, heals drift, adopts its own state after a
// restart without touching it, and never changes what somebody else created.
const dest = (addr: string, weight: number): IpvsDest => ({ addr, port: 80, fwd: 'route', weight, upperThreshold: 0, lowerThreshold: 0 });
const service = (vip: string, dests: IpvsDest[]): CompiledService => ({
  key: `demo/${vip}`, generation: 1, group: 'g1', healthy: dests.length, liveWeight: dests.length, quorumUp: true, sorryActive: false, backends: [],
  ipvs: { key: { af: 'IPv4', protocol: 'tcp', addr: vip, port: 80 }, scheduler: 'wrr', flags: [], timeout: 0, netmask: 32, dests },
});
const desired = (services: CompiledService[], vips: string[] = []): NodeDesired => ({
  services, links: [], realServerSide: [], timeouts: { tcp: 901 }, syncDaemons: [],
  addresses: vips.map((v) => ({ ifname: 'rc-dummy', address: v, prefixLen: 32 })),
  sysctls: { 'net.ipv4.conf.rc-dummy.send_redirects': '0' },
});

const ipvsadmSave = async (): Promise<string[]> =>
  (await run('ipvsadm', ['-S', '-n'])).stdout.trim().split('\n').filter(Boolean).sort();

describe('Reconciler on the lab kernel', () => {
  let dir: string;
  let ipvs: NetlinkIpvsClient;
  let link: RtLinkClient;
  const make = (): Reconciler => new Reconciler({ ipvs, link, sysctl: new ProcSysctl(), store: new FileOwnershipStore(join(dir, 'owned.json')) });

  beforeAll(async () => {
    assertInLab();
    await run('ipvsadm', ['-C']);
    dir = mkdtempSync('/tmp/lvs-agent-');
    await run('ip', ['link', 'add', 'rc-dummy', 'type', 'dummy']);
    await run('ip', ['link', 'set', 'rc-dummy', 'up']);
    await run('ip', ['addr', 'add', '10.220.0.1/24', 'dev', 'rc-dummy']);
    // Foreign state that must survive everything: a keepalived/kube-proxy-like service, a human's VIP.
    await run('ipvsadm', ['-A', '-t', '10.220.9.9:443', '-s', 'rr']);
    await run('ipvsadm', ['-a', '-t', '10.220.9.9:443', '-r', '10.220.9.10:443', '-m', '-w', '7']);
    await run('ip', ['addr', 'add', '10.220.0.250/32', 'dev', 'rc-dummy']);
    ipvs = await NetlinkIpvsClient.open();
    link = new RtLinkClient();
  });
  afterAll(async () => {
    ipvs?.close();
    link?.close();
    await run('ipvsadm', ['-C']);
    await run('ip', ['link', 'del', 'rc-dummy']).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });

  const foreignRules = ['-A -t 10.220.9.9:443 -s rr', '-a -t 10.220.9.9:443 -r 10.220.9.10:443 -m -w 7'];

  it('converges to the desired table, VIPs and sysctls, next to foreign state', async () => {
    const r = make();
    const res = await r.reconcile(desired([service('10.220.0.100', [dest('10.220.1.1', 1), dest('10.220.1.2', 2)])], ['10.220.0.100']));
    expect(res.errors).toEqual([]);
    expect(res.ipvsOps).toBe(3);
    expect(await ipvsadmSave()).toEqual([
      ...foreignRules,
      '-A -t 10.220.0.100:80 -s wrr', '-a -t 10.220.0.100:80 -r 10.220.1.1:80 -g -w 1', '-a -t 10.220.0.100:80 -r 10.220.1.2:80 -g -w 2',
    ].sort());
    expect((await run('ip', ['-o', 'addr', 'show', 'dev', 'rc-dummy'])).stdout).toContain('10.220.0.100/32');
    expect((await run('sysctl', ['-n', 'net.ipv4.conf.rc-dummy.send_redirects'])).stdout.trim()).toBe('0');
    expect((await run('ipvsadm', ['-L', '--timeout'])).stdout).toMatch(/Timeout \(tcp tcpfin udp\): 901 /);
    // A second pass has nothing to do.
    expect((await r.reconcile(desired([service('10.220.0.100', [dest('10.220.1.1', 1), dest('10.220.1.2', 2)])], ['10.220.0.100']))).ipvsOps).toBe(0);
  });

  it('heals drift: ipvsadm -C and a deleted VIP come back at the next pass', async () => {
    await run('ipvsadm', ['-C']);
    await run('ip', ['addr', 'del', '10.220.0.100/32', 'dev', 'rc-dummy']);
    const res = await make().reconcile(desired([service('10.220.0.100', [dest('10.220.1.1', 1), dest('10.220.1.2', 2)])], ['10.220.0.100']));
    expect(res.errors).toEqual([]);
    expect(await ipvsadmSave()).toContain('-a -t 10.220.0.100:80 -r 10.220.1.2:80 -g -w 2');
    expect((await run('ip', ['-o', 'addr', 'show', 'dev', 'rc-dummy'])).stdout).toContain('10.220.0.100/32');
    // ipvsadm -C took the foreign service too; a human restores it, and we leave it alone again.
    await run('ipvsadm', ['-A', '-t', '10.220.9.9:443', '-s', 'rr']);
    await run('ipvsadm', ['-a', '-t', '10.220.9.9:443', '-r', '10.220.9.10:443', '-m', '-w', '7']);
  });

  it('adopts its own state after a restart without changing anything', async () => {
    await run('ipvsadm', ['-a', '-t', '10.220.0.100:80', '-r', '10.220.1.3:80', '-g', '-w', '0']).catch(() => undefined);
    await run('ipvsadm', ['-d', '-t', '10.220.0.100:80', '-r', '10.220.1.3:80']);
    const before = await ipvsadmSave();
    const res = await make().reconcile(desired([service('10.220.0.100', [dest('10.220.1.1', 1), dest('10.220.1.2', 2)])], ['10.220.0.100']));
    expect(res).toMatchObject({ ipvsOps: 0, addressOps: 0, sysctlOps: 0, errors: [] });
    expect(await ipvsadmSave()).toEqual(before);
  });

  it('reports a desired service that somebody else holds, and does not touch it', async () => {
    const res = await make().reconcile(desired([
      service('10.220.0.100', [dest('10.220.1.1', 1), dest('10.220.1.2', 2)]),
      service('10.220.9.9', [dest('10.220.1.1', 1)]),
    ], ['10.220.0.100']));
    expect(res.foreign).toEqual([]); // port 80 is not the foreign port 443: no clash
    const clash = service('10.220.9.9', [dest('10.220.1.1', 1)]);
    clash.ipvs.key = { af: 'IPv4', protocol: 'tcp', addr: '10.220.9.9', port: 443 };
    const res2 = await make().reconcile(desired([service('10.220.0.100', [dest('10.220.1.1', 1), dest('10.220.1.2', 2)]), clash], ['10.220.0.100']));
    expect(res2.foreign).toEqual(['tcp/10.220.9.9:443']);
    expect(res2.errors[0]!.message).toMatch(/not created by lvs-operator/);
    expect(await ipvsadmSave()).toEqual(expect.arrayContaining(foreignRules));
  });

  it('incremental passes touch only what changed; resync slices and full passes heal drift elsewhere', async () => {
    const r = make();
    const two = (w: number) => desired([service('10.220.0.100', [dest('10.220.1.1', 1), dest('10.220.1.2', 2)]), service('10.220.0.101', [dest('10.220.1.1', w)])], ['10.220.0.100']);
    expect((await r.reconcile(two(1), { full: true })).errors).toEqual([]);
    const changed = await r.reconcile(two(5), { full: false });
    expect(changed).toMatchObject({ ipvsOps: 1, errors: [] });
    expect(await ipvsadmSave()).toContain('-a -t 10.220.0.101:80 -r 10.220.1.1:80 -g -w 5');
    // Drift on a service whose desired state did not change: an incremental pass does not look ...
    await run('ipvsadm', ['-d', '-t', '10.220.0.100:80', '-r', '10.220.1.2:80']);
    expect((await r.reconcile(two(5), { full: false })).ipvsOps).toBe(0);
    // ... a resync slice that names it does, and heals it; a slice naming only the other service does not.
    expect((await r.reconcile(two(5), { full: false, verify: new Set(['tcp/10.220.0.101:80']) })).ipvsOps).toBe(0);
    expect((await r.reconcile(two(5), { full: false, verify: new Set(['tcp/10.220.0.100:80']) })).ipvsOps).toBe(1);
    expect(await ipvsadmSave()).toContain('-a -t 10.220.0.100:80 -r 10.220.1.2:80 -g -w 2');
    // So does a full pass (start-up, after a failure); a deleted VIP comes back when links are verified.
    await run('ipvsadm', ['-e', '-t', '10.220.0.100:80', '-r', '10.220.1.2:80', '-g', '-w', '9']);
    await run('ip', ['addr', 'del', '10.220.0.100/32', 'dev', 'rc-dummy']);
    expect((await r.reconcile(two(5), { full: true })).ipvsOps).toBe(1);
    expect(await ipvsadmSave()).toContain('-a -t 10.220.0.100:80 -r 10.220.1.2:80 -g -w 2');
    expect((await run('ip', ['-o', 'addr', 'show', 'dev', 'rc-dummy'])).stdout).toContain('10.220.0.100/32');
    await run('ip', ['addr', 'del', '10.220.0.100/32', 'dev', 'rc-dummy']);
    expect((await r.reconcile(two(5), { full: false })).addressOps).toBe(0);
    expect((await r.reconcile(two(5), { full: false, verifyLinks: true })).addressOps).toBe(1);
    expect((await run('ip', ['-o', 'addr', 'show', 'dev', 'rc-dummy'])).stdout).toContain('10.220.0.100/32');
    // An owned service no longer desired goes away on an incremental pass too.
    const gone = await r.reconcile(desired([service('10.220.0.100', [dest('10.220.1.1', 1), dest('10.220.1.2', 2)])], ['10.220.0.100']), { full: false });
    expect(gone.ipvsOps).toBe(1);
    expect((await ipvsadmSave()).some((l) => l.includes('10.220.0.101'))).toBe(false);
    expect(await ipvsadmSave()).toEqual(expect.arrayContaining(foreignRules));
  });

  it('programs addresses given in any valid spelling once: the next pass finds them as the kernel spells them', async () => {
    // VIP, real server and sorry server written in upper case, with leading zeros and unshortened
    // zero groups: valid, but not how the kernel reads them back. Quorum is lost (weight 1 of 2),
    // so the inhibited real server stays at weight 0 beside the sorry server.
    const spelled = (): NodeDesired => compile(resolve(snapshot({
      directorGroups: [dg('g1', { interface: 'rc-dummy' }, { vrids: [{ vip: '2001:db8:220::64', interface: 'rc-dummy', vrid: 51 }] })],
      virtualServices: [web('t', 'v6', '2001:DB8:220:0:0::0064', { forwarding: { method: 'DR' }, sorryServer: { address: '2001:0DB8:220::00FF' }, quorum: { weight: 2 }, inhibitOnFailure: true })],
      realServers: [rs('t', 'r1', { address: '2001:DB8:220:0::A' }, { app: 'v6' })],
      nodes: [node('d1', { 'lvs.dev/director': 'g1' })],
    })), 'd1', () => true, () => false);
    const first = await make().reconcile(spelled());
    expect(first.errors).toEqual([]);
    expect(await ipvsadmSave()).toEqual(expect.arrayContaining([
      '-A -t [2001:db8:220::64]:80 -s wlc', '-a -t [2001:db8:220::64]:80 -r [2001:db8:220::a]:80 -g -w 0', '-a -t [2001:db8:220::64]:80 -r [2001:db8:220::ff]:80 -g -w 1',
    ]));
    // A new reconciler (an agent restart) with a newly compiled desired state has nothing to do.
    const again = await make().reconcile(spelled());
    expect(again.errors).toEqual([]);
    expect(again.ipvsOps).toBe(0);
  });

  it('removes exactly what it created when nothing is desired any more', async () => {
    const res = await make().reconcile(desired([], []));
    expect(res.errors).toEqual([]);
    expect(await ipvsadmSave()).toEqual(foreignRules.sort());
    const addrs = (await run('ip', ['-o', 'addr', 'show', 'dev', 'rc-dummy'])).stdout;
    expect(addrs).not.toContain('10.220.0.100/32');
    expect(addrs).toContain('10.220.0.250/32'); // the human's VIP stays
  });
});
