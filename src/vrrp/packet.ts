// VRRP advertisement codec: VRRPv3 (RFC 5798) for IPv4 and IPv6, VRRPv2 (RFC 3768) for IPv4
// with auth type 0 (none) or 1 (simple text password), laid out as keepalived 2.2.7 sends them:
//
//   0: version<<4 | type   1: VRID   2: priority   3: count of addresses
//   v3  4-5: 4 reserved bits + Max Advert Interval in centiseconds (12 bits)    6-7: checksum
//   v2  4: auth type   5: Advert Interval in seconds                             6-7: checksum
//   8..: addresses (4 or 16 bytes each); v2 then 8 bytes of authentication data.
//
// Checksums: v3 over a pseudo-header (RFC 5798 §5.2.8; IPv4: src, dst, zero, 112, length;
// IPv6: src, dst, 32-bit length, 3 zero bytes, next header 112) plus the message; v2 over the
// message only, as keepalived does. Decoding never throws on packet bytes: every problem is a
// typed drop reason so the caller can count it.
import { timingSafeEqual } from 'node:crypto';
import { addressLength, formatIp, mustParseIp, parseIp, type IpFamily } from '../address/index.js';
import { internetChecksum } from './checksum.js';

export const VRRP_PROTOCOL = 112;
export const VRRP_TTL = 255;
export const VRRP_MULTICAST_IPV4 = '224.0.0.18';
export const VRRP_MULTICAST_IPV6 = 'ff02::12';
export const VRRP_ADVERTISEMENT = 1;
export const VRRP_AUTH_NONE = 0;
export const VRRP_AUTH_PASS = 1;
export const VRRP_AUTH_DATA_LENGTH = 8;
const HEADER_LENGTH = 8;

export interface VrrpV3Advert {
  version: 3;
  family: IpFamily;
  vrid: number;
  priority: number;
  /** Max Advert Interval, centiseconds, 1..4095. */
  maxAdvertIntervalCs: number;
  addresses: string[];
}

export interface VrrpV2Advert {
  version: 2;
  family: 'IPv4';
  vrid: number;
  priority: number;
  /** Advertisement Interval, seconds, 1..255. */
  advertIntervalSec: number;
  /** 0 = none, 1 = simple text password; anything else is kept so the receiver can refuse it. */
  authType: number;
  /** Always 8 bytes on the wire (zero when unused). */
  authData: Buffer;
  addresses: string[];
}

export type VrrpAdvert = VrrpV2Advert | VrrpV3Advert;

/** Why a received packet was not acted on. */
export type DropReason =
  | 'bad-ip-header'
  | 'bad-length'
  | 'bad-ttl'
  | 'bad-version'
  | 'bad-type'
  | 'bad-checksum'
  | 'bad-interval'
  | 'wrong-vrid'
  | 'auth-mismatch'
  | 'address-count-mismatch'
  | 'address-list-mismatch'
  | 'interval-mismatch'
  | 'from-self';

export const DROP_REASONS: readonly DropReason[] = [
  'bad-ip-header',
  'bad-length',
  'bad-ttl',
  'bad-version',
  'bad-type',
  'bad-checksum',
  'bad-interval',
  'wrong-vrid',
  'auth-mismatch',
  'address-count-mismatch',
  'address-list-mismatch',
  'interval-mismatch',
  'from-self',
];

export interface Drop {
  reason: DropReason;
  detail: string;
}

/** The IP header addresses of a packet: v3 checksums cover them. */
export interface Endpoints {
  src: string;
  dst: string;
}

/** What the socket layer knows about a received VRRP payload. */
export interface RxInfo extends Endpoints {
  family: IpFamily;
  /** IPv4 TTL or IPv6 hop limit; leave undefined when the socket cannot tell. */
  ttl?: number;
}

export type DecodeResult = ({ ok: true; advert: VrrpAdvert; checksum: number }) | ({ ok: false } & Drop);

export function advertIntervalMs(a: VrrpAdvert): number {
  return a.version === 3 ? a.maxAdvertIntervalCs * 10 : a.advertIntervalSec * 1000;
}

/** Authentication data for a PASS password: its UTF-8 bytes, zero padded to 8, as keepalived stores it. */
export function passwordAuthData(password: string): Buffer {
  const bytes = Buffer.from(password, 'utf8');
  if (bytes.length === 0 || bytes.length > VRRP_AUTH_DATA_LENGTH) {
    // keepalived silently truncates longer passwords; refuse instead so nobody is surprised.
    throw new RangeError(`VRRP PASS password must be 1..8 bytes, got ${bytes.length}`);
  }
  const out = Buffer.alloc(VRRP_AUTH_DATA_LENGTH);
  bytes.copy(out);
  return out;
}

