import { randomBytes, randomInt } from 'node:crypto';
import { endianness } from 'node:os';
import type { IpFamily } from '../../address/index.js';
import { nativeBinding, type NativeReceiver, type PacketSocketBinding } from '../../vrrp/runtime/native.js';
import { sockaddrAddress } from '../../vrrp/runtime/sockaddr.js';
import type { PingProbeSpec, Probe } from '../types.js';
import { describeError } from './abort.js';
import { echoFilterProgram, encodeFilter } from './echo-filter.js';
import { encodeEchoRequest, icmpErrorText, judgeEchoPacket, type EchoId } from './icmp-echo.js';
import { familyOf, resolveAddress, sockaddrOf } from './raw-socket.js';
import { probeSession } from './session.js';

const PAYLOAD_BYTES = 56;
/** Echo ids of this process's pings in flight: each probe's own, which its socket filter keys on. */
const idsInFlight = new Set<number>();

function takeId(): number {
  for (;;) {
    const id = randomInt(0, 0x10000);
    if (!idsInFlight.has(id)) {
      idsInFlight.add(id);
      return id;
    }
  }
}

/**
 * keepalived PING_CHECK: one ICMP (IPv4) or ICMPv6 echo request from a fresh raw socket; passes
 * on the echo reply from the target with our id, sequence and payload; fails at once on a
 * destination-unreachable or time-exceeded that quotes our request. Raw sockets need
 * CAP_NET_RAW, which the agent has for VRRP; keepalived's unprivileged ICMP datagram sockets
 * would instead need the host's net.ipv4.ping_group_range to admit the agent's group.
 */
export const probePing: Probe<PingProbeSpec> = (target, spec, signal) =>
  probeSession(signal, (finish) => {
    const n = nativeBinding();
    let open: { fd: number; receiver?: NativeReceiver } | undefined;
    let echo: EchoId | undefined;
    let over = false;
    resolveAddress(target.address)
      .then(({ family, address }) => {
        if (over) return;
        const mine: EchoId = { id: takeId(), seq: randomInt(0, 0x10000), payload: randomBytes(PAYLOAD_BYTES) };
        echo = mine;
        open = { fd: openEchoSocket(n, family, mine.id) };
        if (spec.bindAddress) {
          if (familyOf(spec.bindAddress) !== family) throw new Error(`bind address ${spec.bindAddress} is not ${family}`);
          n.bind(open.fd, sockaddrOf(n.constants, family, spec.bindAddress));
        }
        open.receiver = n.recvStart(open.fd, (err, data, from) => {
          if (err) return finish(false, describeError(err));
          if (!data) return;
          const source = from ? sockaddrAddress(family, from) : undefined;
          const verdict = judgeEchoPacket(family, data, mine, source === address);
          if (verdict.kind === 'reply') finish(true);
          else if (verdict.kind === 'error') finish(false, `${icmpErrorText(family, verdict.type, verdict.code)} from ${source ?? '?'}`);
        });
        n.sendto(open.fd, encodeEchoRequest(family, mine), sockaddrOf(n.constants, family, address));
      })
      .catch((err: unknown) => finish(false, describeError(err)));
    return () => {
      over = true;
      if (open?.receiver) n.recvStop(open.receiver);
      if (open) n.close(open.fd);
      if (echo) idsInFlight.delete(echo.id);
    };
  });

/**
 * A raw ICMP socket on which the kernel queues only echo replies with `id` and the two errors:
 * the ICMP type filter first, then the socket filter on the id (echo-filter.ts).
 */
export function openEchoSocket(n: PacketSocketBinding, family: IpFamily, id: number): number {
  const c = n.constants;
  const fd = family === 'IPv4' ? n.socket(c.AF_INET, c.SOCK_RAW, c.IPPROTO_ICMP) : n.socket(c.AF_INET6, c.SOCK_RAW, c.IPPROTO_ICMPV6);
  try {
    if (family === 'IPv4') n.setsockopt(fd, c.SOL_RAW, c.ICMP_FILTER, ~((1 << 0) | (1 << 3) | (1 << 11)));
    else n.setsockopt(fd, c.IPPROTO_ICMPV6, c.ICMP6_FILTER, icmp6Filter([129, 1, 3]));
    n.attachFilter(fd, encodeFilter(echoFilterProgram(family, id)));
  } catch (err) {
    n.close(fd);
    throw err;
  }
  return fd;
}

/** struct icmp6_filter: 256 bits in host-order 32-bit words, a set bit blocks that type. */
export function icmp6Filter(pass: readonly number[]): Buffer {
  const words = new Uint32Array(8).fill(0xffffffff);
  for (const t of pass) words[t >> 5] = (words[t >> 5] ?? 0) & ~(1 << (t & 31));
  const b = Buffer.alloc(32);
  words.forEach((w, i) => (endianness() === 'LE' ? b.writeUInt32LE(w, i * 4) : b.writeUInt32BE(w, i * 4)));
  return b;
}
