// The lvs.dev/v1alpha1 API: zod schemas (the single source of truth), inferred types and parsers.
export { group, version, apiVersion, kinds, categories, type KindName } from './group.js';
export { ObjectMeta, Condition, LabelSelector, conditionTypes } from './common.js';
export { isIPv4, isIPv6, isIPv4Netmask, familyOf, type IpFamily } from './formats.js';
export { Forwarding, ForwardingOverride, forwardingMethods, tunnelTypes, tunnelFlags } from './forwarding.js';
export { HealthCheck, HealthChecks, healthCheckTypes, dnsQueryTypes, defaultSmtpHelo, type HealthCheckType, type HealthCheckInput } from './health-check.js';
export * from './bgp.js';
export * from './director-group.js';
export * from './virtual-service.js';
export * from './real-server.js';
export * from './address-pool.js';
export * from './parse.js';
export type { Rule, CelValidation } from './rules.js';