/** The pseudo-header that v3 checksums cover (RFC 5798 §5.2.8 via RFC 768 / RFC 8200 §8.1). */
export function pseudoHeader(family: IpFamily, src: string, dst: string, length: number): Buffer {
  if (family === 'IPv4') {
    const h = Buffer.alloc(12);
    mustParseIp('IPv4', src).copy(h, 0);
    mustParseIp('IPv4', dst).copy(h, 4);
    h[9] = VRRP_PROTOCOL;
    h.writeUInt16BE(length, 10);
    return h;
  }
  const h = Buffer.alloc(40);
  mustParseIp('IPv6', src).copy(h, 0);
  mustParseIp('IPv6', dst).copy(h, 16);
  h.writeUInt32BE(length, 32);
  h[39] = VRRP_PROTOCOL;
  return h;
}

function messageLength(version: number, family: IpFamily, count: number): number {
  return HEADER_LENGTH + count * addressLength(family) + (version === 2 ? VRRP_AUTH_DATA_LENGTH : 0);
}

function checkRange(name: string, v: number, min: number, max: number): void {
  if (!Number.isInteger(v) || v < min || v > max) throw new RangeError(`VRRP ${name} must be an integer ${min}..${max}, got ${v}`);
}

/** The VRRP message (no IP header) with its checksum filled in. */
export function encodeAdvert(a: VrrpAdvert, ep: Endpoints): Buffer {
  if (a.version === 2 && a.family !== 'IPv4') throw new RangeError('VRRPv2 is only supported over IPv4');
  checkRange('VRID', a.vrid, 1, 255);
  checkRange('priority', a.priority, 0, 255);
  checkRange('address count', a.addresses.length, 1, 255);
  const alen = addressLength(a.family);
  const buf = Buffer.alloc(messageLength(a.version, a.family, a.addresses.length));
  buf[0] = (a.version << 4) | VRRP_ADVERTISEMENT;
  buf[1] = a.vrid;
  buf[2] = a.priority;
  buf[3] = a.addresses.length;
  if (a.version === 3) {
    checkRange('max advert interval (cs)', a.maxAdvertIntervalCs, 1, 0x0fff);
    buf.writeUInt16BE(a.maxAdvertIntervalCs, 4); // the 4 reserved bits stay zero
  } else {
    checkRange('auth type', a.authType, 0, 255);
    checkRange('advert interval (s)', a.advertIntervalSec, 1, 255);
    if (a.authData.length !== VRRP_AUTH_DATA_LENGTH) throw new RangeError('VRRPv2 auth data must be 8 bytes');
    buf[4] = a.authType;
    buf[5] = a.advertIntervalSec;
    a.authData.copy(buf, HEADER_LENGTH + a.addresses.length * alen);
  }
  a.addresses.forEach((addr, i) => mustParseIp(a.family, addr).copy(buf, HEADER_LENGTH + i * alen));
  const sum =
    a.version === 3 ? internetChecksum(pseudoHeader(a.family, ep.src, ep.dst, buf.length), buf) : internetChecksum(buf);
  buf.writeUInt16BE(sum, 6);
  return buf;
}

const drop = (reason: DropReason, detail: string): DecodeResult => ({ ok: false, reason, detail });

/**
 * Parse and verify one received VRRP message: TTL (when `rx.ttl` is given), version, type,
 * length, checksum and interval sanity. What depends on local configuration (VRID, auth,
 * address list, v2 interval) is `checkAdvert`'s job.
 */
