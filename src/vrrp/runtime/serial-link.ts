// One netlink request at a time. RtLinkClient shares one netlink socket, and a request sent
// while another's dump is in flight fails with EBUSY (seen in the lab: addAddress, which lists
// links first, next to a listLinks). Two VRRP instances taking over at once, or announcements
// next to address changes, would hit that; this wrapper queues the calls instead.
import type { InterfaceAddress, LinkClient, LinkInfo } from '../../link/index.js';

export class SerialLinkClient implements LinkClient {
  private tail: Promise<unknown> = Promise.resolve();

  constructor(private readonly inner: LinkClient) {}

  private run<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.tail.then(fn, fn);
    this.tail = next.catch(() => undefined);
    return next;
  }

  listLinks(): Promise<LinkInfo[]> {
    return this.run(() => this.inner.listLinks());
  }

  listAddresses(ifname?: string): Promise<InterfaceAddress[]> {
    return this.run(() => this.inner.listAddresses(ifname));
  }

  addAddress(ifname: string, address: string, prefixLen: number): Promise<void> {
    return this.run(() => this.inner.addAddress(ifname, address, prefixLen));
  }

  deleteAddress(ifname: string, address: string, prefixLen: number): Promise<void> {
    return this.run(() => this.inner.deleteAddress(ifname, address, prefixLen));
  }

  setUp(ifname: string): Promise<void> {
    return this.run(() => this.inner.setUp(ifname));
  }

  close(): void {
    this.inner.close();
  }
}
