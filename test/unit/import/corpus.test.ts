import { describe, expect, it } from 'vitest';
import { parseLvsObject } from '../../../src/api/index.js';
import { importConfig } from '../../../src/import/index.js';
import { expectFinding, importFixture } from './helpers.js';

const c = 'corpus';

describe('import of real-world style keepalived configurations', () => {
  it('DR master: HTTP_GET, quorum, sorry server, persistence, lvs_sync_daemon, a long password', () => {
    const r = importFixture(`${c}/dr-master.conf`);
    const g = r.get('DirectorGroup', 'lvs-web');
    expect(g.spec.sync).toEqual({ enabled: true, interface: 'eth1', syncId: 7 });
    expect(g.spec.vrrp).toMatchObject({ version: 2, priority: 150, authSecretRef: { name: 'lvs-web-vrrp-auth', key: 'password' } });
    expect((r.get('Secret', 'lvs-web-vrrp-auth') as unknown as { stringData: { password: string } }).stringData.password).toBe('s3cretpa');
    expectFinding(r, `${c}/dr-master.conf`, 19, 'warning', /only the first 8 are used/);
    expectFinding(r, `${c}/dr-master.conf`, 26, 'error', /notify_master is not carried: directors run no user scripts/);
    const vs = r.get('VirtualService', 'tcp-192-0-2-10-80');
    expect(vs.spec).toMatchObject({
      scheduler: 'wlc',
      forwarding: { method: 'DR' },
      persistence: { timeoutSeconds: 50, netmask: '255.255.255.0' },
      quorum: { weight: 2, hysteresis: 1 },
      sorryServer: { address: '192.0.2.99', port: 80 },
      inhibitOnFailure: true,
    });
    // Both real servers share one check, so it sits on the service; keepalived's 200 only, its retries 2 s apart, warmup delay_loop.
    expect(vs.spec.healthCheck).toEqual({
      type: 'HTTP',
      intervalSeconds: 10,
      timeoutSeconds: 3,
      fall: 3,
      rise: 1,
      retryDelaySeconds: 2,
      warmupSeconds: 10,
      http: { path: '/healthz', expectedStatus: [200] },
    });
    expectFinding(r, `${c}/dr-master.conf`, 43, 'info', /retry 2 is fall 3: .* 2 s apart \(delay_before_retry\)/);
    expect(r.all('RealServer').every((x) => x.spec.healthCheck === undefined && x.spec.weight === 3)).toBe(true);
  });

  it('DR backup: nopreempt drops preempt_delay as keepalived ignores it; TCP_CHECK with keepalived defaults written out', () => {
    const r = importFixture(`${c}/dr-backup.conf`);
    const g = r.get('DirectorGroup', 'lvs-web');
    expect(g.spec.vrrp).toMatchObject({ preempt: false, priority: 100 });
    expect(g.spec.vrrp.preemptDelaySeconds).toBeUndefined();
    expectFinding(r, `${c}/dr-backup.conf`, 13, 'warning', /preempt_delay with nopreempt is not carried/);
    // delay_loop from the virtual_server, retry 1 (fall 2), no inhibit.
    expect(r.get('VirtualService', 'tcp-192-0-2-10-80').spec.healthCheck).toEqual({ type: 'TCP', intervalSeconds: 10, timeoutSeconds: 3, fall: 2, rise: 1, retryDelaySeconds: 1, warmupSeconds: 10 });
  });

  it('NAT pair: the sync group moves as one DirectorGroup, the inner instance\'s VIP its gateway address', () => {
    const r = importFixture(`${c}/nat-gateway.conf`);
    expect(r.all('DirectorGroup').map((g) => g.metadata.name)).toEqual(['lvs-nat']);
    const g = r.get('DirectorGroup', 'lvs-nat');
    expect(g.spec).toMatchObject({ interface: 'eth0', vrrp: { version: 3, priority: 150 } });
    expect(g.spec.gatewayAddresses).toEqual([{ address: '10.1.0.1/24', interface: 'eth1' }]);
    expectFinding(r, `${c}/nat-gateway.conf`, 7, 'info', /VI_EXT, VI_INT move together as one DirectorGroup \(VI_INT as its gateway addresses\)/);
    expectFinding(r, `${c}/nat-gateway.conf`, 37, 'info', /10\.1\.0\.1\/24 is used by no virtual_server: a gateway address of lvs-nat on eth1/);
    const vs = r.get('VirtualService', 'tcp-203-0-113-10-443');
    expect(vs.spec.directorGroup).toBe('lvs-nat');
    // no status_code: keepalived and the API both take any 2xx, so none is written.
    expect(vs.spec.healthCheck).toEqual({
      type: 'HTTPS',
      timeoutSeconds: 2,
      intervalSeconds: 5,
      fall: 2,
      rise: 1,
      retryDelaySeconds: 3,
      warmupSeconds: 5,
      http: { path: '/', digest: '9b3a0c85a887a256d6939da88aabd8cd', tlsVerify: false },
    });
    expect(r.all('RealServer').map((x) => x.spec.port)).toEqual([8443, 8443]);
    expectFinding(r, `${c}/nat-gateway.conf`, 12, 'error', /notify_master is not carried/);
    // keepalived's priority does not follow health: ours would drop it by default, so 0 is written.
    expect(g.spec.vrrp).toMatchObject({ trackInterfaces: [{ name: 'eth1', weight: 0 }], unhealthyPriorityDrop: 0 });
  });

  it('virtual_server_group ranges become one VirtualService per address and port; fwmark DR ports are cleared', () => {
    const r = importFixture(`${c}/fwmark-groups.conf`);
    const web = r.all('VirtualService').filter((v) => v.spec.backends.realServerSelector.matchLabels['lvs.dev/imported-from'] === 'vsg-web-udp');
    expect(web.map((v) => `${v.spec.vip}:${v.spec.port}`)).toEqual(['10.0.0.1:80', '10.0.0.2:80', '10.0.0.3:80', '10.0.0.1:8080']);
    // No protocol: keepalived 2.2.7 programs UDP services (checked in the lab), so does the import.
    expect(web[0]?.spec).toMatchObject({ protocol: 'UDP', scheduler: 'sh', schedulerFlags: ['sh-port'], forwarding: { method: 'DR' } });
    expectFinding(r, `${c}/fwmark-groups.conf`, 23, 'warning', /no protocol: keepalived programs a UDP service/);
    expect(r.all('RealServer').filter((x) => x.metadata.labels?.['lvs.dev/imported-from'] === 'vsg-web-udp').map((x) => x.spec.port)).toEqual([undefined, undefined]);
    expectFinding(r, `${c}/fwmark-groups.conf`, 27, 'warning', /port 80 differs from the service port under DR/);
    const fwm7 = r.get('VirtualService', 'fwm-7');
    expect(fwm7.spec).toMatchObject({ fwmark: 7, persistence: { timeoutSeconds: 600 }, fwmarkVIPs: ['10.0.0.50'], healthCheck: { type: 'None' } });
    expect(r.get('RealServer', 'fwm-7-tcp-10-0-1-1-443').spec.port).toBeUndefined();
    expectFinding(r, `${c}/fwmark-groups.conf`, 45, 'info', /port 443 is cleared under a fwmark DR service/);
    expectFinding(r, `${c}/fwmark-groups.conf`, 45, 'info', /no checker: keepalived keeps this real server up/);
    // A NAT fwmark real server keeps its port.
    expect(r.get('VirtualService', 'fwm-5').spec.forwarding).toEqual({ method: 'NAT' });
    expect(r.get('RealServer', 'vsg-marked-tcp-10-0-1-3-80').spec.port).toBe(80);
  });

  it('HTTP_GET with several urls, status ranges, a regex, connect_port and warmup; per-server checks stay per server', () => {
    const r = importFixture(`${c}/http-multi-url.conf`);
    const vs = r.get('VirtualService', 'tcp-198-51-100-5-80');
    expect(vs.spec.healthCheck).toEqual({ type: 'None' });
    const one = r.get('RealServer', 'tcp-198-51-100-5-80-10-2-0-1-8080');
    expect(one.spec.healthCheck).toEqual({
      type: 'HTTP',
      port: 8081,
      intervalSeconds: 15,
      timeoutSeconds: 4,
      fall: 4,
      rise: 1,
      retryDelaySeconds: 5,
      warmupSeconds: 15,
      http: {
        urls: [
          { path: '/index.html', digest: '640205b7b0fc66c1ea91c463fac6334d' },
          { path: '/api/health', expectedStatus: ['200-299', 301], regex: 'OK' },
        ],
        host: 'www.example.com',
      },
    });
    expectFinding(r, `${c}/http-multi-url.conf`, 23, 'warning', /nb_get_retry is deprecated/);
    expectFinding(r, `${c}/http-multi-url.conf`, 19, 'info', /regex is matched by JavaScript regular expressions/);
    const two = r.get('RealServer', 'tcp-198-51-100-5-80-10-2-0-2-8080');
    expect(two.spec.healthCheck).toMatchObject({ fall: 2, retryDelaySeconds: 3, warmupSeconds: 10 });
    expect(two.spec.healthCheck.http).toEqual({ path: '/index.html', expectedStatus: [200, 204], host: 'static.example.com' });
  });

  it('UDP DNS: ops, DNS_CHECK with keepalived\'s retry 3 and no retry delay, a UDP_CHECK payload from hex', () => {
    const r = importFixture(`${c}/dns-udp.conf`);
    const vs = r.get('VirtualService', 'udp-192-0-2-53-53');
    expect(vs.spec).toMatchObject({ protocol: 'UDP', onePacket: true, forwarding: { method: 'DR' } });
    expect(r.get('RealServer', 'udp-192-0-2-53-53-192-0-2-61-53').spec.healthCheck).toEqual({
      type: 'DNS',
      intervalSeconds: 5,
      timeoutSeconds: 2,
      fall: 4,
      rise: 1,
      warmupSeconds: 5,
      dns: { queryType: 'A', queryName: 'example.com' },
    });
    const udp = r.get('RealServer', 'udp-192-0-2-53-53-192-0-2-62-53').spec.healthCheck;
    expect(udp).toMatchObject({ type: 'UDP', timeoutSeconds: 2, intervalSeconds: 5, udp: { encoding: 'Base64', expect: 'AAE=' } });
    expect(Buffer.from(udp.udp.payload, 'base64').subarray(12, 21).toString('latin1')).toBe('\x07example\x03');
  });

  it('MISC_CHECK is refused with its reason; SMTP_CHECK with TCP_CHECK become two checks that must both pass; PING_CHECK', () => {
    const r = importFixture(`${c}/misc-check.conf`);
    expectFinding(r, `${c}/misc-check.conf`, 10, 'error', /MISC_CHECK is not carried: directors run no user scripts/);
    expectFinding(r, `${c}/misc-check.conf`, 9, 'error', /none of its checkers is carried: the real server gets type None/);
    expectFinding(r, `${c}/misc-check.conf`, 26, 'error', /notify_down is not carried/);
    expectFinding(r, `${c}/misc-check.conf`, 7, 'error', /quorum_up is not carried/);
    expect(r.get('RealServer', 'tcp-192-0-2-80-25-10-3-0-1-25').spec.healthCheck).toEqual({ type: 'None' });
    const two = r.get('RealServer', 'tcp-192-0-2-80-25-10-3-0-2-25').spec;
    expect(two.healthCheck).toBeUndefined();
    expect(two.healthChecks).toMatchObject([
      { type: 'SMTP', smtp: { helo: 'mail.example.com' }, intervalSeconds: 20, timeoutSeconds: 5 },
      { type: 'TCP', timeoutSeconds: 3, intervalSeconds: 20 },
    ]);
    expect(r.get('RealServer', 'tcp-192-0-2-80-25-10-3-0-3-25').spec.healthCheck).toMatchObject({ type: 'Ping', intervalSeconds: 20, fall: 2 });
  });

  it('includes: globs relative to the including file, nested, and one matching nothing', () => {
    const r = importFixture(`${c}/includes/keepalived.conf`);
    const g = r.get('DirectorGroup', 'edge');
    expect(g.spec).toMatchObject({ interface: 'bond0', vrrp: { version: 3, advertIntervalMs: 500, priority: 120 } });
    expect(r.get('VirtualService', 'udp-192-0-2-40-80').spec.forwarding).toEqual({ method: 'TUN', tunnelType: 'gue', tunnelPort: 6080 });
    const v6 = r.get('VirtualService', 'udp-2001-db8-10-443');
    expect(v6.spec.persistence).toEqual({ timeoutSeconds: 360, netmask: 64 });
    expectFinding(r, `${c}/includes/services/v6.inc`, 4, 'info', /persistence_timeout without a value is keepalived's 360 s/);
    expectFinding(r, `${c}/includes/keepalived.conf`, 7, 'warning', /include missing\/\*\.conf: no file matches/);
    // Findings name the included file and its line: the router id pinned to the instance's first address.
    expect(r.findings.some((f) => f.file === `${'test/unit/import/fixtures'}/${c}/includes/conf.d/10-vrrp.conf` && f.line === 8 && /virtual_router_id 20 is pinned to 2001:db8::10/.test(f.message))).toBe(true);
    expect(g.spec.vrrp.routerIds).toEqual([{ address: '2001:db8::10', vrid: 20 }]);
    // keepalived drops the IPv4 address of this IPv6 instance; its service VIP is then held by no instance.
    expectFinding(r, `${c}/includes/conf.d/10-vrrp.conf`, 9, 'warning', /192\.0\.2\.40 is ignored by keepalived \(address family must match VRRP instance/);
    expectFinding(r, `${c}/includes/services/web.conf`, 1, 'warning', /VIP 192\.0\.2\.40 is in no vrrp_instance's virtual_ipaddress/);
  });

  it('deprecated keywords: lvs_sched, lb_kind, nat_mask, nb_get_retry in HTTP_GET, lvs_sync_daemon_interface', () => {
    const r = importFixture(`${c}/deprecated.conf`);
    const vs = r.get('VirtualService', 'tcp-192-0-2-30-80');
    expect(vs.spec).toMatchObject({ scheduler: 'wrr', forwarding: { method: 'NAT' } });
    expect(vs.spec.healthCheck).toMatchObject({ type: 'HTTP', fall: 3, intervalSeconds: 6, timeoutSeconds: 5 });
    expectFinding(r, `${c}/deprecated.conf`, 20, 'error', /unknown keyword 'nat_mask'/);
    expectFinding(r, `${c}/deprecated.conf`, 28, 'warning', /nb_get_retry is deprecated/);
    expect(r.get('DirectorGroup', 'old-lvs').spec.sync).toEqual({ enabled: true, interface: 'eth0', syncId: 30 });
    expect(r.get('DirectorGroup', 'old-lvs').spec.vrrp.advertIntervalMs).toBe(3000);
  });

  it('values the API refuses: adjusted with a warning as keepalived would run them, or not emitted with the reason', () => {
    const r = importFixture(`${c}/refused-values.conf`);
    const f = `${c}/refused-values.conf`;
    expect(r.get('DirectorGroup', 'imported').spec.vrrp).toMatchObject({ priority: 254, advertIntervalMs: 1000 });
    expect(r.get('DirectorGroup', 'imported').spec.vrrp.authSecretRef).toBeUndefined();
    expectFinding(r, f, 5, 'warning', /priority 255 \(address owner\) is 254/);
    expectFinding(r, f, 7, 'error', /auth_type AH is not carried/);
    // No protocol: UDP, as keepalived 2.2.7 programs it, so ops stays; the granularity alone makes it persistent (360 s).
    const vs = r.get('VirtualService', 'udp-192-0-2-70-80');
    expect(vs.spec).toMatchObject({ protocol: 'UDP', onePacket: true, scheduler: 'wlc', quorum: { weight: 2, hysteresis: 1 }, sorryServer: { address: '192.0.2.99' } });
    expect(vs.spec.persistence).toEqual({ timeoutSeconds: 360, netmask: '255.255.0.0' });
    expect(vs.spec.sorryServer.port).toBeUndefined();
    expectFinding(r, f, 15, 'warning', /no protocol: keepalived programs a UDP service/);
    expectFinding(r, f, 16, 'error', /lb_algo 'fancy' is not an IPVS scheduler/);
    expectFinding(r, f, 22, 'info', /persistence_granularity 255\.255\.0\.0 without persistence_timeout: keepalived makes the service persistent with its default 360 s/);
    expectFinding(r, f, 20, 'warning', /hysteresis 3 is not less than quorum 2/);
    expectFinding(r, f, 21, 'warning', /sorry_server port 8080 under DR/);
    expectFinding(r, f, 24, 'error', /weight '70000' must be 0\.\.65535/);
    expectFinding(r, f, 27, 'warning', /connect_timeout 2\.5 s rounded up to 3/);
    const rs1 = r.get('RealServer', 'udp-192-0-2-70-80-10-5-0-1-8080');
    expect(rs1.spec).toMatchObject({ weight: 1, upperThreshold: 100, lowerThreshold: 10 });
    // Its one real server left, the check is the service's.
    expect(vs.spec.healthCheck).toMatchObject({ type: 'TCP', timeoutSeconds: 3, intervalSeconds: 4 });
    // The kernel refuses lthreshold above uthreshold (none: 0): keepalived never has this real server.
    expect(r.all('RealServer').map((x) => x.spec.address)).toEqual(['10.5.0.1']);
    expectFinding(r, f, 32, 'error', /lthreshold 5 above uthreshold 0: the kernel refuses the real server/);
    expectFinding(r, f, 36, 'error', /port 0 \(a service of every port\) is not carried/);
    // keepalived ignores a virtual_server without real servers (the API refusing a sorry server: keepalived-lab.test.ts).
    expect(r.all('VirtualService').map((v) => v.metadata.name)).toEqual(['udp-192-0-2-70-80']);
    expectFinding(r, f, 39, 'error', /virtual_server without real servers: keepalived ignores it/);
    expectFinding(r, f, 43, 'error', /unknown keyword 'some_new_block'/);
  });

  it('parameter substitution is applied; conditional lines are reported and skipped', () => {
    const r = importFixture(`${c}/substitution.conf`);
    expect(r.get('DirectorGroup', 'imported').spec.interface).toBe('eth2');
    expect(r.get('VirtualService', 'udp-192-0-2-90-80').spec.directorGroup).toBe('imported');
    expectFinding(r, `${c}/substitution.conf`, 7, 'error', /conditional line \(@lb1\) skipped/);
    expectFinding(r, `${c}/substitution.conf`, 8, 'error', /conditional line \(@\^lb1\) skipped/);
    // The VIP came through substitution, so it is held: no "used by no virtual_server" finding.
    expect(r.findings.some((x) => /used by no virtual_server/.test(x.message))).toBe(false);
  });

  it('an ipvsadm -S -n dump: every protocol, fwmark, persistence, thresholds, tunnels and IPv6', () => {
    const r = importFixture(`${c}/ipvsadm-save.txt`);
    const f = `${c}/ipvsadm-save.txt`;
    expect(r.get('VirtualService', 'tcp-192-0-2-100-80').spec).toMatchObject({ scheduler: 'wlc', persistence: { timeoutSeconds: 300, netmask: '255.255.255.0' }, forwarding: { method: 'DR' }, healthCheck: { type: 'None' } });
    expect(r.get('RealServer', 'tcp-192-0-2-100-80-10-7-0-2-80').spec).toEqual({ address: '10.7.0.2', weight: 0, upperThreshold: 1000, lowerThreshold: 800 });
    expect(r.get('VirtualService', 'udp-192-0-2-100-53').spec).toMatchObject({ protocol: 'UDP', onePacket: true, forwarding: { method: 'NAT' } });
    expect(r.get('RealServer', 'udp-192-0-2-100-53-10-7-0-1-5353').spec.port).toBe(5353);
    expect(r.get('VirtualService', 'sctp-192-0-2-100-3868').spec).toMatchObject({
      protocol: 'SCTP',
      schedulerFlags: ['sh-port', 'sh-fallback'],
      forwarding: { method: 'TUN', tunnelType: 'gue', tunnelPort: 6080, tunnelFlags: ['nocsum'] },
    });
    expect(r.get('VirtualService', 'fwm-10').spec).toMatchObject({ fwmark: 10, addressFamily: 'IPv6' });
    expect(r.get('RealServer', 'fwm-10-2001-db8-4-0').spec.address).toBe('2001:db8::4');
    expect(r.get('RealServer', 'tcp-2001-db8-100-443-2001-db8-5-8443').spec).toMatchObject({ port: 8443, weight: 2 });
    expectFinding(r, f, 15, 'error', /was not added before/);
    expectFinding(r, f, 1, 'warning', /no vrrp_instance: one DirectorGroup on interface eth0/);
  });

  it('ipvsadm -b flag-1/flag-2 are the fallback/port bits of sh or mh; flags a scheduler does not read are dropped with a warning', () => {
    const dump = ['-A -t 192.0.2.1:80 -s mh -b flag-1,flag-2', '-A -t 192.0.2.2:80 -s rr -b sh-port', '-A -t 192.0.2.3:80 -s sh -b flag-2'].join('\n');
    const r = importConfig('-', { namespace: 'x', stdin: `${dump}\n` });
    const spec = (name: string) => r.objects.find((o) => o.metadata.name === name)?.spec as Record<string, unknown> | undefined;
    expect(spec('tcp-192-0-2-1-80')?.schedulerFlags).toEqual(['mh-fallback', 'mh-port']);
    expect(spec('tcp-192-0-2-2-80')).toBeDefined();
    expect(spec('tcp-192-0-2-2-80')?.schedulerFlags).toBeUndefined();
    expect(spec('tcp-192-0-2-3-80')?.schedulerFlags).toEqual(['sh-port']);
    expect(r.findings).toContainEqual(expect.objectContaining({ level: 'warning', line: 2, message: '-b sh-port is not carried: scheduler rr does not read it' }));
    for (const o of r.objects) expect(parseLvsObject(o).ok).toBe(true);
  });

  it('the kernel parity configuration imports without errors: a range, an unchecked server, a cleared fwmark port', () => {
    const r = importFixture(`${c}/kernel-parity.conf`);
    expect(r.findings.filter((f) => f.level === 'error')).toEqual([]);
    expect(r.all('VirtualService').map((v) => v.metadata.name)).toEqual(['tcp-10-78-1-1-80', 'tcp-10-78-1-2-80', 'fwm-9', 'tcp-10-78-1-3-8080']);
    expect(r.get('RealServer', 'vsg-web-tcp-10-78-0-13-80').spec.healthCheck).toEqual({ type: 'None' });
    expect(r.get('RealServer', 'fwm-9-tcp-10-78-0-11-8080').spec.port).toBeUndefined();
    expect(r.get('VirtualService', 'fwm-9').spec.healthCheck).toMatchObject({ type: 'HTTP', port: 8080, fall: 1, intervalSeconds: 2, timeoutSeconds: 1 });
  });
});
