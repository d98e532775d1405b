import dgram from 'node:dgram';
import net from 'node:net';
import type { Probe, UdpProbeSpec, UdpReplyMatch } from '../types.js';
import { abortText, describeError, isTimeout } from './abort.js';
import { probeSession } from './session.js';

/**
 * keepalived UDP_CHECK. The socket is connected, so the kernel hands an ICMP
 * port-unreachable for it back as ECONNREFUSED on the socket: that is the failure
 * signal when no reply is expected, and an answer or silence until quietMs (or the deadline) is success.
 */
export const probeUdp: Probe<UdpProbeSpec> = (target, spec, signal) =>
  probeSession(
    signal,
    (finish) => {
      const family = net.isIPv6(target.address) ? 'udp6' : 'udp4';
      const socket = dgram.createSocket({ type: family });
      let quietTimer: NodeJS.Timeout | undefined;
      socket.on('error', (err) => finish(false, udpErrorText(err)));
      socket.on('message', (msg) => {
        // Without expectReply any answer proves the port open; no need to wait out the silence.
        if (!spec.expectReply) return finish(true);
        if (matches(spec.expectReply, msg)) finish(true);
        else finish(false, `reply mismatch (${msg.length} bytes)`);
      });
      socket.bind({ address: spec.bindAddress, port: 0 }, () => {
        socket.connect(target.port, target.address, (err?: Error) => {
          if (err) return finish(false, describeError(err));
          socket.send(spec.payload ?? new Uint8Array(0), (sendErr) => {
            if (sendErr) return finish(false, udpErrorText(sendErr));
            if (!spec.expectReply && spec.quietMs !== undefined) {
              quietTimer = setTimeout(() => finish(true), spec.quietMs);
            }
          });
        });
      });
      return () => {
        clearTimeout(quietTimer);
        socket.removeAllListeners('message');
        socket.on('error', () => {});
        try {
          socket.close();
        } catch {
          // already closed
        }
      };
    },
    // Reaching the deadline in silence is the success case when no reply is required.
    (s) => (!spec.expectReply && isTimeout(s) ? { ok: true } : { ok: false, reason: abortText(s) }),
  );

export function udpErrorText(err: Error): string {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ECONNREFUSED' ? 'port unreachable (ECONNREFUSED)' : describeError(err);
}

export function matches(match: UdpReplyMatch, reply: Buffer): boolean {
  switch (match.kind) {
    case 'any':
      return true;
    case 'exact':
      return reply.equals(match.bytes);
    case 'prefix':
      return reply.length >= match.bytes.length && reply.subarray(0, match.bytes.length).equals(match.bytes);
    case 'regex':
      return new RegExp(match.pattern.source, match.pattern.flags.replace(/[gy]/g, '')).test(reply.toString('latin1'));
  }
}
