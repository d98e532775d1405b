// One Ethernet segment for VRRP tests: a bridge in the lab's root namespace with two router
// namespaces (a, b) and a client (c), each on a veth whose root end is a bridge port.
// (Not test/lab/netns.ts's Topology: that runs a process per step, and here steps are many.)
import { run, sh, type ExecResult } from '../../lab/inside.js';
import { Netns } from '../../lab/netns.js';
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

/**
 * `ip -n NS ...`: iproute2 enters the namespace itself, cheaper than `ip netns exec NS ip`
 * (which also remounts /sys) — it matters in UML, where every process start is dear.
 */
export function ipIn(ns: Netns, ...args: string[]): Promise<ExecResult> {
  return ns.name === null ? run('ip', args) : run('ip', ['-n', ns.name, ...args]);
}

export interface VrrpLan {
  a: LanNode;
  b: LanNode;
  client: LanNode;
  destroy(): Promise<void>;
}

/**
 * `prefix` (<= 4 chars) names the namespaces and links; `n` picks 10.22n.0.0/24 and fd00:22n::/64.
 * Built by one shell script (each process start costs ~0.1-0.2 s in UML, and there are dozens).
 */
export async function vrrpLan(prefix: string, n: number): Promise<VrrpLan> {
  const br = `${prefix}-br`;
  const nodes = [['a', 1], ['b', 2], ['c', 9]] as const;
  const script = [
    'set -e',
    // No MLD/IGMP snooping: ff02::12 must reach every port whatever reports were seen.
    `ip link add ${br} type bridge mcast_snooping 0`,
    `ip link set ${br} up`,
    ...nodes.flatMap(([name, host]) => {
      const ns = `${prefix}-${name}`;
      const dev = `${prefix}-${name}0`;
      const port = `${prefix}-h${name}`;
      return [
        `ip netns add ${ns}`,
        // Addresses usable at once: no duplicate address detection on this private segment.
        `ip netns exec ${ns} sysctl -qw net.ipv6.conf.default.accept_dad=0 net.ipv6.conf.all.accept_dad=0`,
        `ip link add ${dev} type veth peer name ${port}`,
        `ip link set ${dev} netns ${ns}`,
        `ip link set ${port} master ${br} up`,
        `ip -n ${ns} link set lo up`,
        `ip -n ${ns} link set ${dev} up`,
        `ip -n ${ns} addr add 10.22${n}.0.${host}/24 dev ${dev}`,
        `ip -n ${ns} -6 addr add fd00:22${n}::${host}/64 dev ${dev} nodad`,
      ];
    }),
  ].join('\n');
  const destroy = async (): Promise<void> => {
    // Deleting a namespace deletes its veth end, and with it the peer on the bridge.
    await sh(`${nodes.map(([name]) => `ip netns del ${prefix}-${name}`).join('; ')}; ip link del ${br}`).catch(() => undefined);
  };
  await destroy(); // leftovers of an interrupted run
  await sh(script);
  const made = nodes.map(([name, host]) => {
    const ns = new Netns(`${prefix}-${name}`);
    return { ns, dev: `${prefix}-${name}0`, port: `${prefix}-h${name}`, ipv4: `10.22${n}.0.${host}`, ipv6: `fd00:22${n}::${host}`, mac: '' };
  });
  for (const x of made) {
    x.mac = (JSON.parse((await ipIn(x.ns, '-j', 'link', 'show', x.dev)).stdout) as { address: string }[])[0]!.address;
    // Link-local addresses (VRRPv3 IPv6 sources) must have left the tentative state.
    await waitUntil(`${x.dev} link-local`, async () => {
      const out = (await ipIn(x.ns, '-6', 'addr', 'show', 'dev', x.dev, 'scope', 'link')).stdout;
      return out.includes('fe80::') && !out.includes('tentative');
    }, 10_000, 100);
  }
  const [a, b, client] = made as [LanNode, LanNode, LanNode];
  return { a, b, client, destroy };
}

/** Is `address` configured on `dev` in `ns`? */
export async function hasAddress(node: LanNode, address: string): Promise<boolean> {
  const j = JSON.parse((await ipIn(node.ns, '-j', 'addr', 'show', 'dev', node.dev)).stdout) as { addr_info: { local: string }[] }[];
  return j.some((l) => l.addr_info.some((x) => x.local === address));
}

/** The MAC the client's neighbour table holds for `ip`, if any. */
export async function neighbourMac(node: LanNode, ip: string): Promise<string | undefined> {
  const j = JSON.parse((await ipIn(node.ns, '-j', 'neigh', 'show', ip, 'dev', node.dev)).stdout) as { lladdr?: string }[];
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
