import { describe, expect, it } from 'vitest';
import { expectFinding, importFixture } from './helpers.js';

// The configurations of the project's seed articles (fixtures/seeds/README.md).

describe('import of the seed configurations', () => {
  it('002 master: the DR pair with TCP_CHECK as keepalived 2.2.7 runs it', () => {
    const r = importFixture('seeds/002-master.conf', { namespace: 'web' });
    const group = r.get('DirectorGroup', 'lvs-devel');
    expect(group.spec.interface).toBe('ens160');
    // keepalived's VRRP version 2 is written out: ours defaults to 3.
    expect(group.spec.vrrp).toMatchObject({ version: 2, advertIntervalMs: 1000, priority: 100, preempt: true });
    expect(group.spec.vrrp.authSecretRef).toEqual({ name: 'lvs-devel-vrrp-auth', namespace: 'web', key: 'password' });
    const secret = r.get('Secret', 'lvs-devel-vrrp-auth') as unknown as { stringData: Record<string, string>; metadata: { namespace: string } };
    expect(secret.stringData.password).toBe('1111');
    expect(secret.metadata.namespace).toBe('web');

    const vs = r.get('VirtualService', 'tcp-192-168-25-100-80');
    expect(vs.spec).toMatchObject({ vip: '192.168.25.100', port: 80, protocol: 'TCP', scheduler: 'wrr', forwarding: { method: 'DR' }, directorGroup: 'lvs-devel' });
    // persistence_timeout 0 is refused by keepalived (1..), so there is none.
    expect(vs.spec.persistence).toBeUndefined();
    expectFinding(r, 'seeds/002-master.conf', 26, 'error', /persistence_timeout '0' is invalid.*no persistence/);
    // nb_get_retry is no TCP_CHECK keyword in 2.2.7: retry stays 1, fall 2; connect_timeout 10 >= delay_loop 6.
    expect(vs.spec.healthCheck).toEqual({ type: 'TCP', port: 80, intervalSeconds: 11, timeoutSeconds: 10, fall: 2, rise: 1, retryDelaySeconds: 3, warmupSeconds: 11 });
    expectFinding(r, 'seeds/002-master.conf', 32, 'error', /unknown keyword 'nb_get_retry' in TCP_CHECK/);
    expectFinding(r, 'seeds/002-master.conf', 41, 'error', /unknown keyword 'nb_get_retry' in TCP_CHECK/);
    expectFinding(r, 'seeds/002-master.conf', 30, 'warning', /connect_timeout 10 s is not less than delay_loop 6 s.*intervalSeconds is 11/);
    expectFinding(r, 'seeds/002-master.conf', 25, 'error', /unknown keyword 'nat_mask'/);
    expectFinding(r, 'seeds/002-master.conf', 18, 'info', /virtual_router_id 51 is pinned to 192\.168\.25\.100 \(spec\.vrrp\.routerIds\)/);
    expect(r.all('DirectorGroup')[0]!.spec.vrrp.routerIds).toEqual([{ address: '192.168.25.100', vrid: 51 }]);

    const rs = r.all('RealServer');
    expect(rs.map((x) => [x.spec.address, x.spec.weight, x.spec.port])).toEqual([
      ['192.168.25.31', 1, undefined],
      ['192.168.25.32', 2, undefined],
    ]);
    for (const x of rs) expect(x.metadata.labels).toEqual(vs.spec.backends.realServerSelector.matchLabels);
  });

  it('002 backup differs only in its priority', () => {
    const r = importFixture('seeds/002-backup.conf');
    expect(r.get('DirectorGroup', 'lvs-devel').spec.vrrp.priority).toBe(90);
    expectFinding(r, 'seeds/002-backup.conf', 11, 'info', /priority 90 is this director's.*lvs\.dev\/vrrp-priority/);
  });

  it('004: a VRRP-only pair with a sync group and the old lvs_sync_daemon_interface', () => {
    const r = importFixture('seeds/004-vroute1.conf');
    const g = r.get('DirectorGroup', 'zvrouter1');
    expect(g.spec).toMatchObject({ interface: 'eth2', sync: { enabled: true, interface: 'eth3', syncId: 51 } });
    expect(g.spec.vrrp).toMatchObject({ version: 2, advertIntervalMs: 2000, priority: 150 });
    // haproxy serves the VIP: it moves with the master as a gateway address, as keepalived's master holds it.
    expect(g.spec.gatewayAddresses).toEqual([{ address: '192.168.2.103', interface: 'eth2' }]);
    expectFinding(r, 'seeds/004-vroute1.conf', 5, 'info', /vrrp_sync_group bl_group: vroute1 move together/);
    expectFinding(r, 'seeds/004-vroute1.conf', 22, 'info', /192\.168\.2\.103 is used by no virtual_server: a gateway address of zvrouter1 on eth2/);
    expect(r.all('VirtualService')).toEqual([]);
  });

  it('004: braces against words and blocks closed on one line read as keepalived reads them', () => {
    const r = importFixture('seeds/004-vroute2.conf');
    const g = r.get('DirectorGroup', 'zvrouter1');
    expect(g.spec).toMatchObject({ interface: 'eth0', sync: { interface: 'eth1', syncId: 51 } });
    expect(g.spec.gatewayAddresses).toEqual([{ address: '192.168.2.103', interface: 'eth0' }]);
    expectFinding(r, 'seeds/004-vroute2.conf', 4, 'info', /vrrp_sync_group bl_group: vroute2 move together/);
  });

  it('000 NAT: -a typed for -A is refused as ipvsadm refuses it, and nothing is emitted', () => {
    const r = importFixture('seeds/000-nat.ipvsadm');
    expect(r.objects).toEqual([]);
    expectFinding(r, 'seeds/000-nat.ipvsadm', 1, 'error', /-s with -a: ipvsadm refuses/);
    expectFinding(r, 'seeds/000-nat.ipvsadm', 2, 'error', /was not added before/);
  });

  it('000 and 003: DR, NAT and TUN commands', () => {
    const dr = importFixture('seeds/000-dr.ipvsadm');
    expect(dr.get('VirtualService', 'tcp-192-168-100-155-80').spec).toMatchObject({ scheduler: 'rr', forwarding: { method: 'DR' }, healthCheck: { type: 'None' } });
    expect(dr.all('RealServer').map((x) => [x.spec.address, x.spec.port, x.spec.forwarding])).toEqual([
      ['192.168.100.151', undefined, undefined],
      ['192.168.100.152', undefined, undefined],
    ]);
    const nat = importFixture('seeds/003-nat.ipvsadm');
    expect(nat.get('VirtualService', 'tcp-172-25-254-100-80').spec.forwarding).toEqual({ method: 'NAT' });
    expect(nat.all('RealServer').map((x) => x.spec.port)).toEqual([80, 80, 80]);
    const tun = importFixture('seeds/003-tun.ipvsadm');
    expect(tun.get('VirtualService', 'tcp-172-25-1-100-80').spec.forwarding).toEqual({ method: 'TUN' });
    expect(importFixture('seeds/003-dr.ipvsadm').all('RealServer')).toHaveLength(2);
    expectFinding(tun, 'seeds/003-tun.ipvsadm', 1, 'info', /ipvsadm has no health checks/);
  });
});
