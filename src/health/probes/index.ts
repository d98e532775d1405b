import type { Probe } from '../types.js';
import { probeHttp, probeHttps } from './http.js';
import { probeTcp } from './tcp.js';
import { probeUdp } from './udp.js';

export { probeHttp, probeHttps } from './http.js';
export { probeTcp } from './tcp.js';
export { probeUdp } from './udp.js';
export { ProbeTimeoutError, deadlineSignal } from './abort.js';

/** Runs the probe that matches spec.type. */
export const runProbe: Probe = (target, spec, signal) => {
  switch (spec.type) {
    case 'tcp':
      return probeTcp(target, spec, signal);
    case 'http':
      return probeHttp(target, spec, signal);
    case 'https':
      return probeHttps(target, spec, signal);
    case 'udp':
      return probeUdp(target, spec, signal);
    default:
      // dns, smtp, ping and sctp probes land with their modules; until then such a check fails visibly.
      return Promise.resolve({ ok: false, latencyMs: 0, reason: `${spec.type} probe not available in this build` });
  }
};
