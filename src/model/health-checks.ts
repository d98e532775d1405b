// The health checks a real server gets, in canonical form: the RealServer's list or the
// VirtualService's (the one-check shorthand read as a list of one), the type defaulted from the
// service protocol and every keepalived default written out, so the agent maps plain values and
// never reads the raw spec.
import { HealthCheck, type HealthCheckType, defaultSmtpHelo } from '../api/index.js';
import { canonical } from './canonical.js';

export type CheckedType = Exclude<HealthCheckType, 'None'>;

/** keepalived's default status_code when a url sets none: any 2xx (check_http.h). */
export const defaultStatusRanges: readonly StatusRange[] = [[200, 299]];
export type StatusRange = readonly [number, number];

export interface ResolvedUrl {
  path: string;
  /** Inclusive ranges, sorted and merged. */
  expectedStatus: readonly StatusRange[];
  /** Lower-case hex. */
  digest?: string | undefined;
  regex?: string | undefined;
  regexNoMatch: boolean;
  /** The URL's virtual host, else the check's; undefined: address:port. */
  host?: string | undefined;
}

export interface ResolvedHealthCheck {
  type: CheckedType;
  port?: number | undefined;
  connectAddress?: string | undefined;
  bindAddress?: string | undefined;
  intervalSeconds: number;
  timeoutSeconds: number;
  rise: number;
  fall: number;
  retryDelaySeconds?: number | undefined;
  warmupSeconds?: number | undefined;
  http?: {
    urls: readonly ResolvedUrl[];
    enableSNI: boolean;
    tlsVerify: boolean;
    clientCertificateSecret?: string | undefined;
  } | undefined;
  udp?: { payload?: string | undefined; expect?: string | undefined; encoding: 'Text' | 'Base64' } | undefined;
  dns?: { queryName: string; queryType: NonNullable<HealthCheck['dns']>['queryType'] } | undefined;
  smtp?: { helo: string } | undefined;
}

/** The spec fields that carry checks (VirtualService and RealServer alike). */
export interface CheckFields {
  healthChecks?: readonly HealthCheck[] | undefined;
  healthCheck?: HealthCheck | undefined;
}

/** The check type a service protocol gets by default: SCTP gets an association, not a TCP connect that always fails. */
export function defaultCheckType(protocol: 'TCP' | 'UDP' | 'SCTP' | undefined): CheckedType {
  return protocol ?? 'TCP';
}

/** "200-299" / 301 -> sorted, merged inclusive ranges. */
export function statusRanges(codes: readonly (number | string)[] | undefined): readonly StatusRange[] {
  if (!codes || codes.length === 0) return defaultStatusRanges;
  const ranges = codes
    .map((c): [number, number] => (typeof c === 'number' ? [c, c] : [Number(c.slice(0, 3)), Number(c.length > 3 ? c.slice(4, 7) : c.slice(0, 3))]))
    .sort((a, b) => a[0] - b[0]);
  const out: [number, number][] = [];
  for (const r of ranges) {
    const last = out[out.length - 1];
    if (last && r[0] <= last[1] + 1) last[1] = Math.max(last[1], r[1]);
    else out.push([r[0], r[1]]);
  }
  return out;
}

type UrlSpec = Pick<NonNullable<HealthCheck['http']>, 'path' | 'expectedStatus' | 'digest' | 'regex' | 'regexNoMatch' | 'host'>;

function resolveUrl(u: UrlSpec, checkHost: string | undefined): ResolvedUrl {
  const host = u.host ?? checkHost;
  return {
    path: u.path ?? '/',
    expectedStatus: statusRanges(u.expectedStatus),
    ...(u.digest !== undefined ? { digest: u.digest.toLowerCase() } : {}),
    ...(u.regex !== undefined ? { regex: u.regex } : {}),
    regexNoMatch: u.regexNoMatch ?? false,
    ...(host !== undefined ? { host } : {}),
  };
}

export function resolveCheck(c: HealthCheck, protocol: 'TCP' | 'UDP' | 'SCTP' | undefined): ResolvedHealthCheck | undefined {
  const type = c.type ?? defaultCheckType(protocol);
  if (type === 'None') return undefined;
  const out: ResolvedHealthCheck = {
    type,
    intervalSeconds: c.intervalSeconds,
    timeoutSeconds: c.timeoutSeconds,
    rise: c.rise,
    fall: c.fall,
  };
  if (c.port !== undefined) out.port = c.port;
  if (c.connectAddress !== undefined) out.connectAddress = canonical(c.connectAddress);
  if (c.bindAddress !== undefined) out.bindAddress = canonical(c.bindAddress);
  if (c.retryDelaySeconds !== undefined) out.retryDelaySeconds = c.retryDelaySeconds;
  if (c.warmupSeconds !== undefined) out.warmupSeconds = c.warmupSeconds;
  if (type === 'HTTP' || type === 'HTTPS') {
    const h = c.http;
    const urls = h?.urls ?? [h ?? {}];
    out.http = {
      urls: urls.map((u) => resolveUrl(u, h?.host)),
      enableSNI: h?.enableSNI ?? false,
      tlsVerify: h?.tlsVerify ?? false,
      ...(h?.clientCertificateSecret !== undefined ? { clientCertificateSecret: h.clientCertificateSecret } : {}),
    };
  }
  if (type === 'UDP') out.udp = { encoding: 'Text', ...c.udp };
  if (type === 'DNS') out.dns = { queryName: c.dns?.queryName ?? '.', queryType: c.dns?.queryType ?? 'SOA' };
  if (type === 'SMTP') out.smtp = { helo: c.smtp?.helo ?? defaultSmtpHelo };
  return out;
}

/** The object's own checks (the list, or the shorthand as a list of one); undefined when it sets neither. */
export function ownChecks(f: CheckFields, protocol: 'TCP' | 'UDP' | 'SCTP' | undefined): ResolvedHealthCheck[] | undefined {
  const list = f.healthChecks ?? (f.healthCheck ? [f.healthCheck] : undefined);
  if (!list) return undefined;
  return list.flatMap((c) => resolveCheck(c, protocol) ?? []);
}

/** The checks of a service's real servers when neither it nor the RealServer names any: one of the protocol, all defaults. */
export function defaultChecks(protocol: 'TCP' | 'UDP' | 'SCTP' | undefined): ResolvedHealthCheck[] {
  return [resolveCheck(HealthCheck.parse({}), protocol)!];
}
