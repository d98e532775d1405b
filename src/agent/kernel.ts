// The real kernel side of an agent: netlink IPVS and rtnetlink clients, /proc/sys, and the
// ownership record under the node's state directory.
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { IpvsClient, IpvsOpResult } from '../ipvs/api.js';
import { NetlinkIpvsClient } from '../ipvs/client.js';
import { IpvsError } from '../ipvs/errors.js';
import type { IpvsInfo, IpvsOp, IpvsServiceWithDests, SyncDaemon, Timeouts } from '../ipvs/types.js';
import { ProcSysctl, RtLinkClient } from '../link/index.js';
import { NftCli } from '../nft/index.js';
import { FileOwnershipStore } from './ownership.js';
import { Reconciler } from './reconciler.js';
import { migrateVrrpRecord } from './vrrp-record-migration.js';

export const defaultStateDir = '/var/lib/lvs-operator';

export interface KernelHandles {
  ipvs: IpvsClient;
  /** A second IPVS socket for reading stats (/ipvs, metrics): a scrape never queues ahead of a reconcile. */
  observer: IpvsClient;
  link: RtLinkClient;
  reconciler: Reconciler;
  /** The record on disk (absent with a kernel of fakes). */
  ownership?: FileOwnershipStore;
  close(): void;
}

export async function openKernel(stateDir = defaultStateDir, log?: Logger): Promise<KernelHandles> {
  const ipvs = await NetlinkIpvsClient.open().catch((e: unknown) => {
    if (!(e instanceof IpvsError)) throw e;
    // A real-server-only node need not load ip_vs; it fails only if asked to direct.
    log?.warn({ err: e }, 'IPVS is not available in this kernel: real-server side only');
    return new IpvsUnavailable(e);
  });
  const observer = ipvs instanceof IpvsUnavailable ? ipvs : await NetlinkIpvsClient.open();
  const link = new RtLinkClient();
  const ownership = new FileOwnershipStore(join(stateDir, 'owned.json'), log);
  const reconciler = new Reconciler({ ipvs, link, sysctl: new ProcSysctl(), nft: new NftCli(stateDir), store: ownership, log });
  await migrateVrrpRecord(join(stateDir, 'vrrp.json'), reconciler.record, log);
  return { ipvs, observer, link, reconciler, ownership, close: () => { ipvs.close(); if (observer !== ipvs) observer.close(); link.close(); } };
}

/**
 * The IPVS of a kernel without ip_vs (a real-server-only node): an empty table that refuses
 * every change with the error that opening the IPVS family gave.
 */
class IpvsUnavailable implements IpvsClient {
  constructor(private readonly why: IpvsError) {}
  private fail(): Promise<never> {
    return Promise.reject(this.why);
  }
  info(): Promise<IpvsInfo> { return this.fail(); }
  async listServices(): Promise<[]> { return []; }
  async listServicesWithDests(): Promise<IpvsServiceWithDests[]> { return []; }
  async getService(): Promise<undefined> { return undefined; }
  listDests(): Promise<never> { return this.fail(); }
  addService(): Promise<void> { return this.fail(); }
  editService(): Promise<void> { return this.fail(); }
  delService(): Promise<void> { return this.fail(); }
  addDest(): Promise<void> { return this.fail(); }
  editDest(): Promise<void> { return this.fail(); }
  delDest(): Promise<void> { return this.fail(); }
  getTimeouts(): Promise<Timeouts> { return this.fail(); }
  setTimeouts(): Promise<void> { return this.fail(); }
  async listDaemons(): Promise<SyncDaemon[]> { return []; }
  startDaemon(): Promise<void> { return this.fail(); }
  stopDaemon(): Promise<void> { return this.fail(); }
  flush(): Promise<void> { return this.fail(); }
  zero(): Promise<void> { return this.fail(); }
  async apply(ops: readonly IpvsOp[]): Promise<IpvsOpResult[]> { return ops.map(() => ({ ok: false, error: this.why })); }
  close(): void {}
}
