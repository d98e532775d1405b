import { z } from 'zod';
import { setOf } from './common.js';
import { portNumber } from './formats.js';
import { celString, withRules } from './rules.js';

export const healthCheckTypes = ['TCP', 'HTTP', 'HTTPS', 'UDP', 'None'] as const;

const base64Source = '^([A-Za-z0-9+/]{4})*([A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$';
const base64Re = new RegExp(base64Source);

const HttpCheck = z
  .object({
    path: z
      .string()
      .max(2048)
      .regex(/^\//)
      .default('/')
      .describe('Request path, starting with "/" (keepalived HTTP_GET url path).'),
    host: z
      .string()
      .max(253)
      .regex(/^[A-Za-z0-9.:\[\]-]+$/)
      .optional()
      .describe('Host header (and TLS server name for HTTPS); defaults to the real server address.'),
    expectedStatus: setOf(
      z.int().min(100).max(599).describe('An HTTP status code.'),
      16,
      'Status codes that count as healthy (keepalived status_code).',
    ).default([200]),
    digest: z
      .string()
      .regex(/^[0-9a-fA-F]{32}$/)
      .optional()
      .describe('MD5 of the response body as 32 hex digits, as printed by keepalived genhash; when set the body must match.'),
    tlsVerify: z
      .boolean()
      .default(false)
      .describe('HTTPS only: verify the server certificate against the system roots and the host name (keepalived does not).'),
  })
  .describe('HTTP(S) check settings (keepalived HTTP_GET / SSL_GET). When omitted: GET / expecting 200.');

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

/** A health check of real servers, run by the agent on every director. */
export const HealthCheck = withRules(
  z
    .object({
      type: z
        .enum(healthCheckTypes)
        .default('TCP')
        .describe('TCP connect, HTTP or HTTPS GET, UDP probe, or None (every real server counts as healthy).'),
      port: portNumber("Port to check instead of the real server's port (keepalived connect_port).").optional(),
      intervalSeconds: z.int().min(1).max(3600).default(5).describe('Seconds between checks (keepalived delay_loop).'),
      timeoutSeconds: z
        .int()
        .min(1)
        .max(3600)
        .default(3)
        .describe('Seconds before one check attempt fails (keepalived connect_timeout); less than intervalSeconds.'),
      rise: z.int().min(1).max(100).default(1).describe('Consecutive successes before a failed real server is healthy again.'),
      fall: z
        .int()
        .min(1)
        .max(100)
        .default(3)
        .describe('Consecutive failures before a healthy real server is failed (keepalived retry).'),
      http: HttpCheck.optional(),
      udp: UdpCheck.optional(),
    })
    .describe('Health checking of the real servers (keepalived TCP_CHECK, HTTP_GET, SSL_GET, UDP_CHECK).'),
  [
    {
      cel: 'self.timeoutSeconds < self.intervalSeconds',
      holds: (c) => c.timeoutSeconds < c.intervalSeconds,
      message: 'timeoutSeconds must be less than intervalSeconds',
      fieldPath: '.timeoutSeconds',
    },
    {
      cel: "!has(self.http) || self.type in ['HTTP', 'HTTPS']",
      holds: (c) => c.http === undefined || c.type === 'HTTP' || c.type === 'HTTPS',
      message: 'http settings are only allowed with type HTTP or HTTPS',
      fieldPath: '.http',
      reason: 'FieldValueForbidden',
    },
    {
      cel: "!has(self.http) || !self.http.tlsVerify || self.type == 'HTTPS'",
      holds: (c) => !c.http?.tlsVerify || c.type === 'HTTPS',
      message: 'http.tlsVerify is only allowed with type HTTPS',
      fieldPath: '.http.tlsVerify',
      reason: 'FieldValueForbidden',
    },
    {
      cel: "!has(self.udp) || self.type == 'UDP'",
      holds: (c) => c.udp === undefined || c.type === 'UDP',
      message: 'udp settings are only allowed with type UDP',
      fieldPath: '.udp',
      reason: 'FieldValueForbidden',
    },
  ],
);
export type HealthCheck = z.infer<typeof HealthCheck>;
