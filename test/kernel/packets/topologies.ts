// The three LVS forwarding topologies from the seed articles, built in the lab kernel with the root
// namespace as the director. Each returns the client namespace, the VIP and the real servers' addresses.
import { Topology, rootNs, type Netns } from '../../lab/netns.js';
import { startNameServer, type RunningServer } from '../../lab/servers.js';

export interface LvsLab {
  topo: Topology;
  client: Netns;
  vip: string;
  realServers: { ns: Netns; address: string; name: string }[];
  servers: RunningServer[];
  destroy(): Promise<void>;
}

async function withServers(topo: Topology, client: Netns, vip: string,
  realServers: LvsLab['realServers'], listen: string, port: number): Promise<LvsLab> {
  const servers: RunningServer[] = [];
  for (const rs of realServers) servers.push(await startNameServer(rs.ns, listen, port, rs.name));
  return {
    topo, client, vip, realServers, servers,
    async destroy() {
      for (const s of servers) await s.stop();
      await topo.destroy();
    },
  };
}

/** NAT: client and real servers on separate subnets, the director routes and rewrites (port 80 -> 8080). */
export async function natLab(): Promise<LvsLab> {
  const topo = new Topology('nat');
  const client = await topo.ns('c');
  await topo.veth(rootNs, 'nat-d0', client, 'nat-c0');
  await rootNs.addr('nat-d0', '10.201.1.1/24');
  await rootNs.addr('nat-d0', '10.201.1.100/32');
  await client.addr('nat-c0', '10.201.1.2/24');
  await rootNs.sysctl('net.ipv4.ip_forward', 1);
  const realServers: LvsLab['realServers'] = [];
  for (const i of [1, 2]) {
    const ns = await topo.ns(`r${i}`);
    await topo.veth(rootNs, `nat-d${i}`, ns, `nat-r${i}`);
    await rootNs.addr(`nat-d${i}`, `10.201.${i + 1}.1/24`);
    await ns.addr(`nat-r${i}`, `10.201.${i + 1}.11/24`);
    await ns.ip('route', 'add', 'default', 'via', `10.201.${i + 1}.1`);
    realServers.push({ ns, address: `10.201.${i + 1}.11`, name: `rs${i}` });
  }
  return withServers(topo, client, '10.201.1.100', realServers, '0.0.0.0', 8080);
}

/** One L2 segment (a bridge in the director's namespace) holding the client and the real servers. */
async function sharedSegment(prefix: string, subnet: string): Promise<{ topo: Topology; client: Netns; vip: string; rs: LvsLab['realServers'] }> {
  const topo = new Topology(prefix);
  const br = `${prefix}-br`;
  await topo.bridge(rootNs, br);
  await rootNs.addr(br, `${subnet}.1/24`);
  const vip = `${subnet}.100`;
  await rootNs.addr(br, `${vip}/32`);
  const client = await topo.ns('c');
  await topo.veth(rootNs, `${prefix}-hc`, client, `${prefix}-c0`);
  await topo.attach(rootNs, `${prefix}-hc`, br);
  await client.addr(`${prefix}-c0`, `${subnet}.2/24`);
  const rs: LvsLab['realServers'] = [];
  for (const i of [1, 2]) {
    const ns = await topo.ns(`r${i}`);
    await topo.veth(rootNs, `${prefix}-h${i}`, ns, `${prefix}-r${i}`);
    await topo.attach(rootNs, `${prefix}-h${i}`, br);
    await ns.addr(`${prefix}-r${i}`, `${subnet}.${10 + i}/24`);
    rs.push({ ns, address: `${subnet}.${10 + i}`, name: `rs${i}` });
  }
  return { topo, client, vip, rs };
}

/** DR: real servers hold the VIP on lo and neither answer nor announce ARP for it. */
export async function drLab(): Promise<LvsLab> {
  const { topo, client, vip, rs } = await sharedSegment('dr', '10.202.0');
  for (const [i, r] of rs.entries()) {
    await r.ns.addr('lo', `${vip}/32`);
    for (const dev of ['all', `dr-r${i + 1}`]) {
      await r.ns.sysctl(`net.ipv4.conf.${dev}.arp_ignore`, 1);
      await r.ns.sysctl(`net.ipv4.conf.${dev}.arp_announce`, 2);
    }
  }
  return withServers(topo, client, vip, rs, '0.0.0.0', 80);
}

/** TUN: real servers decapsulate IPIP on tunl0, which holds the VIP; reverse-path filtering off. */
export async function tunLab(): Promise<LvsLab> {
  const { topo, client, vip, rs } = await sharedSegment('tun', '10.203.0');
  for (const [i, r] of rs.entries()) {
    await r.ns.up('tunl0');
    await r.ns.addr('tunl0', `${vip}/32`);
    for (const dev of ['all', 'tunl0', `tun-r${i + 1}`]) await r.ns.sysctl(`net.ipv4.conf.${dev}.rp_filter`, 0);
    for (const dev of ['all', `tun-r${i + 1}`]) {
      await r.ns.sysctl(`net.ipv4.conf.${dev}.arp_ignore`, 1);
      await r.ns.sysctl(`net.ipv4.conf.${dev}.arp_announce`, 2);
    }
  }
  return withServers(topo, client, vip, rs, '0.0.0.0', 80);
}
