// The one-operation methods of IpvsClient, written once over `apply` for both implementations.
import { expectOk, type IpvsOpResult } from './api.js';
import type { DestKey, IpvsDest, IpvsOp, IpvsService, SyncDaemon, SyncState, Timeouts, VirtualServiceKey } from './types.js';

export abstract class SingleOps {
  abstract apply(ops: readonly IpvsOp[]): Promise<IpvsOpResult[]>;

  private async one(op: IpvsOp): Promise<void> {
    expectOk(await this.apply([op]));
  }

  addService(service: IpvsService): Promise<void> { return this.one({ op: 'add-service', service }); }
  editService(service: IpvsService): Promise<void> { return this.one({ op: 'edit-service', service }); }
  delService(key: VirtualServiceKey): Promise<void> { return this.one({ op: 'del-service', key }); }
  addDest(key: VirtualServiceKey, dest: IpvsDest): Promise<void> { return this.one({ op: 'add-dest', key, dest }); }
  editDest(key: VirtualServiceKey, dest: IpvsDest): Promise<void> { return this.one({ op: 'edit-dest', key, dest }); }
  delDest(key: VirtualServiceKey, dest: DestKey): Promise<void> { return this.one({ op: 'del-dest', key, dest }); }
  setTimeouts(timeouts: Partial<Timeouts>): Promise<void> { return this.one({ op: 'set-timeouts', timeouts }); }
  startDaemon(daemon: SyncDaemon): Promise<void> { return this.one({ op: 'start-daemon', daemon }); }
  stopDaemon(state: SyncState): Promise<void> { return this.one({ op: 'stop-daemon', state }); }
  flush(): Promise<void> { return this.one({ op: 'flush' }); }
  zero(key?: VirtualServiceKey): Promise<void> { return this.one(key ? { op: 'zero', key } : { op: 'zero' }); }
}
