import net from 'node:net';
import type { Probe, TcpProbeSpec } from '../types.js';
import { describeError } from './abort.js';
import { probeSession } from './session.js';

/** How long a probed connection may linger half-closed before it is dropped (the verdict is already known). */
const LINGER_MS = 1000;

/** keepalived TCP_CHECK: passes once the handshake completes, then closes with a FIN (never an RST). */
export const probeTcp: Probe<TcpProbeSpec> = (target, spec, signal) =>
  probeSession(signal, (finish) => {
    const socket = net.connect({
      host: target.address,
      port: target.port,
      ...(spec.bindAddress ? { localAddress: spec.bindAddress } : {}),
    });
    socket.setNoDelay(true);
    socket.once('connect', () => {
      finish(true);
      closeGracefully(socket);
    });
    socket.once('error', (err) => finish(false, describeError(err)));
    return () => {
      if (socket.connecting) socket.destroy();
    };
  });

/**
 * Send our FIN and read whatever the server says (a banner, say): closing a socket with
 * unread data makes the kernel send an RST, which servers log as an error.
 */
export function closeGracefully(socket: net.Socket): void {
  socket.on('error', () => {});
  socket.resume();
  socket.end();
  const timer = setTimeout(() => socket.destroy(), LINGER_MS);
  timer.unref();
  socket.once('close', () => clearTimeout(timer));
}
