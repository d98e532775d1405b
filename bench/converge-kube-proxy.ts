// `npm run bench:converge -- --peer kube-proxy [--virtualservices N --backends M --samples K]`:
// our agent and kube-proxy in IPVS mode (v1.36, built from the k8s.io/kubernetes Go module like
// the lab's API server) side by side, in the same director kernel, serving the same N LoadBalancer
// Services, each with one EndpointSlice of M ready endpoints (fixed addresses, no pods: the
// slices are written as an EndpointSlice controller would, and none runs).
//   - our controller gives each Service its address from an AddressPool and derives its
//     VirtualService; our agent programs them in the kernel's initial network namespace;
//   - kube-proxy runs in network namespace `kp` of the same kernel (a veth to the initial one and
//     source NAT to the LAN: its IPVS table, its kube-ipvs0 addresses, ipsets and iptables rules
//     are its own, so neither side can touch the other's services), with its default IPVS sync
//     settings. It also programs every Service's ClusterIP; both sides are compared on the
//     LoadBalancer addresses (status.loadBalancer.ingress: the same VIP:port in both tables).
// Times, for both sides from the same creates: full convergence (first create until the side's
// table has every VIP:port with its M destinations; also counted from the last create), then K
// changes of one endpoint (ready false/true in its EndpointSlice), each timed inside the director
// kernel on one clock until each side's table has it (bench/endpoint-latency.ts).
// Returns the JSON object that bench/converge.ts prints.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { KubeHttp, makeClients, type KubeClients } from '../src/kube/index.js';
import { fromKubeconfigFile } from '../src/kube/config.js';
import { labKernel } from '../test/lab/kernel.js';
import { createEnvForBench } from './converge-env.js';
import { percentile, pool, portOf, realServerAddress, sleep, vipOf } from './shapes.js';

export interface KubeProxyPeerOptions {
  virtualservices: number;
  backends: number;
  samples: number;
  log: (s: string) => void;
}


// What kube-proxy is given: its defaults for IPVS, except what running in a network namespace of
// the lab needs (nf_conntrack_max is the kernel's, not a namespace's: left as it is, as the lab's
// kubelet nodes do), and the node it runs as.
const kubeProxySettings = {
  mode: 'ipvs',
  'ipvs.scheduler': 'rr (default)',
  'ipvs.syncPeriod': '30s (default)',
  'ipvs.minSyncPeriod': '1s (default)',
  'conntrack.maxPerCore': '0 (leave nf_conntrack_max as the kernel has it)',
  'hostname-override': 'd1',
  'bind-address': '192.168.247.2 (its node IP in netns kp; the bench Node has no addresses)',
  ipFamilies: 'IPv4 only (ip6tables hidden from it: the lab kernel lacks ip6t_REJECT)',
  where: 'network namespace kp of the director kernel (veth + source NAT to the lab LAN for the API server)',
};