export function decodeAdvert(bytes: Uint8Array, rx: RxInfo): DecodeResult {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (rx.ttl !== undefined && rx.ttl !== VRRP_TTL) return drop('bad-ttl', `TTL/hop limit ${rx.ttl}, expected ${VRRP_TTL}`);
  if (b.length < HEADER_LENGTH) return drop('bad-length', `${b.length} bytes is shorter than the VRRP header`);
  const version = b[0]! >> 4;
  const type = b[0]! & 0x0f;
  if (version !== 2 && version !== 3) return drop('bad-version', `version ${version}`);
  if (version === 2 && rx.family !== 'IPv4') return drop('bad-version', 'VRRPv2 over IPv6 is not supported');
  if (type !== VRRP_ADVERTISEMENT) return drop('bad-type', `type ${type}`);
  const count = b[3]!;
  const expected = messageLength(version, rx.family, count);
  if (b.length !== expected) return drop('bad-length', `${b.length} bytes, ${count} addresses need ${expected}`);
  const sum =
    version === 3 ? internetChecksum(pseudoHeader(rx.family, rx.src, rx.dst, b.length), b) : internetChecksum(b);
  const checksum = b.readUInt16BE(6);
  if (sum !== 0) return drop('bad-checksum', `checksum 0x${checksum.toString(16).padStart(4, '0')} does not verify`);
  const alen = addressLength(rx.family);
  const addresses: string[] = [];
  for (let i = 0; i < count; i++) {
    const at = HEADER_LENGTH + i * alen;
    addresses.push(formatIp(rx.family, b.subarray(at, at + alen)));
  }
  const common = { vrid: b[1]!, priority: b[2]!, addresses };
  if (version === 3) {
    const cs = b.readUInt16BE(4) & 0x0fff; // reserved bits are ignored on receipt
    if (cs === 0) return drop('bad-interval', 'max advert interval 0');
    return { ok: true, checksum, advert: { version: 3, family: rx.family, maxAdvertIntervalCs: cs, ...common } };
  }
  if (b[5] === 0) return drop('bad-interval', 'advert interval 0');
  const authAt = HEADER_LENGTH + count * alen;
  const authData = Buffer.from(b.subarray(authAt, authAt + VRRP_AUTH_DATA_LENGTH));
  return {
    ok: true,
    checksum,
    advert: { version: 2, family: 'IPv4', authType: b[4]!, advertIntervalSec: b[5]!, authData, ...common },
  };
}

/** The local configuration a received advert is checked against. */
export interface AdvertExpectation {
  version: 2 | 3;
  family: IpFamily;
  vrid: number;
  /** Canonical text (as decodeAdvert produces), any order. */
  addresses: readonly string[];
  /** v2 only: the configured interval, which a v2 advert must carry. */
  advertIntervalMs: number;
  /** v2 only: 0 or 1, and the 8 bytes a PASS advert must carry. */
  authType: number;
  authData: Buffer;
}

/** Why this advert must be dropped under the local configuration, or undefined to accept it. */
export function checkAdvert(a: VrrpAdvert, exp: AdvertExpectation): Drop | undefined {
  if (a.version !== exp.version) return { reason: 'bad-version', detail: `version ${a.version}, configured ${exp.version}` };
  if (a.family !== exp.family) return { reason: 'bad-version', detail: `${a.family} advert for an ${exp.family} router` };
  if (a.vrid !== exp.vrid) return { reason: 'wrong-vrid', detail: `VRID ${a.vrid}, configured ${exp.vrid}` };
  if (a.version === 2) {
    if (a.authType !== exp.authType) {
      return { reason: 'auth-mismatch', detail: `auth type ${a.authType}, configured ${exp.authType}` };
    }
    if (a.authType === VRRP_AUTH_PASS && !timingSafeEqual(a.authData, exp.authData)) {
      return { reason: 'auth-mismatch', detail: 'wrong password' };
    }
    // RFC 3768 §7.1: a v2 router MUST drop adverts whose interval differs from its own.
    if (advertIntervalMs(a) !== exp.advertIntervalMs) {
      return { reason: 'interval-mismatch', detail: `${a.advertIntervalSec}s, configured ${exp.advertIntervalMs / 1000}s` };
    }
  }
  // RFC 5798 §7.1: a wrong address list is a misconfiguration; drop unless the sender is the owner.
  if (a.priority !== 255) {
    if (a.addresses.length !== exp.addresses.length) {
      return {
        reason: 'address-count-mismatch',
        detail: `${a.addresses.length} addresses, configured ${exp.addresses.length}`,
      };
    }
    const mine = new Set(exp.addresses);
    const missing = a.addresses.filter((x) => !mine.has(x));
    if (missing.length > 0) return { reason: 'address-list-mismatch', detail: `unexpected ${missing.join(', ')}` };
  }
  return undefined;
}

/** The VRID of a message that is at least a header long, so a socket can route it to its instance. */
export function peekVrid(bytes: Uint8Array): number | undefined {
  return bytes.length >= HEADER_LENGTH ? bytes[1] : undefined;
}

/** True when `text` is an address of `family` (for config validation without throwing). */
export function isAddress(family: IpFamily, text: string): boolean {
  return parseIp(family, text) !== undefined;
}
