// The real kernel side of an agent: netlink IPVS and rtnetlink clients, /proc/sys, and the
// ownership record under the node's state directory.
import { join } from 'node:path';
import { NetlinkIpvsClient } from '../ipvs/client.js';
import { ProcSysctl, RtLinkClient } from '../link/index.js';
import { FileOwnershipStore } from './ownership.js';
import { Reconciler } from './reconciler.js';

export const defaultStateDir = '/var/lib/lvs-operator';

export interface KernelHandles {
  ipvs: NetlinkIpvsClient;
  link: RtLinkClient;
  reconciler: Reconciler;
  close(): void;
}

export async function openKernel(stateDir = defaultStateDir): Promise<KernelHandles> {
  const ipvs = await NetlinkIpvsClient.open();
  const link = new RtLinkClient();
  const reconciler = new Reconciler({ ipvs, link, sysctl: new ProcSysctl(), store: new FileOwnershipStore(join(stateDir, 'owned.json')) });
  return { ipvs, link, reconciler, close: () => { ipvs.close(); link.close(); } };
}
