import { z } from 'zod';
import { ObjectMeta, conditionsField, listMapOf, observedGenerationField } from './common.js';
import { dnsSubdomain, ipAddress } from './formats.js';
import { ForwardingOverride } from './forwarding.js';
import { HealthCheck, HealthChecks, healthCheckRules } from './health-check.js';
import { apiVersion } from './group.js';
import { withRules } from './rules.js';

const specFields = z.object({
  address: ipAddress('Address of the real server (ipvsadm -r address, keepalived real_server).'),
  port: z
    .int()
    .min(0)
    .max(65535)
    .optional()
    .describe('Port of the real server; 0 or omitted means the virtual service port. Must be omitted under DR and TUN.'),
  weight: z
    .int()
    .min(0)
    .max(65535)
    .default(1)
    .describe('Scheduling weight (ipvsadm -w); 0 accepts no new connections but keeps established ones.'),
  forwarding: ForwardingOverride.optional(),
  upperThreshold: z
    .int()
    .min(1)
    .max(4294967295)
    .optional()
    .describe('Stop sending new connections above this many active connections (ipvsadm -x); omit for no limit.'),
  lowerThreshold: z
    .int()
    .min(0)
    .max(4294967295)
    .optional()
    .describe('After hitting upperThreshold, resume below this many connections (ipvsadm -y); needs upperThreshold.'),
  nodeName: dnsSubdomain(
    'Kubernetes node that is this real server: its agent configures the DR/TUN real-server side (VIP on lo or tunl0, arp_ignore=1, arp_announce=2, rp_filter).',
  ).optional(),
  inhibitOnFailure: z
    .boolean()
    .optional()
    .describe(
      "Overrides the VirtualService's inhibitOnFailure for this real server: weight 0 instead of removal while it is failed (keepalived inhibit_on_failure in a real_server).",
    ),
  healthChecks: HealthChecks.optional().describe(
    "Replaces the VirtualService's health checks for this real server (the whole list; unset fields take their defaults). All must pass.",
  ),
  healthCheck: HealthCheck.optional().describe(
    "One health check replacing the VirtualService's checks for this real server: shorthand for a healthChecks list of one.",
  ),
});

/** The desired real server: one `ipvsadm -a` destination, or a keepalived `real_server`. */
export const RealServerSpec = withRules(specFields.describe('Desired state of the real server.'), [
  {
    cel: "!has(self.forwarding) || self.forwarding.method == 'NAT' || !has(self.port) || self.port == 0",
    holds: (s) => s.forwarding === undefined || s.forwarding.method === 'NAT' || !s.port,
    message: 'DR and TUN cannot map ports: omit port (or set 0) so the real server receives the virtual service port',
    fieldPath: '.port',
    reason: 'FieldValueForbidden',
  },
  {
    cel: '!has(self.lowerThreshold) || has(self.upperThreshold)',
    holds: (s) => s.lowerThreshold === undefined || s.upperThreshold !== undefined,
    message: 'lowerThreshold needs upperThreshold',
    fieldPath: '.lowerThreshold',
    reason: 'FieldValueForbidden',
  },
  {
    cel: '!has(self.lowerThreshold) || !has(self.upperThreshold) || self.lowerThreshold <= self.upperThreshold',
    holds: (s) => s.lowerThreshold === undefined || s.upperThreshold === undefined || s.lowerThreshold <= s.upperThreshold,
    message: 'lowerThreshold must not exceed upperThreshold',
    fieldPath: '.lowerThreshold',
  },
  ...healthCheckRules<z.output<typeof specFields>>(),
]);
export type RealServerSpec = z.infer<typeof RealServerSpec>;
export type RealServerSpecInput = z.input<typeof RealServerSpec>;

const RealServerDirectorView = z
  .object({
    node: z.string().min(1).max(253).describe('Director node that checks this real server (the list key).'),
    healthy: z.boolean().describe('Whether the health check from this director passes.'),
    message: z.string().max(4096).optional().describe('Last check failure, empty when healthy.'),
    lastTransitionTime: z.iso
      .datetime({ offset: true })
      .optional()
      .describe('Last time healthy changed on this director (RFC 3339).'),
  })
  .describe("One director's health verdict, written by the controller from what that director reports in the VirtualServices using this real server (their status.directors[].backends[]).");

export const RealServerStatus = z
  .object({
    observedGeneration: observedGenerationField(),
    conditions: conditionsField(),
    healthy: z.int().min(0).optional().describe('Directors on which the health check passes.'),
    total: z.int().min(0).optional().describe('Directors checking this real server.'),
    directors: listMapOf(RealServerDirectorView, ['node'], 64, 'Per-director health, one entry per director node, keyed by node.').optional(),
  })
  .describe('Observed state of the real server.');
export type RealServerStatus = z.infer<typeof RealServerStatus>;

export const RealServer = z
  .object({
    apiVersion: z.literal(apiVersion).describe('lvs.dev/v1alpha1'),
    kind: z.literal('RealServer').describe('RealServer'),
    metadata: ObjectMeta,
    spec: RealServerSpec,
    status: RealServerStatus.optional(),
  })
  .describe(
    'A real server (backend) that VirtualServices select by label: its address, port, weight and connection thresholds, like one ipvsadm -a destination or a keepalived real_server.',
  );
export type RealServer = z.infer<typeof RealServer>;
export type RealServerInput = z.input<typeof RealServer>;
