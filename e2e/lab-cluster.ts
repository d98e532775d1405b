// The lab's cluster for the Helm e2e suite: five real nodes (test/lab/kube-site.ts) on one LAN
// and a client whose namespace is also the LAN's BGP router (real BIRD), described by a cluster
// file like any other cluster (e2e/cluster-config.ts). The suite reads only that file, so what
// runs here is what runs against any kubeconfig.
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createSite, type SiteNode } from '../test/lab/kube-site.js';
import type { Netns } from '../test/lab/netns.js';
import type { ClusterConfig } from './cluster-config.js';

const subnet = '192.168.30';
const vips = { dr: `${subnet}.100`, nat: `${subnet}.200`, loadBalancer: `${subnet}.150` };
const clientAddress = `${subnet}.50`;
/** Active-active: the VIP the directors announce (off every lab LAN: reached only by the route), their AS and the router's. */
const bgp = { vip: '203.0.113.10', localASN: 65010, routerASN: 65000 };
const directorHosts = { d1: 11, d2: 12 } as const;

const rs = (i: number): SiteNode => ({
  name: `rs-${i}`, host: 20 + i,
  // The classic LVS-NAT route, for the NAT service's pods' replies only (they serve :8080): back
  // through the directors' VIP. DR replies leave from the VIP on lo straight to the client, and so
  // do those of the externalTrafficPolicy Local pods (:8081), un-DNATed by kube-proxy on the node:
  // a director would drop either.
  setup: [`ip rule add from 10.244.0.0/16 to ${clientAddress}/32 ipproto tcp sport 8080 lookup 100`, `ip route add ${clientAddress}/32 via ${vips.nat} dev eth0 table 100`],
});

const nodes: SiteNode[] = [...Object.entries(directorHosts).map(([name, host]) => ({ name, host })), rs(1), rs(2), rs(3)];

/**
 * The LAN's router is the client's namespace: a real BIRD 2 peering with both directors (BFD on,
 * reconnect timers short, as docs/bgp.md asks of a router), installing the VIP's route over every
 * director that announces it, hashed on L4 ports. BFD at 0.5 s x 5 and BIRD's default hold time:
 * two UML kernels on two loaded cores stall for hundreds of milliseconds (docs/testing.md).
 */
function routerConfig(): string {
  return `router id ${clientAddress};
protocol device { scan time 10; }
protocol kernel { ipv4 { import none; export all; }; merge paths on; }
protocol bfd { interface "eth0" { min rx interval 500 ms; min tx interval 500 ms; multiplier 5; }; }
template bgp director {
  local ${clientAddress} as ${bgp.routerASN};
  connect delay time 1; connect retry time 2; error wait time 1, 5;
  bfd on;
  ipv4 { import all; export none; };
}
${Object.entries(directorHosts).map(([name, host]) => `protocol bgp ${name} from director { neighbor ${subnet}.${host} as ${bgp.localASN}; }`).join('\n')}
`;
}

/** Starts the router's BIRD in the client's namespace; the caller stops it (kill; the reaper kills the namespace's processes on exit). */
async function startRouter(client: Netns, dir: string): Promise<ChildProcess> {
  writeFileSync(join(dir, 'router-bird.conf'), routerConfig());
  await client.sysctl('net.ipv4.fib_multipath_hash_policy', 1);
  const [cmd, ...args] = client.command('bird', ['-f', '-c', join(dir, 'router-bird.conf'), '-s', join(dir, 'router-bird.ctl')]);
  const bird = spawn(cmd!, args, { stdio: ['ignore', 'ignore', 'inherit'] });
  await new Promise<void>((res, rej) => { bird.once('spawn', res); bird.once('error', rej); });
  return bird;
}

export interface LabClusterFile {
  /** The cluster file to hand the suite (E2E_CLUSTER). */
  path: string;
  /**
   * What the lab sees of a node without its network (its kernel process, and a script run through
   * the node's control files): for the log when its kubelet cannot be reached.
   */
  describeNode(name: string): Promise<string>;
  destroy(): Promise<void>;
}

const noNetworkView = [
  'uptime', 'ip -o link', 'ip -o addr', 'ip route', 'ip neigh',
  'sysctl net.ipv4.conf.all.arp_ignore net.ipv4.conf.all.arp_announce net.ipv4.conf.eth0.arp_ignore net.ipv4.conf.lo.arp_ignore',
  'free -m', 'ps -eo pid,stat,etime,time,rss,args --sort=-time | head -15',
].map((c) => `echo "# ${c.replace(/"/g, '')}"; ${c} 2>&1`).join('; ');

/** Boots the lab cluster and writes its cluster file; the product is not installed (the suite does that). */
export async function bootLabCluster(name: string, progress: (l: string) => void): Promise<LabClusterFile> {
  const site = await createSite({ name, subnet, nodes, client: 50, progress });
  let router: ChildProcess | undefined;
  try {
    router = await startRouter(site.client, site.lab.dir);
    // The upgrade drill's second tag: the same image, tagged in every node's containerd.
    const upgradeTag = `${site.image.tag}-upgrade`;
    for (const node of site.nodes.values()) await node.exec(`ctr -n k8s.io images tag --force ${site.image.ref} ${site.image.repository}:${upgradeTag}`);
    const config: ClusterConfig = {
      kubeconfig: site.lab.api.kubeconfigPath,
      binDir: site.lab.api.binDir,
      image: { repository: site.image.repository, tag: site.image.tag, upgradeTag, pullPolicy: 'Never' },
      // The lab's nodes are throw-away: the agent sets its sysctls itself (docs/operations.md).
      values: { agent: { privileged: true } },
      directors: ['d1', 'd2'],
      interface: 'eth0',
      vips,
      realServers: [1, 2, 3].map((i) => ({ node: `rs-${i}`, address: `${subnet}.${20 + i}` })),
      clientNetns: site.client.name ?? undefined,
      bgp: {
        vip: bgp.vip, localASN: bgp.localASN,
        peers: [{ address: clientAddress, asn: bgp.routerASN }],
        routeCommand: `ip -n ${site.client.name} route show ${bgp.vip}/32`,
      },
      faults: {
        crashNode: Object.fromEntries(['d1', 'd2'].map((d) => [d, `/bin/kill -s KILL -- -${site.nodes.get(d)!.uml.pid}`])),
        apiDown: `ip link set ${site.lab.hostLinkName} down`,
        apiUp: `ip link set ${site.lab.hostLinkName} up`,
      },
    };
    const path = join(site.lab.dir, 'e2e-cluster.json');
    writeFileSync(path, JSON.stringify(config, null, 2));
    const describeNode = async (name: string): Promise<string> => {
      const node = site.nodes.get(name);
      if (!node) return `no lab node ${name}`;
      let alive = true;
      try { process.kill(node.uml.pid, 0); } catch { alive = false; }
      const head = `lab node ${name}: kernel process ${node.uml.pid} ${alive ? 'running' : 'gone'}; its last console line: ${node.uml.cause()} (console: ${node.uml.logDir}/console.log)`;
      if (!alive) return head;
      return `${head}\n${await node.exec(noNetworkView, 20_000).catch((e: Error) => `the node did not run a script either: ${e.message}`)}`;
    };
    return { path, describeNode, destroy: async () => { router?.kill('SIGKILL'); await site.destroy(); } };
  } catch (err) {
    router?.kill('SIGKILL');
    await site.destroy();
    throw err;
  }
}
