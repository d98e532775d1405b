// Public surface of the health checks, for the agent and the CLI.
export { HealthChecker } from './checker.js';
export type { CheckConfig, CheckerStats, HealthChange, HealthCheckerOptions, LastResult, TargetStatus } from './checker.js';
export { realClock, type Clock, type TimerHandle } from './clock.js';
export { fetchDigest, type DigestOptions, type DigestResult } from './digest.js';
export { LATENCY_BUCKETS_SECONDS, latencyHistogram, type LatencyTotals } from './latency.js';
export {
  deadlineSignal,
  ProbeTimeoutError,
  probeDns,
  probeHttp,
  probeHttps,
  probePing,
  probeSctp,
  probeSmtp,
  probeTcp,
  probeUdp,
  runProbe,
} from './probes/index.js';
export type { InitialHealth } from './rise-fall.js';
export type * from './types.js';
