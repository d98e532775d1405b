// One Ethernet segment for VRRP tests: a bridge in the lab's root namespace with two router
// namespaces (a, b) and a client (c), each on a veth whose root end is a bridge port.
import { Topology, rootNs, type Netns } from '../../lab/netns.js';
import { waitUntil } from './routers.js';

export interface LanNode {
  ns: Netns;
  /** Interface name inside the namespace. */
  dev: string;
  /** The bridge port in the root namespace (set it down to cut this node off). */
  port: string;
  ipv4: string;
  ipv6: string;
  mac: string;
}

export interface VrrpLan {
  topo: Topology;
  a: LanNode;
  b: LanNode;
  client: LanNode;
  destroy(): Promise<void>;
}

/** `prefix` (<= 4 chars) names the namespaces and links; `n` picks 10.22n.0.0/24 and fd00:22n::/64. */
export async function vrrpLan(prefix: string, n: number): Promise<VrrpLan> {
  const topo = new Topology(prefix);
  const br = `${prefix}-br`;
  await topo.bridge(rootNs, br);
  // No MLD/IGMP snooping: ff02::12 must reach every port whatever reports were seen.
  await rootNs.ip('link', 'set', br, 'type', 'bridge', 'mcast_snooping', '0');
  const node = async (name: string, host: number): Promise<LanNode> => {
    const ns = await topo.ns(name);
    // Addresses usable at once: no duplicate address detection on this private segment.
    await ns.sysctl('net.ipv6.conf.default.accept_dad', 0);
    await ns.sysctl('net.ipv6.conf.all.accept_dad', 0);
    const dev = `${prefix}-${name}0`;
    const port = `${prefix}-h${name}`;
    await topo.veth(ns, dev, rootNs, port);
    await topo.attach(rootNs, port, br);
    const ipv4 = `10.22${n}.0.${host}`;
    const ipv6 = `fd00:22${n}::${host}`;
    await ns.addr(dev, `${ipv4}/24`);
    await ns.ip('-6', 'addr', 'add', `${ipv6}/64`, 'dev', dev, 'nodad');
    const mac = JSON.parse((await ns.ip('-j', 'link', 'show', dev)).stdout)[0].address as string;
    return { ns, dev, port, ipv4, ipv6, mac };
  };
  const a = await node('a', 1);
  const b = await node('b', 2);
  const client = await node('c', 9);
  // Link-local addresses (VRRPv3 IPv6 sources) must have left the tentative state.
  for (const x of [a, b, client]) {
    await waitUntil(`${x.dev} link-local`, async () => {
      const out = (await x.ns.ip('-6', 'addr', 'show', 'dev', x.dev, 'scope', 'link')).stdout;
      return out.includes('fe80::') && !out.includes('tentative');
    }, 10_000, 100);
  }
  return { topo, a, b, client, destroy: () => topo.destroy() };
}

/** Is `address` configured on `dev` in `ns`? */
export async function hasAddress(node: LanNode, address: string): Promise<boolean> {
  const j = JSON.parse((await node.ns.ip('-j', 'addr', 'show', 'dev', node.dev)).stdout) as { addr_info: { local: string }[] }[];
  return j.some((l) => l.addr_info.some((x) => x.local === address));
}

/** The MAC the client's neighbour table holds for `ip`, if any. */
export async function neighbourMac(node: LanNode, ip: string): Promise<string | undefined> {
  const j = JSON.parse((await node.ns.ip('-j', 'neigh', 'show', ip, 'dev', node.dev)).stdout) as { lladdr?: string }[];
  return j[0]?.lladdr;
}

/** Waits until exactly `holder` of the two routers has `vip`. */
export async function waitVip(lan: VrrpLan, vip: string, holder: 'a' | 'b', timeoutMs: number): Promise<number> {
  const other = holder === 'a' ? lan.b : lan.a;
  await waitUntil(`${vip} only on ${holder}`,
    async () => (await hasAddress(lan[holder], vip)) && !(await hasAddress(other, vip)), timeoutMs, 25);
  return Date.now();
}

/** Makes `node` resolve `ip` through ARP / neighbour discovery: a TCP connection attempt (no ping in the lab). */
export async function clientResolves(node: LanNode, ip: string): Promise<void> {
  const script = `const s=require('net').connect(9,${JSON.stringify(ip)});const q=()=>process.exit(0);s.on('connect',q);s.on('error',q);setTimeout(q,2000)`;
  await node.ns.exec(process.execPath, ['-e', script]);
}
