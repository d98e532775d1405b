// Plain-JSON shapes of the core objects this project reads or writes: exactly what the API
// server sends (timestamps are strings), limited to the fields we use. Unknown fields pass
// through untouched because nothing here is parsed, only typed.

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  [key: string]: unknown;
}

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
}

export interface ListResult<T> {
  items: T[];
  resourceVersion: string;
}

export interface NodeAddress {
  type: string;
  address: string;
}

export interface Node extends KubeObject {
  spec?: { unschedulable?: boolean; podCIDRs?: string[] };
  status?: {
    addresses?: NodeAddress[];
    conditions?: { type: string; status: string; reason?: string; message?: string }[];
  };
}

export interface ServicePort {
  name?: string;
  port: number;
  targetPort?: number | string;
  protocol?: 'TCP' | 'UDP' | 'SCTP';
}

/** One entry of status.loadBalancer.ingress; ipMode VIP: nodes route the address to the load balancer. */
export interface LoadBalancerIngress {
  ip?: string;
  hostname?: string;
  ipMode?: 'VIP' | 'Proxy';
}

export interface Service extends KubeObject {
  spec?: {
    ports?: ServicePort[];
    clusterIP?: string;
    type?: string;
    selector?: Record<string, string>;
    loadBalancerClass?: string;
    /** Deprecated by Kubernetes, still honoured as a requested address. */
    loadBalancerIP?: string;
    ipFamilies?: ('IPv4' | 'IPv6')[];
    ipFamilyPolicy?: string;
    /** Local: only nodes with ready endpoints take external traffic, and keep the client address. */
    externalTrafficPolicy?: 'Cluster' | 'Local';
    /** With Local: the port of kube-proxy's per-Service health check on every node (HTTP, 200 while it has local endpoints). */
    healthCheckNodePort?: number;
  };
  status?: {
    loadBalancer?: { ingress?: LoadBalancerIngress[] };
    conditions?: { type: string; status: string; reason: string; message: string; lastTransitionTime: string; observedGeneration?: number }[];
  };
}

export type Namespace = KubeObject;

export interface EndpointConditions {
  ready?: boolean;
  serving?: boolean;
  terminating?: boolean;
}

export interface Endpoint {
  addresses: string[];
  conditions?: EndpointConditions;
  nodeName?: string;
  targetRef?: { kind?: string; name?: string; namespace?: string; uid?: string };
}

export interface EndpointPort {
  name?: string;
  port?: number;
  protocol?: 'TCP' | 'UDP' | 'SCTP';
  appProtocol?: string;
}

/** Label that ties an EndpointSlice to its Service. */
export const serviceNameLabel = 'kubernetes.io/service-name';

export interface EndpointSlice extends KubeObject {
  addressType: 'IPv4' | 'IPv6' | 'FQDN';
  endpoints?: Endpoint[] | null;
  ports?: EndpointPort[] | null;
}

/** Secrets are only ever read as metadata (PartialObjectMetadata): the controller checks that they exist. */
export type SecretMeta = KubeObject;

export interface LeaseSpec {
  holderIdentity?: string | null;
  leaseDurationSeconds?: number | null;
  acquireTime?: string | null;
  renewTime?: string | null;
  leaseTransitions?: number | null;
}

export interface Lease extends KubeObject {
  spec?: LeaseSpec;
}

export interface ObjectReference {
  apiVersion?: string;
  kind: string;
  name: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
}

/** events.k8s.io/v1 Event. */
export interface Event extends KubeObject {
  eventTime: string;
  reportingController: string;
  reportingInstance: string;
  action: string;
  reason: string;
  regarding: ObjectReference;
  note?: string;
  type: 'Normal' | 'Warning';
  series?: { count: number; lastObservedTime: string };
}

/** Kubernetes MicroTime: RFC 3339 with exactly six fractional digits, as Lease and Event times require. */
export function microTime(d: Date): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}