export async function kubeProxyPeer(o: KubeProxyPeerOptions): Promise<Record<string, unknown>> {
  const { virtualservices: services, backends, samples, log } = o;
  // A VIP needs a VRRP router id, so services share 50 VIPs on many ports (as bench/converge.ts).
  const rsOf = realServerAddress(backends);
  const want = services * backends;
  const env = await createEnvForBench(log, {
    name: process.env.LVS_BENCH_LAB ?? 'bench',
    subnet: process.env.LVS_BENCH_SUBNET ?? '10.249.0',
    // One ClusterIP per Service (kube-proxy serves them too): the default /24 holds 254.
    serviceClusterIpRange: '10.96.0.0/16',
  });
  try {
    const c: KubeClients = makeClients(new KubeHttp(await fromKubeconfigFile(env.kubeconfig)));
    const d1 = env.director;
    const nodeDir = join(env.dir, 'nodes', 'd1');
    const kpLog = join(nodeDir, 'kube-proxy.log');

    const pool50 = { apiVersion: 'lvs.dev/v1alpha1', kind: 'AddressPool', metadata: { name: 'bench' }, spec: { addresses: ['10.252.0.1-10.252.0.50'], directorGroup: 'bench' } };
    await c.addressPools.create(pool50 as never);

    log('starting kube-proxy (IPVS mode) in network namespace kp of the director kernel');
    const bin = join(env.binDir, 'kube-proxy');
    await d1.exec([
      'ip netns add kp', 'ip -n kp link set lo up',
      'ip link add kp0 type veth peer name eth0 netns kp',
      'ip addr add 192.168.247.1/30 dev kp0', 'ip link set kp0 up',
      'ip -n kp addr add 192.168.247.2/30 dev eth0', 'ip -n kp link set eth0 up',
      'ip -n kp route add default via 192.168.247.1',
      'sysctl -qw net.ipv4.ip_forward=1',
      'iptables -t nat -A POSTROUTING -s 192.168.247.0/30 -o eth0 -j MASQUERADE',
      // IPv4 only, as on a node without ip6tables: the lab kernel lacks ip6t_REJECT
      // (CONFIG_IP6_NF_TARGET_REJECT), so a dual-stack kube-proxy's IPv6 half fails every sync.
      'mkdir -p /run/kp-no-ip6', 'for c in ip6tables ip6tables-save ip6tables-restore ip6tables-nft ip6tables-legacy; do ln -sf /bin/false /run/kp-no-ip6/$c; done',
      `(PATH=/run/kp-no-ip6:$PATH ip netns exec kp setsid ${JSON.stringify(bin)} --proxy-mode=ipvs --kubeconfig=${JSON.stringify(env.labKubeconfig)} --hostname-override=d1 --bind-address=192.168.247.2 --conntrack-max-per-core=0 --v=1 > ${JSON.stringify(kpLog)} 2>&1 < /dev/null &)`,
    ].join(' && '));
    const kpUp = Date.now();
    // Ready once it has synced: healthz answers 200, and the API server's own Service is in its table.
    while (!(await d1.exec("ip netns exec kp curl -sf -o /dev/null http://127.0.0.1:10256/healthz && ip netns exec kp ipvsadm -Ln -t 10.96.0.1:443 >/dev/null 2>&1 && echo up || true")).includes('up')) {
      if (Date.now() - kpUp > 180_000) throw new Error(`kube-proxy did not come up in 3 min; its log ends:\n${readFileSync(kpLog, 'utf8').slice(-3000)}`);
      await sleep(1000);
    }
    log(`kube-proxy serving ${Date.now() - kpUp} ms after its start`);
    // kube-proxy's own account of its syncs (each one rewrites its whole IPVS, ipset and iptables
    // state): its histogram kubeproxy_sync_proxy_rules_duration_seconds.
    const kpSyncs = async (): Promise<{ sum: number; count: number }> => {
      const m = await d1.exec('ip netns exec kp curl -sf http://127.0.0.1:10249/metrics | grep "^kubeproxy_sync_proxy_rules_duration_seconds_[sc]" || true');
      return { sum: Number(/_sum(?:\{[^}]*\})? (\S+)/.exec(m)?.[1] ?? NaN), count: Number(/_count(?:\{[^}]*\})? (\S+)/.exec(m)?.[1] ?? NaN) };
    };
    const syncWindow = (a: { sum: number; count: number }, b: { sum: number; count: number }) =>
      ({ syncs: b.count - a.count, mean_sync_ms: b.count > a.count ? Math.round(((b.sum - a.sum) / (b.count - a.count)) * 1000) : null });

    const svcObjs = Array.from({ length: services }, (_, i) => ({
      apiVersion: 'v1', kind: 'Service',
      metadata: {
        name: `svc-${i}`, namespace: 'bench',
        // The bench's VIPs and ports, the table of bench/converge.ts: DR (so the endpoints listen
        // on the Service's port), no health checks (the endpoints are addresses without hosts), rr
        // as kube-proxy schedules.
        annotations: { 'lvs.dev/load-balancer-ips': vipOf(i), 'lvs.dev/allow-shared-ip': 'bench', 'lvs.dev/health-check': 'none', 'lvs.dev/forwarding': 'DR', 'lvs.dev/scheduler': 'rr' },
      },
      // No NodePorts: 10,000 Services would not fit the NodePort range, and neither side needs them.
      spec: { type: 'LoadBalancer', loadBalancerClass: 'lvs.dev/ipvs', allocateLoadBalancerNodePorts: false, ports: [{ name: 'http', port: portOf(i), targetPort: portOf(i), protocol: 'TCP' }] },
    }));
    const sliceObjs = Array.from({ length: services }, (_, i) => ({
      apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
      metadata: { name: `svc-${i}-bench`, namespace: 'bench', labels: { 'kubernetes.io/service-name': `svc-${i}`, 'endpointslice.kubernetes.io/managed-by': 'bench.lvs.dev' } },
      addressType: 'IPv4',
      ports: [{ name: 'http', port: portOf(i), protocol: 'TCP' }],
      endpoints: Array.from({ length: backends }, (_, j) => ({ addresses: [rsOf(i, j)], conditions: { ready: true } })),
    }));

    log(`creating ${services} LoadBalancer Services, each with an EndpointSlice of ${backends} ready endpoints`);
    const syncsBefore = await kpSyncs();
    const t0 = Date.now();
    await pool(sliceObjs, 32, (s) => c.endpointSlices.create(s as never));
    await pool(svcObjs, 32, (s) => c.services.create(s as never));
    const createdMs = Date.now() - t0;
    log(`objects created in ${createdMs} ms; waiting for both tables`);

    // One script per poll reads both tables inside the kernel and stamps each with the kernel's
    // clock (the host's: UML reads it). Dumping the whole table is dear in the one-CPU kernel (and
    // slows both sides): each side's last Service first, the whole table only once that one is full.
    const last = services - 1;
    const side = (name: string, pre: string): string => [
      `n=$(${pre}ipvsadm -Ln -t ${vipOf(last)}:${portOf(last)} 2>/dev/null | grep -c -- '-> [0-9]')`,
      `if [ "$n" = ${backends} ]; then c=$(${pre}ipvsadm -Sn | grep -c '^-a -t 10[.]252[.]'); else c=0; fi`,
      `echo ${name} $c $(date +%s%3N)`,
    ].join('; ');
    const done: Record<string, number> = {};
    let lastLog = 0;
    while (done.ours === undefined || done.kp === undefined) {
      if (Date.now() - t0 > 40 * 60_000) throw new Error(`not converged after 40 min: ${JSON.stringify(done)}`);
      const script = [done.ours === undefined ? side('ours', '') : '', done.kp === undefined ? side('kp', 'ip netns exec kp ') : ''].filter(Boolean).join('; ');
      const counts: Record<string, number> = {};
      for (const line of (await d1.exec(script, 600_000)).trim().split('\n')) {
        const [name = '', count = '0', at = '0'] = line.split(' ');
        counts[name] = Number(count);
        if (Number(count) >= want && done[name] === undefined) {
          done[name] = Number(at) - t0;
          log(`${name === 'kp' ? 'kube-proxy' : 'ours'}: table complete (${want} destinations on the LoadBalancer addresses) ${done[name]} ms after the first create`);
        }
      }
      if (Date.now() - lastLog > 30_000) {
        lastLog = Date.now();
        log(`waiting: ${JSON.stringify(counts)} (0 until the last Service is complete)`);
      }
      await sleep(500);
    }

    const syncsConverged = await kpSyncs();
    log("waiting for our agent's status writes to settle before timing single changes");
    let pending = NaN;
    while ((pending = Number(/^lvs_agent_status_writes_pending (\d+)/m.exec(await d1.exec('curl -sf http://127.0.0.1:9477/metrics'))?.[1] ?? NaN)) !== 0) {
      if (Date.now() - t0 > 50 * 60_000) throw new Error(`agent still has ${pending} status writes pending`);
      await sleep(2000);
    }

    const oursSettledMs = Date.now() - t0;
    log(`our statuses settled ${oursSettledMs} ms after the first create`);
    // kube-proxy too: its table on the LoadBalancer addresses is complete before its ClusterIPs,
    // and a change waits behind what it has not yet written (a first run timed 384 s for the
    // first change). Settled: every ClusterIP with its endpoints, and one more sync finished.
    log('waiting for kube-proxy to settle: every ClusterIP programmed, then one more sync');
    while (Number((await d1.exec("ip netns exec kp ipvsadm -Sn | grep -c '^-a -t 10[.]96[.]' || true")).trim()) < want) {
      if (Date.now() - t0 > 60 * 60_000) throw new Error('kube-proxy never programmed every ClusterIP');
      await sleep(5000);
    }
    const lastSyncs = await kpSyncs();
    while ((await kpSyncs()).count <= lastSyncs.count) {
      if (Date.now() - t0 > 70 * 60_000) throw new Error('kube-proxy never synced again');
      await sleep(2000);
    }
    const kpSettledMs = Date.now() - t0;
    const syncsSettled = await kpSyncs();
    log(`kube-proxy settled ${kpSettledMs} ms after the first create`);

    log(`incremental: ${samples} changes of one endpoint (ready false/true), timed inside the director kernel`);
    const out = join(env.dir, 'endpoint-latency.txt');
    const args = [env.labKubeconfig, vipOf(0), portOf(0), rsOf(0, 0), 'svc-0-bench', 'bench', samples, 'kp', out];
    const latencyLog = join(env.dir, 'endpoint-latency.log');
    await d1.exec(`cd ${JSON.stringify(env.projectRoot)} && node --import tsx bench/endpoint-latency.ts ${args.map((a) => JSON.stringify(String(a))).join(' ')} 2>${JSON.stringify(latencyLog)}`, 4 * 60 * 60_000)
      .catch((err: Error) => { throw new Error(`${err.message}\n${readFileSync(latencyLog, 'utf8').slice(-2000)}`); });
    const syncsAfter = await kpSyncs();
    const rows = readFileSync(out, 'utf8').split('\n').filter(Boolean).map((l) => l.split(' ').map(Number));
    const ours = rows.map((r) => r[0]!).sort((a, b) => a - b);
    const kp = rows.map((r) => r[1]!).sort((a, b) => a - b);
    const rss = async (pattern: string): Promise<number> =>
      Math.round(Number(/VmRSS:\s+(\d+)/.exec(await d1.exec(`cat /proc/$(pgrep -f '${pattern}' | head -1)/status`))?.[1] ?? 0) / 1024);
    const side2 = (full: number, lat: number[]) => ({
      full_converge_ms: full, converge_after_last_create_ms: full - createdMs,
      incremental_p50_ms: percentile(lat, 50), incremental_p99_ms: percentile(lat, 99), incremental_max_ms: lat[lat.length - 1],
    });
    const oursSide = { ...side2(done.ours!, ours), settled_ms: oursSettledMs, rss_mb: await rss('^[^ ]*node .*(cli|bundle)/main[.][jt]s agent') };
    const kpSide = {
      ...side2(done.kp!, kp), settled_ms: kpSettledMs, rss_mb: await rss('kube-proxy --proxy-mode'),
      syncs_until_both_converged: syncWindow(syncsBefore, syncsConverged), syncs_while_settling: syncWindow(syncsConverged, syncsSettled),
      syncs_during_changes: syncWindow(syncsSettled, syncsAfter),
      settings: kubeProxySettings,
    };
    const ratio = (a: number, b: number): number => Math.round((a / b) * 100) / 100;
    return {
      peer: 'kube-proxy', kernel: labKernel().release, virtualservices: services, backends, destinations: want,
      objects_created_ms: createdMs, incremental_samples: rows.length,
      compared_on: 'LoadBalancer ingress VIP:port (kube-proxy also programs each ClusterIP); ours DR, kube-proxy masq; both in one director kernel, ours in its initial netns, kube-proxy in netns kp',
      ours: oursSide, kube_proxy: kpSide,
      ratio: {
        full_converge: ratio(kpSide.full_converge_ms, oursSide.full_converge_ms),
        incremental_p50: ratio(kpSide.incremental_p50_ms, oursSide.incremental_p50_ms),
        incremental_p99: ratio(kpSide.incremental_p99_ms, oursSide.incremental_p99_ms),
      },
    };
  } finally {
    await env.destroy();
  }
}
