// Tells the LAN where VIPs now live: gratuitous ARP for IPv4, unsolicited neighbour advertisement
// for IPv6, as whole Ethernet frames through one AF_PACKET socket (protocol 0: it receives nothing).
import { familyOf, type LinkClient } from '../../link/index.js';
import type { Clock, TimerHandle } from '../clock.js';
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

/** How a master announces its VIPs after its first round (keepalived's garp_* settings of a vrrp_instance). */
export interface AnnounceTiming {
  /** Announcements per VIP in a round (garp_master_repeat) and the pause between them (garp_interval). */
  garpRepeat: number;
  garpIntervalMs: number;
  /** One more round of garpRepeat this long after becoming master (garp_master_delay); 0: none. */
  garpMasterDelayMs: number;
  /** A round of garpRefreshRepeat every this long while master (garp_master_refresh); 0: none. */
  garpRefreshMs: number;
  garpRefreshRepeat: number;
}

export interface LaterAnnouncements {
  announcer: NeighbourAnnouncer;
  clock: Clock;
  ifname: string;
  addresses: readonly string[];
  timing: AnnounceTiming;
  /** Aborted when the instance leaves Master: nothing more is sent (keepalived sends only while its VIPs are set). */
  signal: AbortSignal;
  onError(err: unknown): void;
}

/**
 * The announcements after a takeover's first rounds, in the background until `signal` aborts:
 * the garp_master_delay round, which catches switches and hosts that missed the takeover (a port
 * still in STP listening, an ARP entry refreshed from the old master just before), and the
 * garp_master_refresh rounds, which keep neighbour caches that age out pointing at the master.
 * Background, not part of becomeMaster: the takeover (and the sync daemon that follows it) must
 * not wait seconds for them, and the refresh never ends while master.
 */
export function announceLater(o: LaterAnnouncements): void {
  const t = o.timing;
  if (o.addresses.length === 0 || o.signal.aborted) return;
  const timers = new Set<TimerHandle>();
  const after = (ms: number, fn: () => void): void => {
    const h = o.clock.setTimer(ms, () => {
      timers.delete(h);
      if (!o.signal.aborted) fn();
    });
    timers.add(h);
  };
  o.signal.addEventListener('abort', () => {
    for (const h of timers) o.clock.cancel(h);
    timers.clear();
  }, { once: true });
  const round = (count: number, sent = 0): void => {
    o.announcer.announce(o.ifname, o.addresses).catch(o.onError);
    if (sent + 1 < count) after(t.garpIntervalMs, () => round(count, sent + 1));
  };
  if (t.garpMasterDelayMs > 0) after(t.garpMasterDelayMs, () => round(t.garpRepeat));
  if (t.garpRefreshMs > 0) {
    const refresh = (): void => {
      round(t.garpRefreshRepeat);
      after(t.garpRefreshMs, refresh);
    };
    after(t.garpRefreshMs, refresh);
  }
}
