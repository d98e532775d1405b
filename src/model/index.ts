// Pure cluster-state resolution, shared by the controller and the agent.
export { resolve } from './resolve.js';
export { IncrementalResolver, servicesChangedSince, type ResolverOptions } from './incremental.js';
export { buildSnapshot, carryParse, type RawSnapshot } from './snapshot.js';
export { ParsedKinds, type ObjectEvent } from './parsed-kinds.js';
export { allocateVrids, keepPrevious, compareText, minVrid, maxVrid, type VridRequest, type VridResult } from './vrid.js';
export { resolveClaims, claimOrder, type Claim, type ClaimOutcome } from './conflicts.js';
export { resolveBackends, selectRealServers, type BackendSources, type BackendResult } from './backends.js';
export { SourceIndex } from './source-index.js';
export { matchesSelector, formatSelector } from './selector.js';
export type * from './types.js';
export { resolveCheck, ownChecks, defaultChecks, defaultCheckType, statusRanges, defaultStatusRanges, type ResolvedHealthCheck, type ResolvedUrl, type StatusRange, type CheckedType } from './health-checks.js';
