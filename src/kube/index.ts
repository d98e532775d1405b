// Kubernetes plumbing shared by the controller and the agent.
export { loadClusterAccess, fromKubeconfigFile, fromClientNodeKubeConfig, type ClusterAccess, type RequestAuth } from './config.js';
export { inCluster, inClusterAccess, serviceAccountDir } from './in-cluster.js';
export { KubeHttp, KubeApiError, isNotFound, isConflict, isAlreadyExists, isGone, type WatchEvent, type Query } from './http.js';
export { type Resource, resources, apiVersionOf, collectionPath, objectPath } from './resources.js';
export { ResourceClient, makeClients, type KubeClients, type ApplyBody, type ApplyOptions, type ListOptions } from './client.js';
export { clusterInformers, clusterLists, type ClusterInformers } from './cluster-informers.js';
export { Informer, resourceListWatcher, keyOf, type InformerEvent, type InformerOptions, type ListWatcher } from './informer.js';
export { LeaderElector, defaultIdentity, type LeaderElectorOptions } from './leader.js';
export { Deadline, FenceClosed, type Fence } from './fence.js';
export { leaseTimingError } from './lease-timing.js';
export { EventRecorder, referenceTo, type EventType, type EventRecorderOptions } from './events.js';
export { MetricsServer, type MetricsServerOptions, type Probe } from './metrics-server.js';
export { HeartbeatWatch, NodeHeartbeat, agentLeaseName, agentLeasePrefix, type NodeHeartbeatOptions } from './node-heartbeat.js';
export * from './types.js';
