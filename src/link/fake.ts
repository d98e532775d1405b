// In-memory twin of RtLinkClient for unit tests of pure logic (the real one is tested in the lab).
import { canonicalAddress, familyOf } from './address.js';
import { LinkError, type InterfaceAddress, type LinkClient, type LinkInfo } from './types.js';

export class FakeLinkClient implements LinkClient {
  readonly links: LinkInfo[];
  readonly addresses: InterfaceAddress[] = [];

  constructor(linkNames: string[] = ['lo', 'eth0']) {
    this.links = linkNames.map((name, i) => ({ index: i + 1, name, up: name === 'lo' }));
  }

  private link(ifname: string): LinkInfo {
    const l = this.links.find((x) => x.name === ifname);
    if (!l) throw new LinkError(`no such interface: ${ifname}`, 19, 'ENODEV');
    return l;
  }

  async listLinks(): Promise<LinkInfo[]> {
    return this.links.map((l) => ({ ...l }));
  }

  async listAddresses(ifname?: string): Promise<InterfaceAddress[]> {
    return this.addresses.filter((a) => ifname === undefined || a.ifname === ifname).map((a) => ({ ...a }));
  }

  async addAddress(ifname: string, address: string, prefixLen: number): Promise<void> {
    const l = this.link(ifname);
    const a = canonicalAddress(address);
    if (this.addresses.some((x) => x.ifname === ifname && x.address === a)) return;
    this.addresses.push({ ifname, ifindex: l.index, family: familyOf(a), address: a, prefixLen });
  }

  async deleteAddress(ifname: string, address: string, prefixLen: number): Promise<void> {
    this.link(ifname);
    const a = canonicalAddress(address);
    const i = this.addresses.findIndex((x) => x.ifname === ifname && x.address === a && x.prefixLen === prefixLen);
    if (i >= 0) this.addresses.splice(i, 1);
  }

  async setUp(ifname: string): Promise<void> {
    this.link(ifname).up = true;
  }

  close(): void {}
}
