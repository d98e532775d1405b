import { randomInt } from 'node:crypto';
import dgram from 'node:dgram';
import net from 'node:net';
import type { DnsProbeSpec, Probe } from '../types.js';
import { describeError } from './abort.js';
import { encodeDnsQuery, judgeDnsReply } from './dns-message.js';
import { probeSession } from './session.js';
import { udpErrorText } from './udp.js';

/**
 * keepalived DNS_CHECK: one query from a fresh connected UDP socket. Datagrams that are not the
 * answer (too short, another id, not a response) are skipped, as keepalived does; the first
 * answer decides (NOERROR passes, any other RCODE fails). Connected, so an ICMP port-unreachable
 * (server down) comes back as ECONNREFUSED at once instead of a timeout.
 */
export const probeDns: Probe<DnsProbeSpec> = (target, spec, signal) =>
  probeSession(signal, (finish) => {
    const id = randomInt(0, 0x10000);
    const query = encodeDnsQuery(id, spec.queryName, spec.queryType);
    const socket = dgram.createSocket({ type: net.isIPv6(target.address) ? 'udp6' : 'udp4' });
    socket.on('error', (err) => finish(false, udpErrorText(err)));
    socket.on('message', (msg) => {
      const verdict = judgeDnsReply(msg, id);
      if (verdict.kind === 'pass') finish(true);
      else if (verdict.kind === 'fail') finish(false, verdict.reason);
    });
    socket.bind({ address: spec.bindAddress, port: 0 }, () => {
      socket.connect(target.port, target.address, (err?: Error) => {
        if (err) return finish(false, describeError(err));
        socket.send(query, (sendErr) => {
          if (sendErr) finish(false, udpErrorText(sendErr));
        });
      });
    });
    return () => {
      socket.removeAllListeners('message');
      socket.on('error', () => {});
      try {
        socket.close();
      } catch {
        // already closed
      }
    };
  });
