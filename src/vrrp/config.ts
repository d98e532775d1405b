// Configuration of one virtual router and the RFC timing formulas derived from it.
import { canonicalIp, parseIp, type IpFamily } from '../address/index.js';
import { passwordAuthData, VRRP_AUTH_DATA_LENGTH, VRRP_AUTH_NONE, VRRP_AUTH_PASS } from './packet.js';

export type VrrpAuthConfig = { type: 'none' } | { type: 'pass'; password: string };

export interface VrrpInstanceConfig {
  /** For logs and metrics, e.g. "lvs-web/VI_51". */
  name: string;
  version: 2 | 3;
  family: IpFamily;
  vrid: number;
  /** 1..255; 255 means this router owns the virtual addresses (becomes master at once). */
  priority: number;
  /** v3: a multiple of 10 ms, 10..40950 (centiseconds on the wire); v2: whole seconds, 1000..255000. */
  advertIntervalMs: number;
  /** This router's address on the interface: the advert source and the tie-break (IPv6: link-local). */
  primaryAddress: string;
  virtualAddresses: string[];
  /** A backup with a higher priority takes over from a lower-priority master (default true). */
  preempt?: boolean;
  /** keepalived's preempt_delay: after startup, or after first seeing a lower-priority master, wait this long before preempting. */
  preemptDelayMs?: number;
  /** v2 only (default none). */
  auth?: VrrpAuthConfig;
  /** Drop adverts whose TTL/hop limit is not 255 (default true; keepalived skips this for unicast peers). */
  checkTtl?: boolean;
}

/** The configuration after validation: defaults filled in, addresses canonical. */
export interface ResolvedConfig {
  name: string;
  version: 2 | 3;
  family: IpFamily;
  vrid: number;
  priority: number;
  advertIntervalMs: number;
  primaryAddress: string;
  virtualAddresses: string[];
  preempt: boolean;
  preemptDelayMs: number;
  authType: number;
  authData: Buffer;
  checkTtl: boolean;
}

function integerIn(name: string, v: number, min: number, max: number): void {
  if (!Number.isInteger(v) || v < min || v > max) throw new RangeError(`${name} must be an integer in ${min}..${max}, got ${v}`);
}

/** Validate a config; throws RangeError/TypeError naming the bad field. */
export function resolveConfig(c: VrrpInstanceConfig): ResolvedConfig {
  const where = `VRRP instance ${c.name}`;
  if (c.version !== 2 && c.version !== 3) throw new RangeError(`${where}: version must be 2 or 3`);
  if (c.family !== 'IPv4' && c.family !== 'IPv6') throw new RangeError(`${where}: family must be IPv4 or IPv6`);
  if (c.version === 2 && c.family !== 'IPv4') throw new RangeError(`${where}: VRRPv2 is IPv4 only`);
  integerIn(`${where}: vrid`, c.vrid, 1, 255);
  integerIn(`${where}: priority`, c.priority, 1, 255);
  if (c.version === 3) {
    integerIn(`${where}: advertIntervalMs / 10`, c.advertIntervalMs / 10, 1, 0x0fff);
  } else {
    integerIn(`${where}: advertIntervalMs / 1000`, c.advertIntervalMs / 1000, 1, 255);
  }
  const canon = (what: string, a: string): string => {
    if (!parseIp(c.family, a)) throw new TypeError(`${where}: ${what} ${JSON.stringify(a)} is not an ${c.family} address`);
    return canonicalIp(a);
  };
  const primaryAddress = canon('primaryAddress', c.primaryAddress);
  integerIn(`${where}: number of virtualAddresses`, c.virtualAddresses.length, 1, 255);
  const virtualAddresses = c.virtualAddresses.map((a) => canon('virtual address', a));
  if (new Set(virtualAddresses).size !== virtualAddresses.length) throw new RangeError(`${where}: duplicate virtual address`);
  const preemptDelayMs = c.preemptDelayMs ?? 0;
  if (!(preemptDelayMs >= 0 && Number.isFinite(preemptDelayMs))) throw new RangeError(`${where}: preemptDelayMs must be >= 0`);
  const auth = c.auth ?? { type: 'none' };
  if (auth.type === 'pass' && c.version !== 2) throw new RangeError(`${where}: PASS authentication exists only in VRRPv2`);
  return {
    name: c.name,
    version: c.version,
    family: c.family,
    vrid: c.vrid,
    priority: c.priority,
    advertIntervalMs: c.advertIntervalMs,
    primaryAddress,
    virtualAddresses,
    preempt: c.preempt ?? true,
    preemptDelayMs,
    authType: auth.type === 'pass' ? VRRP_AUTH_PASS : VRRP_AUTH_NONE,
    authData: auth.type === 'pass' ? passwordAuthData(auth.password) : Buffer.alloc(VRRP_AUTH_DATA_LENGTH),
    checkTtl: c.checkTtl ?? true,
  };
}

/**
 * Skew_Time in ms. v3 (RFC 5798 §6.1): ((256 - priority) * Master_Adver_Interval) / 256;
 * v2 (RFC 3768 §6.1): (256 - priority) / 256 seconds. Kept exact (a multiple of 1/256 ms, so a
 * float holds it exactly) rather than rounded to centiseconds, like keepalived's microseconds.
 */
export function skewTimeMs(version: 2 | 3, priority: number, masterAdverIntervalMs: number): number {
  return ((256 - priority) * (version === 3 ? masterAdverIntervalMs : 1000)) / 256;
}

/** Master_Down_Interval = 3 * Master_Adver_Interval + Skew_Time. */
export function masterDownIntervalMs(version: 2 | 3, priority: number, masterAdverIntervalMs: number): number {
  return 3 * masterAdverIntervalMs + skewTimeMs(version, priority, masterAdverIntervalMs);
}
