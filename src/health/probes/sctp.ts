import { nativeBinding, type NativeReceiver } from '../../vrrp/runtime/native.js';
import type { Probe, SctpProbeSpec } from '../types.js';
import { describeError } from './abort.js';
import { familyOf, resolveAddress, sockaddrOf } from './raw-socket.js';
import { probeSession } from './session.js';

/**
 * The SCTP counterpart of TCP_CHECK (keepalived has none): a one-to-one SCTP socket connects
 * (INIT, INIT-ACK, COOKIE-ECHO, COOKIE-ACK) and passes once the association is up; a closed port
 * answers the INIT with an ABORT (ECONNREFUSED). close() without SO_LINGER and with nothing
 * unread ends the association with SHUTDOWN, the graceful way, not an ABORT.
 */
export const probeSctp: Probe<SctpProbeSpec> = (target, spec, signal) =>
  probeSession(signal, (finish) => {
    const n = nativeBinding();
    const c = n.constants;
    let open: { fd: number; watch?: NativeReceiver } | undefined;
    let over = false;
    resolveAddress(target.address)
      .then(({ family, address }) => {
        if (over) return;
        open = { fd: n.socket(family === 'IPv4' ? c.AF_INET : c.AF_INET6, c.SOCK_STREAM, c.IPPROTO_SCTP) };
        if (spec.bindAddress) {
          if (familyOf(spec.bindAddress) !== family) throw new Error(`bind address ${spec.bindAddress} is not ${family}`);
          n.bind(open.fd, sockaddrOf(c, family, spec.bindAddress));
        }
        if (n.connect(open.fd, sockaddrOf(c, family, address, target.port))) return finish(true);
        open.watch = n.writableStart(open.fd, (err) => (err ? finish(false, `connect ${err.code ?? err.message}`) : finish(true)));
      })
      .catch((err: unknown) => finish(false, describeError(err)));
    return () => {
      over = true;
      if (open?.watch) n.recvStop(open.watch);
      if (open) n.close(open.fd);
    };
  });
