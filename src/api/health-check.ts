import { z } from 'zod';
import { dnsSubdomain, familyOf, ipAddress, portNumber } from './formats.js';
import { celString, withRules } from './rules.js';

export const healthCheckTypes = ['TCP', 'HTTP', 'HTTPS', 'UDP', 'DNS', 'SMTP', 'Ping', 'SCTP', 'None'] as const;
export type HealthCheckType = (typeof healthCheckTypes)[number];
/** keepalived DNS_CHECK `type` values this project supports. */
export const dnsQueryTypes = ['A', 'NS', 'CNAME', 'SOA', 'MX', 'TXT', 'AAAA'] as const;
/** keepalived's SMTP_CHECK helo_name default (check_smtp.h). */
export const defaultSmtpHelo = 'smtpchecker.keepalived.org';
/** Most checks per real server (keepalived has no limit; 8 keeps the CRD's CEL cost bounded). */
export const maxHealthChecks = 8;
export const maxUrls = 8;

const base64Source = '^([A-Za-z0-9+/]{4})*([A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$';
const base64Re = new RegExp(base64Source);
const statusSource = '^[1-5][0-9][0-9](-[1-5][0-9][0-9])?$';
const statusRe = new RegExp(statusSource);

/** A status code (301) or an inclusive range ("200-299"), keepalived status_code syntax. */
const StatusCode = withRules(
  z.union([z.int(), z.string().max(7)]).meta({
    description: 'A status code (301) or an inclusive range of them ("200-299").',
    'x-kubernetes-int-or-string': true,
    maxLength: 7,
  }),
  [
    {
      cel: `type(self) == int ? (self >= 100 && self <= 599) : (self.matches(${celString(statusSource)}) && (size(self) == 3 || int(self.substring(0, 3)) <= int(self.substring(4, 7))))`,
      holds: (v) =>
        typeof v === 'number'
          ? v >= 100 && v <= 599
          : statusRe.test(v) && (v.length === 3 || Number(v.slice(0, 3)) <= Number(v.slice(4, 7))),
      message: 'a status code is 100-599, a range is "low-high" with low <= high (e.g. "200-299")',
    },
  ],
);

/** True when `s` compiles as a JavaScript regular expression (the agent's engine). */
export function isRegex(s: string): boolean {
  try {
    new RegExp(s);
    return true;
  } catch {
    return false;
  }
}

