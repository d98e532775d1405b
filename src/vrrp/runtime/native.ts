// The native packet socket addon (native/packet_socket.c, built by `npm install`), loaded on
// first use so that code and tests that never open a socket do not need it.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface NativeConstants {
  AF_INET: number;
  AF_INET6: number;
  AF_PACKET: number;
  SOCK_RAW: number;
  SOCK_STREAM: number;
  SO_ERROR: number;
  SOL_RAW: number;
  IPPROTO_ICMP: number;
  IPPROTO_ICMPV6: number;
  IPPROTO_SCTP: number;
  ICMP_FILTER: number;
  ICMP6_FILTER: number;
  SOL_SOCKET: number;
  SO_BINDTODEVICE: number;
  SO_RCVBUF: number;
  SO_SNDBUF: number;
  IPPROTO_IP: number;
  IPPROTO_IPV6: number;
  IPPROTO_RAW: number;
  IP_HDRINCL: number;
  IP_MULTICAST_LOOP: number;
  IP_MULTICAST_TTL: number;
  IP_ADD_MEMBERSHIP: number;
  IP_DROP_MEMBERSHIP: number;
  IPV6_MULTICAST_LOOP: number;
  IPV6_MULTICAST_HOPS: number;
  IPV6_UNICAST_HOPS: number;
  IPV6_ADD_MEMBERSHIP: number;
  IPV6_DROP_MEMBERSHIP: number;
  IPV6_RECVPKTINFO: number;
  IPV6_RECVHOPLIMIT: number;
  IPV6_V6ONLY: number;
  ETH_P_ARP: number;
  ETH_P_IPV6: number;
  SIZEOF_SOCKADDR_IN: number;
  SIZEOF_SOCKADDR_IN6: number;
  SIZEOF_SOCKADDR_LL: number;
}

/** Called per received packet, or with an error (the socket stays open unless the caller closes it). */
export type NativeRecvCallback = (
  err: (Error & { code?: string; errno?: number }) | null,
  data?: Buffer,
  from?: Buffer,
  /** IPV6_PKTINFO destination address (16 bytes) when the socket asked for it. */
  dst?: Buffer,
  ifindex?: number,
  /** IPV6_HOPLIMIT, or -1 when not attached. */
  hopLimit?: number,
) => void;

export interface NativeReceiver {
  readonly __receiver: unique symbol;
}

/** Thin syscall wrappers; every failure throws an Error whose `code` is the errno name (EPERM, ...). */
export interface PacketSocketBinding {
  socket(domain: number, type: number, protocol: number): number;
  setsockopt(fd: number, level: number, name: number, value: number | Buffer): void;
  bind(fd: number, sockaddr: Buffer): void;
  sendto(fd: number, data: Buffer, sockaddr: Buffer): number;
  /** Attaches a classic BPF socket filter (struct sock_filter[] as bytes, 8 per instruction). */
  attachFilter(fd: number, program: Buffer): void;
  /** Non-blocking connect: true when connected at once, false when in progress (then writableStart). */
  connect(fd: number, sockaddr: Buffer): boolean;
  /** Calls back once when the socket turns writable: null, or the connect's error (SO_ERROR). Stop with recvStop. */
  writableStart(fd: number, callback: (err: (Error & { code?: string; errno?: number }) | null) => void): NativeReceiver;
  close(fd: number): void;
  ifNameToIndex(name: string): number;
  recvStart(fd: number, callback: NativeRecvCallback): NativeReceiver;
  /** Stops a recvStart or writableStart handle; idempotent. */
  recvStop(handle: NativeReceiver): void;
  /** Reads what is waiting in a recvStart socket now, through its callback; returns how many packets. */
  recvDrain(handle: NativeReceiver): number;
  constants: NativeConstants;
}

const ADDON = join('native', 'build', 'Release', 'packet_socket.node');

/**
 * The addon under the package root: three levels up from src/vrrp/runtime/ or dist/vrrp/runtime/,
 * but searched upwards so that a bundle elsewhere in the package finds it too.
 */
function addonPath(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++) {
    const p = join(dir, ADDON);
    if (existsSync(p)) return p;
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', ADDON);
}

let loaded: PacketSocketBinding | undefined;

export function nativeBinding(): PacketSocketBinding {
  if (loaded) return loaded;
  const path = addonPath();
  if (!existsSync(path)) {
    throw new Error(
      `the VRRP packet socket addon is not built (${path}): run \`npm install\` (or \`node native/build.mjs\`); ` +
        'it needs python3, make, a C compiler and the node headers',
    );
  }
  loaded = createRequire(import.meta.url)(path) as PacketSocketBinding;
  return loaded;
}
