// The real LinkClient: rtnetlink through the `netlink` package.
import { createRtNetlink, FlagsNew, type RtNetlinkSocket } from 'netlink';
import { addressToBytes, bytesToAddress, familyOf } from './address.js';
import { LinkError, type Family, type InterfaceAddress, type LinkClient, type LinkInfo } from './types.js';

const AF_INET = 2;
const AF_INET6 = 10;

// The package reports kernel errors as Error objects with a message and sometimes errno; map both.
function wrap(op: string, e: unknown): LinkError {
  const err = e as { message?: string; errno?: number; code?: string };
  const msg = err.message ?? String(e);
  const code = err.code ?? /\b(E[A-Z]+)\b/.exec(msg)?.[1];
  return new LinkError(`${op}: ${msg}`, err.errno, code);
}

const isCode = (e: unknown, ...codes: string[]): boolean => {
  const msg = (e as { message?: string; code?: string }).message ?? '';
  const code = (e as { code?: string }).code;
  return codes.some((c) => code === c || msg.includes(c));
};

const INFINITY_LIFE_TIME = 0xffffffff;

/**
 * IPv6 addresses as keepalived adds its VIPs (vrrp_ipaddress.c): all with nodad, since a VIP
 * moving between directors must be usable at once (and DAD would fail it for good in a brief
 * split brain); a /128 also with preferred lifetime 0 ("deprecated", RFC 3484), so the kernel
 * never picks it as a source address (health checks, the director's own connections). A VIP
 * with a shorter prefix (a gateway address) stays preferred, as in keepalived.
 */
function ipv6VipAttrs(prefixLen: number): { flags: { nodad: true }; cacheInfo?: { ifaPrefered: number; ifaValid: number } } {
  return prefixLen === 128
    ? { flags: { nodad: true }, cacheInfo: { ifaPrefered: 0, ifaValid: INFINITY_LIFE_TIME } }
    : { flags: { nodad: true } };
}

export class RtLinkClient implements LinkClient {
  private readonly socket: RtNetlinkSocket = createRtNetlink();

  async listLinks(): Promise<LinkInfo[]> {
    const links = await this.socket.getLinks();
    return links.map((l) => ({
      index: l.data.index ?? 0,
      name: l.attrs.ifname ?? '',
      up: Boolean(l.data.flags?.up),
      mac: l.attrs.address ? [...l.attrs.address].map((b) => b.toString(16).padStart(2, '0')).join(':') : undefined,
    }));
  }

  private async indexOf(ifname: string): Promise<number> {
    const link = (await this.listLinks()).find((l) => l.name === ifname);
    if (!link) throw new LinkError(`no such interface: ${ifname}`, 19, 'ENODEV');
    return link.index;
  }

  async listAddresses(ifname?: string): Promise<InterfaceAddress[]> {
    const names = new Map((await this.listLinks()).map((l) => [l.index, l.name]));
    const out: InterfaceAddress[] = [];
    for (const a of await this.socket.getAddresses()) {
      const family: Family = a.data.family === AF_INET6 ? 'IPv6' : 'IPv4';
      const raw = a.attrs.local ?? a.attrs.address;
      if (!raw) continue;
      const name = names.get(a.data.index ?? -1) ?? '';
      if (ifname !== undefined && name !== ifname) continue;
      out.push({
        ifname: name, ifindex: a.data.index ?? 0, family, address: bytesToAddress(raw, family),
        prefixLen: a.data.prefixlen ?? 0, ...(a.attrs.label ? { label: a.attrs.label } : {}),
      });
    }
    return out;
  }

  async addAddress(ifname: string, address: string, prefixLen: number): Promise<void> {
    const family = familyOf(address);
    const bytes = addressToBytes(address);
    try {
      await this.socket.newAddress(
        { family: family === 'IPv4' ? AF_INET : AF_INET6, prefixlen: prefixLen, index: await this.indexOf(ifname) },
        { local: bytes, address: bytes, ...(family === 'IPv6' ? ipv6VipAttrs(prefixLen) : {}) },
        { flags: FlagsNew.CREATE | FlagsNew.EXCL });
    } catch (e) {
      if (isCode(e, 'EEXIST')) return;
      throw wrap(`add ${address}/${prefixLen} on ${ifname}`, e);
    }
  }

  async deleteAddress(ifname: string, address: string, prefixLen: number): Promise<void> {
    const family = familyOf(address);
    const bytes = addressToBytes(address);
    try {
      await this.socket.delAddress(
        { family: family === 'IPv4' ? AF_INET : AF_INET6, prefixlen: prefixLen, index: await this.indexOf(ifname) },
        { local: bytes, address: bytes });
    } catch (e) {
      if (isCode(e, 'EADDRNOTAVAIL', 'ENOENT', 'ESRCH')) return;
      throw wrap(`delete ${address}/${prefixLen} from ${ifname}`, e);
    }
  }

  async setUp(ifname: string): Promise<void> {
    try {
      await this.socket.setLink({ index: await this.indexOf(ifname), change: { up: true }, flags: { up: true } });
    } catch (e) {
      throw wrap(`set ${ifname} up`, e);
    }
  }

  close(): void {
    this.socket.socket.close();
  }
}
