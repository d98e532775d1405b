// The API's healthCheck (seconds, keepalived vocabulary) -> the checker's probe configs (ms, bytes).
// Pure; one check per (VirtualService, real server), keyed so the agent can look results up.
import type { HealthCheck } from '../api/index.js';
import type { CheckConfig, ProbeSpec } from '../health/index.js';
import type { Backend, ClusterModel, ServiceModel } from '../model/index.js';

/** Checker key of one real server of one VirtualService. */
export const checkKey = (service: string, b: { address: string; port: number }): string => `${service}|${b.address}|${b.port}`;

const bytes = (text: string | undefined, encoding: 'Text' | 'Base64'): Uint8Array | undefined =>
  text === undefined ? undefined : Buffer.from(text, encoding === 'Base64' ? 'base64' : 'utf8');

export function probeSpec(hc: HealthCheck, b: Backend): ProbeSpec {
  const timeoutMs = hc.timeoutSeconds * 1000;
  switch (hc.type) {
    case 'HTTP':
    case 'HTTPS': {
      const http = hc.http;
      const common = {
        timeoutMs, path: http?.path ?? '/', expectStatus: http?.expectedStatus ?? [200],
        // keepalived sends the bare address as Host unless virtualhost is set.
        host: http?.host ?? (b.address.includes(':') ? `[${b.address}]` : b.address),
        ...(http?.digest ? { digest: http.digest.toLowerCase() } : {}),
      };
      return hc.type === 'HTTP' ? { type: 'http', ...common } : { type: 'https', ...common, tlsVerify: http?.tlsVerify ?? false };
    }
    case 'UDP': {
      const u = hc.udp;
      const enc = u?.encoding ?? 'Text';
      const payload = bytes(u?.payload, enc);
      const expect = bytes(u?.expect, enc);
      return { type: 'udp', timeoutMs, ...(payload ? { payload } : {}), ...(expect ? { expectReply: { kind: 'prefix', bytes: expect } } : {}) };
    }
    default:
      return { type: 'tcp', timeoutMs };
  }
}

/**
 * Checks this node runs for one VirtualService: every real server, when it directs the service.
 * `known` holds the keys already present in the kernel at start-up: they begin healthy, so an
 * agent restart does not pull working servers out of the table while they are checked again.
 */
export function serviceChecks(s: ServiceModel, node: string, known: ReadonlySet<string> = new Set()): [string, CheckConfig][] {
  if (!s.spec || !s.accepted || !s.directors.includes(node)) return [];
  const out: [string, CheckConfig][] = [];
  for (const b of s.backends) {
    // b.healthCheck is the effective check: the RealServer's override or the service's.
    const hc = b.healthCheck;
    if (hc.type === 'None') continue;
    const key = checkKey(s.key, b);
    out.push([key, {
      target: { address: b.address, port: hc.port ?? (b.port || s.spec.port || 0) },
      spec: probeSpec(hc, b),
      intervalMs: hc.intervalSeconds * 1000,
      rise: hc.rise,
      fall: hc.fall,
      initial: known.has(key) ? 'up' : 'down',
    }]);
  }
  return out;
}

/** Every check this node must run, by check key. */
export function healthChecks(model: ClusterModel, node: string, known: ReadonlySet<string> = new Set()): Map<string, CheckConfig> {
  return new Map([...model.services.values()].flatMap((s) => serviceChecks(s, node, known)));
}