/** What one URL must answer (keepalived `url {}` in HTTP_GET / SSL_GET). */
const urlFields = {
  path: z
    .string()
    .max(2048)
    .regex(/^\//)
    .optional()
    .describe('Request path with optional query, starting with "/" (keepalived url path); default "/".'),
  expectedStatus: z
    .array(StatusCode)
    .min(1)
    .max(16)
    .optional()
    .describe('Status codes and ranges that count as healthy, e.g. ["200-299", 301] (keepalived status_code); default any 2xx, as keepalived.'),
  digest: z
    .string()
    .regex(/^[0-9a-fA-F]{32}$/)
    .optional()
    .describe('MD5 of the response body as 32 hex digits, as printed by keepalived genhash; when set the body must match.'),
  regex: z
    .string()
    .min(1)
    .max(1024)
    .refine(isRegex, 'regex must be a valid regular expression')
    .optional()
    .describe(
      'Regular expression (JavaScript syntax) the body must match (keepalived regex); the first 1 MiB of the body, read as UTF-8, is searched.',
    ),
  regexNoMatch: z
    .boolean()
    .optional()
    .describe('With regex: healthy when the body does NOT match (keepalived regex_no_match).'),
  host: z
    .string()
    .max(253)
    .regex(/^[A-Za-z0-9.:\[\]-]+$/)
    .optional()
    .describe(
      "Host header (keepalived virtualhost); default the check's host, else address:port of the real server. With enableSNI also the TLS server name.",
    ),
};

const Url = withRules(z.object(urlFields).describe('One URL of an HTTP(S) check (keepalived url {}).'), [
  {
    cel: '!has(self.regexNoMatch) || has(self.regex)',
    holds: (u) => u.regexNoMatch === undefined || u.regex !== undefined,
    message: 'regexNoMatch needs regex',
    fieldPath: '.regexNoMatch',
    reason: 'FieldValueForbidden',
  },
]);

const HttpCheck = withRules(
  z
    .object({
      ...urlFields,
      urls: z
        .array(Url)
        .min(1)
        .max(maxUrls)
        .optional()
        .describe(
          'Several URLs, each checked on its own connection; all must pass (keepalived url {} blocks). Instead of path, expectedStatus, digest and regex, which describe a single URL.',
        ),
      enableSNI: z
        .boolean()
        .default(false)
        .describe('HTTPS only: send the host (the URL\'s, else the check\'s) as TLS server name (keepalived enable_sni; off by default, as keepalived).'),
      tlsVerify: z
        .boolean()
        .default(false)
        .describe('HTTPS only: verify the server certificate against the system roots and the host name (keepalived does not).'),
      clientCertificateSecret: dnsSubdomain(
        "HTTPS only: name of a kubernetes.io/tls Secret in the operator's namespace whose tls.crt and tls.key the check presents as client certificate (keepalived's SSL { certificate key }); its ca.crt, if any, is trusted for tlsVerify.",
      ).optional(),
    })
    .describe('HTTP(S) check settings (keepalived HTTP_GET / SSL_GET). When omitted: GET / expecting any 2xx.'),
  [
    {
      cel: '!has(self.urls) || (!has(self.path) && !has(self.expectedStatus) && !has(self.digest) && !has(self.regex) && !has(self.regexNoMatch))',
      holds: (h) =>
        h.urls === undefined ||
        (h.path === undefined && h.expectedStatus === undefined && h.digest === undefined && h.regex === undefined && h.regexNoMatch === undefined),
      message: 'set urls, or path/expectedStatus/digest/regex for a single URL, not both',
      fieldPath: '.urls',
      reason: 'FieldValueForbidden',
    },
    {
      cel: '!has(self.regexNoMatch) || has(self.regex)',
      holds: (u) => u.regexNoMatch === undefined || u.regex !== undefined,
      message: 'regexNoMatch needs regex',
      fieldPath: '.regexNoMatch',
      reason: 'FieldValueForbidden',
    },
  ],
);

const UdpCheck = withRules(
  z
    .object({
      payload: z
        .string()
        .max(2048)
        .optional()
        .describe('Datagram to send; when omitted an empty datagram is sent and only an ICMP port-unreachable counts as failure.'),
      expect: z
        .string()
        .max(2048)
        .optional()
        .describe('When set, a reply must arrive and start with these bytes.'),
      encoding: z
        .enum(['Text', 'Base64'])
        .default('Text')
        .describe('How payload and expect are written: Text (UTF-8) or Base64 (binary protocols such as DNS).'),
    })
    .describe('UDP check settings (keepalived UDP_CHECK).'),
  [
    {
      cel: `self.encoding != 'Base64' || ((!has(self.payload) || self.payload.matches(${celString(base64Source)})) && (!has(self.expect) || self.expect.matches(${celString(base64Source)})))`,
      holds: (u) =>
        u.encoding !== 'Base64' ||
        ((u.payload === undefined || base64Re.test(u.payload)) && (u.expect === undefined || base64Re.test(u.expect))),
      message: 'payload and expect must be valid base64 with encoding Base64',
    },
  ],
);

const DnsCheck = z
  .object({
    queryName: z
      .string()
      .min(1)
      .max(253)
      .regex(/^(\.|[A-Za-z0-9_]([-A-Za-z0-9_]{0,61}[A-Za-z0-9_])?(\.[A-Za-z0-9_]([-A-Za-z0-9_]{0,61}[A-Za-z0-9_])?)*\.?)$/)
      .default('.')
      .describe('Name to ask for (keepalived DNS_CHECK name); default "." (the root), as keepalived.'),
    queryType: z
      .enum(dnsQueryTypes)
      .default('SOA')
      .describe('Record type to ask for (keepalived DNS_CHECK type); default SOA, as keepalived. The reply must be NOERROR; as keepalived, an answer is not required.'),
  })
  .describe('DNS check settings (keepalived DNS_CHECK): one query over UDP.');

const SmtpCheck = z
  .object({
    helo: z
      .string()
      .min(1)
      .max(253)
      .regex(/^[A-Za-z0-9.-]+$/)
      .default(defaultSmtpHelo)
      .describe(`Name sent in HELO (keepalived helo_name); default ${defaultSmtpHelo}, as keepalived.`),
  })
  .describe('SMTP check settings (keepalived SMTP_CHECK): the 220 greeting, HELO answered by 250, then QUIT.');

/** Which settings block belongs to which type. */
const blocks = [
  ['http', ['HTTP', 'HTTPS']],
  ['udp', ['UDP']],
  ['dns', ['DNS']],
  ['smtp', ['SMTP']],
] as const;

/** One health check of real servers, run by the agent on every director (one keepalived checker). */
export const HealthCheck = withRules(
  z
    .object({
      type: z
        .enum(healthCheckTypes)
        .optional()
        .describe(
          'TCP connect, HTTP or HTTPS GET, UDP datagram, DNS query, SMTP greeting, Ping (ICMP echo), SCTP association, or None (every real server counts as healthy). Default: follows the service protocol (TCP, UDP or SCTP; TCP for fwmark services).',
        ),
      port: portNumber("Port to check instead of the real server's port (keepalived connect_port).").optional(),
      connectAddress: ipAddress(
        "Address to check instead of the real server's (keepalived connect_ip), e.g. a health endpoint on another interface; the same family as the real server.",
      ).optional(),
      bindAddress: ipAddress('Source address of the checks (keepalived bindto); an address of the director.').optional(),
      intervalSeconds: z.int().min(1).max(3600).default(5).describe('Seconds between checks (keepalived delay_loop).'),
      timeoutSeconds: z
        .int()
        .min(1)
        .max(3600)
        .default(3)
        .describe('Seconds before one check attempt fails (keepalived connect_timeout); less than intervalSeconds. An HTTP(S) check with several URLs has this much per URL.'),
      rise: z.int().min(1).max(100).default(1).describe('Consecutive successes before a failed real server is healthy again.'),
      fall: z
        .int()
        .min(1)
        .max(100)
        .default(3)
        .describe('Consecutive failures before a healthy real server is failed (keepalived retry N is fall N+1).'),
      retryDelaySeconds: z
        .int()
        .min(1)
        .max(3600)
        .optional()
        .describe(
          'After a failed attempt of a healthy real server, the next attempt comes after this many seconds instead of intervalSeconds, until fall is reached (keepalived delay_before_retry). Default: intervalSeconds.',
        ),
      warmupSeconds: z
        .int()
        .min(0)
        .max(3600)
        .optional()
        .describe(
          'The first check of a real server comes after a random delay of up to this many seconds (keepalived warmup), so checks of many servers do not start together. Default: a tenth of intervalSeconds.',
        ),
      http: HttpCheck.optional(),
      udp: UdpCheck.optional(),
      dns: DnsCheck.optional(),
      smtp: SmtpCheck.optional(),
    })
    .describe('A health check of the real servers (keepalived TCP_CHECK, HTTP_GET, SSL_GET, UDP_CHECK, DNS_CHECK, SMTP_CHECK, PING_CHECK).'),
  [
    {
      cel: 'self.timeoutSeconds < self.intervalSeconds',
      holds: (c) => c.timeoutSeconds < c.intervalSeconds,
      message: 'timeoutSeconds must be less than intervalSeconds',
      fieldPath: '.timeoutSeconds',
    },
    ...blocks.map(([field, types]) => ({
      cel: `!has(self.${field}) || (has(self.type) && self.type in [${types.map((t) => `'${t}'`).join(', ')}])`,
      holds: (c: { type?: HealthCheckType | undefined } & Partial<Record<(typeof blocks)[number][0], unknown>>) =>
        c[field] === undefined || (c.type !== undefined && (types as readonly string[]).includes(c.type)),
      message: `${field} settings are only allowed with type ${types.join(' or ')}`,
      fieldPath: `.${field}`,
      reason: 'FieldValueForbidden' as const,
    })),
    {
      cel: "!has(self.http) || self.type == 'HTTPS' || (!self.http.tlsVerify && !self.http.enableSNI && !has(self.http.clientCertificateSecret))",
      holds: (c) => c.http === undefined || c.type === 'HTTPS' || (!c.http.tlsVerify && !c.http.enableSNI && c.http.clientCertificateSecret === undefined),
      message: 'http.tlsVerify, http.enableSNI and http.clientCertificateSecret are only allowed with type HTTPS',
      fieldPath: '.http',
      reason: 'FieldValueForbidden',
    },
    {
      cel: "!has(self.connectAddress) || !has(self.bindAddress) || self.connectAddress.contains(':') == self.bindAddress.contains(':')",
      holds: (c) => c.connectAddress === undefined || c.bindAddress === undefined || familyOf(c.connectAddress) === familyOf(c.bindAddress),
      message: 'connectAddress and bindAddress must have the same address family',
      fieldPath: '.bindAddress',
    },
  ],
);
export type HealthCheck = z.infer<typeof HealthCheck>;
export type HealthCheckInput = z.input<typeof HealthCheck>;

/** The several checks of a real server; all must pass (keepalived: several checkers in one real_server). */
export const HealthChecks = withRules(
  z
    .array(HealthCheck)
    .min(1)
    .max(maxHealthChecks)
    .describe(
      'Health checks of every real server; a real server is healthy only while all of them pass (keepalived: several checkers in one real_server). type None only alone.',
    ),
  [
    {
      cel: "self.size() == 1 || self.all(c, !has(c.type) || c.type != 'None')",
      holds: (l) => l.length === 1 || l.every((c) => c.type !== 'None'),
      message: 'type None (no checking) cannot be combined with other checks',
    },
  ],
);

/** Rules for an object that holds both the list and its one-check shorthand. */
export function healthCheckRules<T extends { healthCheck?: unknown; healthChecks?: unknown }>() {
  return [
    {
      cel: '!has(self.healthCheck) || !has(self.healthChecks)',
      holds: (s: T) => s.healthCheck === undefined || s.healthChecks === undefined,
      message: 'set healthChecks or healthCheck (a one-check shorthand), not both',
      fieldPath: '.healthChecks',
      reason: 'FieldValueForbidden' as const,
    },
  ];
}
