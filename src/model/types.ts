import type {
  DirectorGroup,
  Forwarding,
  IpFamily,
  RealServer,
  Scheduler,
  VirtualService,
  VirtualServiceSpec,
} from '../api/index.js';
import type { VirtualServiceKey } from '../ipvs/types.js';
import type { EndpointSlice, Node, Service } from '../kube/types.js';
import type { ResolvedHealthCheck } from './health-checks.js';

/**
 * Everything `resolve` looks at. The lvs.dev objects are already parsed (schema defaults
 * applied); objects that failed to parse are listed in `invalid` so they can be reported
 * instead of silently skipped.
 */
export interface Snapshot {
  directorGroups: readonly DirectorGroup[];
  virtualServices: readonly VirtualService[];
  realServers: readonly RealServer[];
  services: readonly Service[];
  endpointSlices: readonly EndpointSlice[];
  nodes: readonly Node[];
  /** `namespace/name` of the Secrets that exist; undefined when the caller does not know (no check). */
  secrets?: ReadonlySet<string> | undefined;
  /** IPVS schedulers the kernel lacks, when the caller knows (an agent does, the controller does not). */
  unsupportedSchedulers?: readonly string[] | undefined;
  invalid?: readonly InvalidObject[] | undefined;
}

export interface InvalidObject {
  kind: 'DirectorGroup' | 'VirtualService' | 'RealServer';
  namespace?: string | undefined;
  name: string;
  generation?: number | undefined;
  error: string;
}

/** Why something is not (fully) right; `reason` becomes a condition reason, `message` its message. */
export type Reason =
  | 'InvalidSpec'
  | 'Conflict'
  | 'DirectorGroupNotFound'
  | 'NoDirectors'
  | 'PortMappingNotSupported'
  | 'PortCleared'
  | 'FamilyMismatch'
  | 'NoBackends'
  | 'UnsupportedScheduler'
  | 'VridExhausted'
  | 'ServiceNotFound'
  | 'ServicePortNotFound'
  | 'InvalidEndpoint'
  | 'EndpointWithoutNode'
  | 'NodeNotFound'
  | 'NodeWithoutAddress'
  | 'AuthSecretNotFound'
  | 'NotSelected';

export interface Issue {
  reason: Reason;
  message: string;
  /** Blocking issues keep the object from being programmed at all; the others degrade it. */
  blocking: boolean;
}

export interface VridAllocation {
  vip: string;
  interface: string;
  vrid: number;
}

export type BackendSource =
  | { kind: 'RealServer'; namespace: string; name: string }
  | { kind: 'EndpointSlice'; namespace: string; name: string; service: string }
  /** backends.service.target Nodes: a node hosting `endpoints` ready endpoints of `service`. */
  | { kind: 'Node'; name: string; service: string; endpoints: number };

/** One IPVS destination, with everything the agent needs to program and check it. */
export interface Backend {
  /** Canonical text form. */
  address: string;
  /** 0 for fwmark services that keep the packet's port. */
  port: number;
  weight: number;
  forwarding: Forwarding;
  upperThreshold?: number | undefined;
  lowerThreshold?: number | undefined;
  /** The node that is this real server (its agent configures the DR/TUN side). */
  nodeName?: string | undefined;
  /** Canonical checks, all of which must pass; empty: not checked (type None), always healthy. */
  healthChecks: readonly ResolvedHealthCheck[];
  /** Weight 0 instead of removal while failed: the RealServer's own setting, else the service's. */
  inhibitOnFailure: boolean;
  source: BackendSource;
}

/** A VirtualService spec as compile gets it: the scheduler (and its flags) always named. */
export type ServiceSpec = VirtualServiceSpec & { scheduler: Scheduler };

export interface ServiceModel {
  /** `namespace/name`. */
  key: string;
  namespace: string;
  name: string;
  generation: number | undefined;
  /** Canonical, with the scheduler resolved; undefined when the stored object failed to parse. */
  spec: ServiceSpec | undefined;
  /** The agents program it (on the directors of its group). */
  accepted: boolean;
  issues: Issue[];
  /** The IPVS service, canonical: compile programs exactly this key, the kernel reports it back. */
  ipvsService: VirtualServiceKey | undefined;
  /** Its label, `TCP 192.0.2.10:80` or `FWM 7 IPv4` (serviceKeyLabel), as status and conflicts name it. */
  ipvsKey: string | undefined;
  family: IpFamily | undefined;
  group: string;
  /** Director node names (sorted); empty when the group is missing or selects nothing. */
  directors: string[];
  /** VIPs the VRRP master holds for this service, canonical, with their router ids. */
  vips: VridAllocation[];
  /** Resolved real servers, sorted by address and port. */
  backends: Backend[];
}

/** A gateway address of a group (spec.gatewayAddresses), canonical, that the group may carry. */
export interface GatewayModel {
  /** Canonical address, without the prefix: the key of its router id in `vrids`. */
  address: string;
  prefixLen: number;
  interface: string;
  /** Canonical; empty: multicast. */
  unicastPeers: string[];
}

export interface GroupModel {
  name: string;
  generation: number | undefined;
  group: DirectorGroup | undefined;
  directors: string[];
  /** Gateway addresses accepted (no clash with another group's or a service VIP), sorted by address. */
  gateways: GatewayModel[];
  /** Service VIPs and gateway addresses, sorted by interface, then address; none in a BGP group. */
  vrids: VridAllocation[];
  /** The service VIPs of the VirtualServices that won their claims here, canonical, sorted. */
  vips: string[];
  /** Keys of the VirtualServices that won their claims in this group, sorted. */
  services: string[];
  issues: Issue[];
}

export interface RealServerModel {
  key: string;
  namespace: string;
  name: string;
  generation: number | undefined;
  /** Keys of the VirtualServices whose selector matches it (accepted or not), sorted. */
  selectedBy: string[];
  /** Keys of the VirtualServices that actually use it as a backend. */
  usedBy: string[];
  issues: Issue[];
}

export interface ClusterModel {
  groups: Map<string, GroupModel>;
  services: Map<string, ServiceModel>;
  realServers: Map<string, RealServerModel>;
  /**
   * From the incremental resolver: the services whose model may differ from `previous`'s (a
   * superset; undefined: removed). A consumer that saw `previous` can look at these alone
   * instead of walking every service (servicesChangedSince); any other consumer walks
   * `services`. Not enumerable (a model equals resolve()'s), and `previous` is weak (models do
   * not chain).
   */
  readonly changes?: { previous: WeakRef<ClusterModel>; services: ReadonlyMap<string, ServiceModel | undefined> } | undefined;
}
