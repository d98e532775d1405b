import type { Probe } from '../types.js';
import { probeDns } from './dns.js';
import { probeHttp, probeHttps } from './http.js';
import { probePing } from './ping.js';
import { probeSctp } from './sctp.js';
import { probeSmtp } from './smtp.js';
import { probeTcp } from './tcp.js';
import { probeUdp } from './udp.js';

export { probeDns } from './dns.js';
export { probeHttp, probeHttps } from './http.js';
export { probePing } from './ping.js';
export { probeSctp } from './sctp.js';
export { probeSmtp } from './smtp.js';
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
    case 'dns':
      return probeDns(target, spec, signal);
    case 'smtp':
      return probeSmtp(target, spec, signal);
    case 'ping':
      return probePing(target, spec, signal);
    case 'sctp':
      return probeSctp(target, spec, signal);
  }
};
