// The demo's site, shared with the e2e suite: the classic LVS setups of the seed articles on a
// cluster of real nodes. LAN 192.168.10.0/24; directors d1, d2 (group `edge`: the DR web service,
// the UDP DNS service and the fwmark TUN service) and d3, d4 (group `internal`: NAT in front of a
// Kubernetes Service, VRRP v3 unicast on eth1 10.0.0.0/24, connection sync on eth2); real-server
// nodes rs-1..3. The examples' other addresses live where the examples say: rs-1 and rs-2 also
// carry 198.51.100.53/.54 (DNS) and 203.0.113.11/.12 (shop), reached on the LAN.
import type { SiteNode } from '../../test/lab/kube-site.js';

export const subnet = '192.168.10';
export const webVip = `${subnet}.100`;

const onLan = ['ip route add 198.51.100.0/24 dev eth0', 'ip route add 203.0.113.0/24 dev eth0'];
const edge = (name: string, host: number): SiteNode => ({ name, host, labels: { 'lvs.dev/director': 'edge' }, setup: onLan });
const internal = (name: string, host: number, i: number): SiteNode => ({
  name, host, labels: { 'lvs.dev/director': 'internal' },
  nics: [{ bridge: 'internal', cidr: `10.0.0.${10 + i}/24` }, { bridge: 'sync', cidr: `10.0.1.${10 + i}/24` }],
});
const realServer = (i: number, extra: string[]): SiteNode => ({
  name: `rs-${i}`, host: 100 + i, labels: { 'lvs.dev/web': 'true', ...(extra.length ? { 'lvs.dev/examples': 'true' } : {}) },
  setup: extra.map((cidr) => `ip addr add ${cidr} dev eth0`),
});

/** Nodes of the demo site; `internalPair: false` leaves out d3/d4 (the NAT example's directors). */
export function demoNodes(internalPair = true): SiteNode[] {
  return [
    edge('d1', 11), edge('d2', 12),
    ...(internalPair ? [internal('d3', 13, 1), internal('d4', 14, 2)] : []),
    realServer(1, ['198.51.100.53/24', '203.0.113.11/24']),
    realServer(2, ['198.51.100.54/24', '203.0.113.12/24']),
    realServer(3, []),
  ];
}
