// Test-only link states for the speaker and the leadership (the real one, NetlinkLinkMonitor, is
// tested against the lab kernel in test/kernel/vrrp/link-monitor.test.ts).
import type { LinkChange, LinkStateSource } from '../../../src/vrrp/runtime/index.js';

/** Every link up until set() says otherwise; set() notifies like a netlink notification. */
export class MemoryLinks implements LinkStateSource {
  private readonly up = new Map<string, boolean>();
  private readonly fns = new Set<LinkChange>();
  isUp(name: string): boolean | undefined {
    return this.up.get(name) ?? true;
  }
  subscribe(fn: LinkChange): () => void {
    this.fns.add(fn);
    return () => this.fns.delete(fn);
  }
  set(name: string, up: boolean): void {
    this.up.set(name, up);
    for (const f of this.fns) f(name, up);
  }
  refresh(): Promise<void> {
    return Promise.resolve();
  }
  close(): void {}
}

