// Tells the LAN where VIPs now live: gratuitous ARP for IPv4, unsolicited neighbour advertisement
// for IPv6, as whole Ethernet frames through one AF_PACKET socket (protocol 0: it receives nothing).
import { familyOf, type LinkClient } from '../../link/index.js';
import { ETH_P_ARP, ETH_P_IPV6, gratuitousArpFrame, parseMac, unsolicitedNaFrame } from './frames.js';
import { nativeBinding, type PacketSocketBinding } from './native.js';
import { sockaddrLl } from './sockaddr.js';

export interface NeighbourAnnouncer {
  /** One gratuitous ARP / unsolicited NA per address, out of `ifname`. Rejects when none could be sent. */
  announce(ifname: string, addresses: readonly string[]): Promise<void>;
  close(): void;
}

interface Target {
  index: number;
  mac: Buffer;
  at: number;
}

/** Interface index and MAC are looked up over netlink and reused for this long (one takeover's repeats). */
const TARGET_TTL_MS = 2000;

export class PacketAnnouncer implements NeighbourAnnouncer {
  private readonly n: PacketSocketBinding;
  private fd: number | undefined;
  private readonly targets = new Map<string, Target>();
  sent = 0;

  constructor(
    private readonly link: LinkClient,
    binding?: PacketSocketBinding,
  ) {
    this.n = binding ?? nativeBinding();
  }

  private socket(): number {
    if (this.fd === undefined) this.fd = this.n.socket(this.n.constants.AF_PACKET, this.n.constants.SOCK_RAW, 0);
    return this.fd;
  }

  private async target(ifname: string): Promise<Target> {
    const cached = this.targets.get(ifname);
    if (cached && performance.now() - cached.at < TARGET_TTL_MS) return cached;
    const l = (await this.link.listLinks()).find((x) => x.name === ifname);
    if (!l) throw new Error(`gratuitous ARP/NA: no such interface ${ifname}`);
    if (!l.mac) throw new Error(`gratuitous ARP/NA: interface ${ifname} has no MAC address`);
    const t = { index: l.index, mac: parseMac(l.mac), at: performance.now() };
    this.targets.set(ifname, t);
    return t;
  }

  async announce(ifname: string, addresses: readonly string[]): Promise<void> {
    const t = await this.target(ifname);
    const fd = this.socket();
    const c = this.n.constants;
    let firstError: unknown;
    for (const a of addresses) {
      const v4 = familyOf(a) === 'IPv4';
      const frame = v4 ? gratuitousArpFrame(t.mac, a) : unsolicitedNaFrame(t.mac, a);
      try {
        this.n.sendto(fd, frame, sockaddrLl(c.AF_PACKET, t.index, v4 ? ETH_P_ARP : ETH_P_IPV6, frame.subarray(0, 6)));
        this.sent++;
      } catch (e) {
        this.targets.delete(ifname); // the interface may have been recreated: look it up again next time
        firstError ??= e;
      }
    }
    if (firstError !== undefined) throw firstError;
  }

  close(): void {
    if (this.fd !== undefined) this.n.close(this.fd);
    this.fd = undefined;
  }
}
