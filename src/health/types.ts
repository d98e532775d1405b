/** Where a probe goes: the real server's address (IPv4, IPv6 or a resolvable name) and port. */
export interface ProbeTarget {
  address: string;
  port: number;
}

/** Options every probe kind shares. */
export interface CommonProbeSpec {
  /** Deadline for the whole probe (connect + request + response). The checker aborts the probe's signal after it. */
  timeoutMs: number;
  /** Source address to originate the probe from (keepalived's `bindto`). */
  bindAddress?: string;
}

/** keepalived TCP_CHECK: success when the three-way handshake completes. */
export interface TcpProbeSpec extends CommonProbeSpec {
  type: 'tcp';
}

/** An accepted status: one code, or an inclusive range [low, high]. */
export type StatusMatch = number | readonly [number, number];

/** What one URL must answer (keepalived `url {}`); fields left out take the probe's own. */
export interface HttpUrlSpec {
  /** Request path with optional query; default `/`. */
  path?: string;
  /** Host header (keepalived's `virtualhost`); default `address:port`. */
  host?: string;
  /** Accepted statuses; default any 2xx (keepalived). */
  expectStatus?: readonly StatusMatch[];
  /** Lower-case hex MD5 of the body, as printed by keepalived's `genhash`. */
  digest?: string;
  /** Must match the body (decoded as UTF-8, at most maxBodyBytes of it) (keepalived `regex`). */
  regex?: RegExp;
  /** Pass when the regex does NOT match (keepalived `regex_no_match`). */
  regexNoMatch?: boolean;
  /** HTTPS: TLS server name; false sends none; default the Host header's name unless it is an IP. */
  sni?: string | false;
}

/** keepalived HTTP_GET: one GET per URL, each on a fresh connection, in order; all must pass. */
export interface HttpProbeSpec extends CommonProbeSpec, Omit<HttpUrlSpec, 'sni'> {
  type: 'http';
  /** Several URLs (keepalived's `url {}` blocks); without it the probe's own fields are the one URL. timeoutMs covers them all. */
  urls?: readonly HttpUrlSpec[];
  /** Bodies longer than this fail a digest (a regex is tried on this much); default 1 MiB. */
  maxBodyBytes?: number;
}

/** keepalived SSL_GET: HTTP_GET over TLS. */
export interface HttpsProbeSpec extends Omit<HttpProbeSpec, 'type'> {
  type: 'https';
  /** Verify the certificate chain and name; default false, like SSL_GET. */
  tlsVerify?: boolean;
  /** TLS server name (SNI, and the name verified when tlsVerify); false sends none. Default: the Host header's name unless it is an IP. */
  sni?: string | false;
  /** Extra trust anchors (PEM) for tlsVerify, e.g. a cluster-internal CA. */
  ca?: string | Buffer;
  /** Client certificate chain and key (PEM) to present (keepalived's SSL { certificate key }). */
  clientCert?: { cert: string | Buffer; key: string | Buffer };
  /** Set when the client certificate could not be loaded: the probe fails with this reason instead of connecting without it. */
  clientCertError?: string;
}

/** How a UDP reply must look for the probe to pass. */
export type UdpReplyMatch =
  | { kind: 'any' }
  | { kind: 'exact'; bytes: Uint8Array }
  | { kind: 'prefix'; bytes: Uint8Array }
  /** Tested against the reply decoded as latin1, so every byte maps to one character. */
  | { kind: 'regex'; pattern: RegExp };

/**
 * keepalived UDP_CHECK: send one datagram on a connected socket. Without `expectReply`
 * the probe passes on any reply, or unless an ICMP port-unreachable (ECONNREFUSED)
 * arrives within `quietMs` (default: until the deadline).
 */
export interface UdpProbeSpec extends CommonProbeSpec {
  type: 'udp';
  /** Datagram to send; default empty. */
  payload?: Uint8Array;
  expectReply?: UdpReplyMatch;
  /** Without expectReply: how long silence counts as success. Shorter than timeoutMs frees the concurrency slot sooner. */
  quietMs?: number;
}

/** DNS record types a DNS probe may ask for (keepalived DNS_CHECK `type`). */
export const dnsQueryTypes = ['A', 'NS', 'CNAME', 'SOA', 'MX', 'TXT', 'AAAA'] as const;
export type DnsQueryType = (typeof dnsQueryTypes)[number];

/** keepalived DNS_CHECK: one query over UDP; passes on a response with the same id and RCODE NOERROR, with or without answers (as keepalived). */
export interface DnsProbeSpec extends CommonProbeSpec {
  type: 'dns';
  /** Name to ask for (keepalived `name`, default "."). */
  queryName: string;
  /** Record type (keepalived `type`, default SOA). */
  queryType: DnsQueryType;
}

/** keepalived SMTP_CHECK: read the 220 greeting, send HELO, expect 250, then QUIT. */
export interface SmtpProbeSpec extends CommonProbeSpec {
  type: 'smtp';
  /** Name given in HELO (keepalived `helo_name`). */
  helo: string;
}

/** keepalived PING_CHECK: one ICMP / ICMPv6 echo request, passes on the matching echo reply. */
export interface PingProbeSpec extends CommonProbeSpec {
  type: 'ping';
}

/** An SCTP association (INIT, INIT-ACK, COOKIE-ECHO, COOKIE-ACK) then a graceful shutdown: the SCTP counterpart of TCP_CHECK. */
export interface SctpProbeSpec extends CommonProbeSpec {
  type: 'sctp';
}

export type ProbeSpec =
  | TcpProbeSpec
  | HttpProbeSpec
  | HttpsProbeSpec
  | UdpProbeSpec
  | DnsProbeSpec
  | SmtpProbeSpec
  | PingProbeSpec
  | SctpProbeSpec;
export type ProbeType = ProbeSpec['type'];

export interface ProbeResult {
  ok: boolean;
  /** Wall time of the probe; for failures, time until the failure was known. */
  latencyMs: number;
  /** Why it failed, e.g. `connect ECONNREFUSED`, `status 500 not in [200]`, `digest mismatch`, `timeout after 2000ms`. */
  reason?: string;
}

/** Every probe has this shape; the signal is its only deadline and cancellation. */
export type Probe<S extends ProbeSpec = ProbeSpec> = (
  target: ProbeTarget,
  spec: S,
  signal: AbortSignal,
) => Promise<ProbeResult>;
