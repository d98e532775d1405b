// The model's canonical health checks (seconds, keepalived vocabulary) -> the checker's probe
// configs (ms, bytes). Pure; one checker target per (VirtualService, real server, check), keyed
// so the agent can look results up and AND them per real server. Client certificates come in
// loaded (TlsMaterial): no Secret is read here.
import type { CheckConfig, HttpUrlSpec, ProbeSpec } from '../health/index.js';
import type { Backend, ClusterModel, ResolvedHealthCheck, ResolvedUrl, ServiceModel } from '../model/index.js';

/** Checker key of one check of one real server of one VirtualService: `service|address|port|index`. */
export const checkKey = (service: string, b: { address: string; port: number }, index = 0): string =>
  `${service}|${b.address}|${b.port}|${index}`;

/** The keys of every check of a real server. */
export const backendKeys = (service: string, b: Backend): string[] => b.healthChecks.map((_, i) => checkKey(service, b, i));

/** A client certificate as loaded from its Secret, or why it could not be. */
export type TlsMaterial = { cert: string; key: string; ca?: string | undefined } | { error: string };
/** Secret name (in the operator's namespace) -> its material; undefined: not read yet. */
export type TlsLookup = (secret: string) => TlsMaterial | undefined;
const noTls: TlsLookup = () => undefined;

const bytes = (text: string | undefined, encoding: 'Text' | 'Base64'): Uint8Array | undefined =>
  text === undefined ? undefined : Buffer.from(text, encoding === 'Base64' ? 'base64' : 'utf8');

/** keepalived sends `Host: address:port` unless a virtualhost is set (check_http.c request_template). */
const hostHeader = (address: string, port: number): string => `${address.includes(':') ? `[${address}]` : address}:${port}`;

function urlSpec(u: ResolvedUrl, defaultHost: string, sni: boolean): HttpUrlSpec {
  return {
    path: u.path,
    host: u.host ?? defaultHost,
    expectStatus: u.expectedStatus,
    ...(u.digest !== undefined ? { digest: u.digest } : {}),
    ...(u.regex !== undefined ? { regex: new RegExp(u.regex), regexNoMatch: u.regexNoMatch } : {}),
    // keepalived's enable_sni sends the virtual host only, never the address.
    sni: sni && u.host !== undefined ? u.host.replace(/:\d+$/, '') : false,
  };
}

export function probeSpec(hc: ResolvedHealthCheck, target: { address: string; port: number }, tls: TlsLookup = noTls): ProbeSpec {
  const common = { timeoutMs: hc.timeoutSeconds * 1000, ...(hc.bindAddress !== undefined ? { bindAddress: hc.bindAddress } : {}) };
  switch (hc.type) {
    case 'HTTP':
    case 'HTTPS': {
      const h = hc.http!;
      const urls = h.urls.map((u) => urlSpec(u, hostHeader(target.address, target.port), h.enableSNI));
      // Each URL has the timeout on its own (keepalived connects once per URL).
      const get = { ...common, timeoutMs: common.timeoutMs * urls.length, urls };
      if (hc.type === 'HTTP') return { type: 'http', ...get };
      const secret = h.clientCertificateSecret;
      const m = secret === undefined ? undefined : tls(secret);
      return {
        type: 'https', ...get, tlsVerify: h.tlsVerify,
        ...(secret === undefined ? {} : m === undefined ? { clientCertError: `client certificate Secret ${secret} not read yet` }
          : 'error' in m ? { clientCertError: m.error } : { clientCert: { cert: m.cert, key: m.key }, ...(m.ca ? { ca: m.ca } : {}) }),
      };
    }
    case 'UDP': {
      const u = hc.udp!;
      const payload = bytes(u.payload, u.encoding);
      const expect = bytes(u.expect, u.encoding);
      return { type: 'udp', ...common, ...(payload ? { payload } : {}), ...(expect ? { expectReply: { kind: 'prefix', bytes: expect } } : {}) };
    }
    case 'DNS':
      return { type: 'dns', ...common, queryName: hc.dns!.queryName, queryType: hc.dns!.queryType };
    case 'SMTP':
      return { type: 'smtp', ...common, helo: hc.smtp!.helo };
    case 'Ping':
      return { type: 'ping', ...common };
    case 'SCTP':
      return { type: 'sctp', ...common };
    case 'TCP':
      return { type: 'tcp', ...common };
  }
}

/** Where a check goes: connect_ip / connect_port, else the real server (the service port for RealServers without one). */
export function checkTarget(hc: ResolvedHealthCheck, b: Backend, servicePort: number | undefined): { address: string; port: number } {
  return { address: hc.connectAddress ?? b.address, port: hc.port ?? (b.port || servicePort || 0) };
}

/**
 * Checks this node runs for one VirtualService: every check of every real server, when it directs
 * the service. `known` holds the keys already present in the kernel at start-up: they begin
 * healthy, so an agent restart does not pull working servers out of the table while they are
 * checked again.
 */
export function serviceChecks(s: ServiceModel, node: string, known: ReadonlySet<string> = new Set(), tls: TlsLookup = noTls): [string, CheckConfig][] {
  if (!s.spec || !s.accepted || !s.directors.includes(node)) return [];
  const out: [string, CheckConfig][] = [];
  for (const b of s.backends) {
    b.healthChecks.forEach((hc, i) => {
      const key = checkKey(s.key, b, i);
      const target = checkTarget(hc, b, s.spec?.port);
      out.push([key, {
        target,
        spec: probeSpec(hc, target, tls),
        intervalMs: hc.intervalSeconds * 1000,
        rise: hc.rise,
        fall: hc.fall,
        ...(hc.retryDelaySeconds !== undefined ? { retryDelayMs: hc.retryDelaySeconds * 1000 } : {}),
        ...(hc.warmupSeconds !== undefined ? { warmupMs: hc.warmupSeconds * 1000 } : {}),
        initial: known.has(key) ? 'up' : 'down',
      }]);
    });
  }
  return out;
}

/** Client-certificate Secrets the checks of this node's services name. */
export function tlsSecrets(model: ClusterModel, node: string): Set<string> {
  const out = new Set<string>();
  for (const s of model.services.values()) {
    if (!s.spec || !s.accepted || !s.directors.includes(node)) continue;
    for (const b of s.backends) for (const hc of b.healthChecks) if (hc.http?.clientCertificateSecret) out.add(hc.http.clientCertificateSecret);
  }
  return out;
}

/** Every check this node must run, by check key. */
export function healthChecks(model: ClusterModel, node: string, known: ReadonlySet<string> = new Set(), tls: TlsLookup = noTls): Map<string, CheckConfig> {
  return new Map([...model.services.values()].flatMap((s) => serviceChecks(s, node, known, tls)));
}

/** A real server's health: all its checks up; undefined while any has no result and no initial state yet. */
export function backendHealth(get: (key: string) => { healthy: boolean } | undefined, service: string, b: Backend): boolean | undefined {
  let all: boolean | undefined = true;
  for (let i = 0; i < b.healthChecks.length; i++) {
    const h = get(checkKey(service, b, i))?.healthy;
    if (h === false) return false;
    if (h === undefined) all = undefined;
  }
  return all;
}
