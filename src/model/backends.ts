import { type IpFamily, type LabelSelector, type RealServer, type VirtualService, familyOf } from '../api/index.js';
import type { EndpointSlice, Node, Service, ServicePort } from '../kube/types.js';
import { canonical, canonicalKube } from './canonical.js';
import { formatSelector, matchesSelector } from './selector.js';
import { defaultChecks, ownChecks } from './health-checks.js';
import type { Backend, Issue } from './types.js';
import { compareText } from './vrid.js';

/** The objects of one namespace that backends can come from (see SourceIndex). */
export interface BackendSources {
  /** RealServers by name. */
  realServers: ReadonlyMap<string, RealServer>;
  /** RealServers by `key=value` of each label, so matchLabels selectors need not scan them all. */
  realServersByLabel: ReadonlyMap<string, ReadonlySet<RealServer>>;
  /** Services by name. */
  services: ReadonlyMap<string, Service>;
  /** EndpointSlices by the Service name they belong to. */
  slicesByService: ReadonlyMap<string, Iterable<EndpointSlice>>;
  /** The cluster's nodes by name (backends.service.target Nodes). */
  nodes: ReadonlyMap<string, Node>;
}

export interface BackendResult {
  backends: Backend[];
  /** Problems of the service itself (non-blocking: the other backends are still used). */
  issues: Issue[];
  /** RealServers the selector matched, by name. */
  selected: string[];
  /** RealServers used as backends, by name. */
  used: string[];
  /** Problems of individual RealServers, by name. */
  realServerIssues: Map<string, Issue[]>;
}

function pushIssue(map: Map<string, Issue[]>, name: string, issue: Issue): void {
  const list = map.get(name) ?? [];
  list.push(issue);
  map.set(name, list);
}

function servicePortOf(svc: Service, ref: number | string | undefined): ServicePort | string {
  const ports = svc.spec?.ports ?? [];
  const name = svc.metadata.name ?? '';
  if (ref === undefined) {
    const only = ports[0];
    if (ports.length === 1 && only) return only;
    return `Service ${name} has ${ports.length} ports; set backends.service.port to one of ${
      ports.map((p) => p.name ?? String(p.port)).join(', ') || '(none)'
    }`;
  }
  const found = ports.find((p) => (typeof ref === 'number' ? p.port === ref : p.name === ref));
  return found ?? `Service ${name} has no port ${JSON.stringify(ref)}`;
}

/**
 * The real servers of one VirtualService: RealServers matched by its label selector in
 * its namespace, then the ready endpoints of its Service, deduplicated by address:port
 * (a RealServer wins over an endpoint). Backends that cannot be programmed are left out
 * with an issue that says why, so the rest still serve.
 */
export function resolveBackends(vs: VirtualService, family: IpFamily, src: BackendSources): BackendResult {
  const spec = vs.spec;
  const namespace = vs.metadata.namespace ?? '';
  const vsName = `${namespace}/${vs.metadata.name ?? ''}`;
  const vsPort = spec.port ?? 0;
  const issues: Issue[] = [];
  const selected: string[] = [];
  const used: string[] = [];
  const realServerIssues = new Map<string, Issue[]>();
  const byEndpoint = new Map<string, Backend>();
  // One resolved list per object, shared by its backends.
  const serviceChecks = ownChecks(spec, spec.protocol) ?? defaultChecks(spec.protocol);
  const badEndpoints: string[] = [];
  const add = (b: Backend): boolean => {
    const k = `${b.address}|${b.port}`;
    if (byEndpoint.has(k)) return false;
    byEndpoint.set(k, b);
    return true;
  };

  const selector = spec.backends.realServerSelector;
  if (selector) {
    for (const rs of selectRealServers(selector, src)) {
      const rsName = rs.metadata.name ?? '';
      selected.push(rsName);
      const forwarding = rs.spec.forwarding ?? spec.forwarding;
      if (familyOf(rs.spec.address) !== family) {
        const msg = `RealServer ${rsName} address ${rs.spec.address} is ${familyOf(rs.spec.address)} but VirtualService ${vsName} is ${family}`;
        pushIssue(realServerIssues, rsName, { reason: 'FamilyMismatch', message: msg, blocking: false });
        issues.push({ reason: 'FamilyMismatch', message: msg, blocking: false });
        continue;
      }
      let rsPort = rs.spec.port ?? 0;
      if (forwarding.method !== 'NAT' && rsPort !== 0 && spec.fwmark !== undefined) {
        // As keepalived (check_data.c): the port is cleared, the real server kept; DR/TUN deliver
        // the packet's own port, whatever it is.
        const msg = `RealServer ${rsName} port ${rsPort} cleared: fwmark VirtualService ${vsName} forwards by ${forwarding.method}, which delivers the packet's own port`;
        pushIssue(realServerIssues, rsName, { reason: 'PortCleared', message: msg, blocking: false });
        issues.push({ reason: 'PortCleared', message: msg, blocking: false });
        rsPort = 0;
      } else if (forwarding.method !== 'NAT' && rsPort !== 0 && rsPort !== vsPort) {
        const msg = `RealServer ${rsName} port ${rsPort} differs from port ${vsPort} of VirtualService ${vsName}; ${forwarding.method} forwarding cannot map ports (use NAT or omit the port)`;
        pushIssue(realServerIssues, rsName, { reason: 'PortMappingNotSupported', message: msg, blocking: false });
        issues.push({ reason: 'PortMappingNotSupported', message: msg, blocking: false });
        continue;
      }
      const b: Backend = {
        address: canonical(rs.spec.address),
        port: rsPort !== 0 ? rsPort : vsPort,
        weight: rs.spec.weight ?? spec.backends.defaultWeight,
        forwarding,
        healthChecks: ownChecks(rs.spec, spec.protocol) ?? serviceChecks,
        // keepalived: a real_server's inhibit_on_failure, else its virtual_server's.
        inhibitOnFailure: rs.spec.inhibitOnFailure ?? spec.inhibitOnFailure,
        source: { kind: 'RealServer', namespace, name: rsName },
      };
      if (rs.spec.upperThreshold !== undefined) b.upperThreshold = rs.spec.upperThreshold;
      if (rs.spec.lowerThreshold !== undefined) b.lowerThreshold = rs.spec.lowerThreshold;
      if (rs.spec.nodeName !== undefined) b.nodeName = rs.spec.nodeName;
      if (add(b)) used.push(rsName);
    }
  }

  const ref = spec.backends.service;
  if (ref) {
    const svc = src.services.get(ref.name);
    if (!svc) {
      issues.push({ reason: 'ServiceNotFound', message: `Service ${namespace}/${ref.name} does not exist`, blocking: false });
    } else {
      const sp = servicePortOf(svc, ref.port);
      if (typeof sp === 'string') {
        issues.push({ reason: 'ServicePortNotFound', message: sp, blocking: false });
      } else {
        const portName = sp.name ?? '';
        const mapped = new Set<number>();
        // target Nodes: ready endpoints counted per node; the nodes become the backends below.
        const perNode = new Map<string, number>();
        let withoutNode = 0;
        const slices = [...(src.slicesByService.get(ref.name) ?? [])]
          // Dual-stack Services have one slice family per VIP family; the other is not a mismatch.
          .filter((s) => s.addressType === family)
          .sort((a, b) => compareText(a.metadata.name ?? '', b.metadata.name ?? ''));
        for (const slice of slices) {
          const port = slice.ports?.find((p) => (p.name ?? '') === portName)?.port;
          if (port === undefined) continue;
          for (const ep of slice.endpoints ?? []) {
            // An absent `ready` means ready (EndpointSlice API); terminating endpoints are not.
            if (ep.conditions?.ready === false || ep.conditions?.terminating === true) continue;
            const text = ep.addresses[0];
            if (text === undefined) continue;
            const address = canonicalKube(text);
            if (address === undefined) {
              badEndpoints.push(text);
              continue;
            }
            if (ref.target === 'Nodes') {
              if (ep.nodeName === undefined) withoutNode++;
              else perNode.set(ep.nodeName, (perNode.get(ep.nodeName) ?? 0) + 1);
              continue;
            }
            let bPort = port;
            if (spec.forwarding.method !== 'NAT') {
              // DR/TUN deliver the packet's own port; fwmark services have no port to compare.
              if (spec.fwmark !== undefined) bPort = 0;
              else if (port !== vsPort) {
                mapped.add(port);
                continue;
              }
            }
            const b: Backend = {
              address,
              port: bPort,
              weight: spec.backends.defaultWeight,
              forwarding: spec.forwarding,
              healthChecks: serviceChecks,
              inhibitOnFailure: spec.inhibitOnFailure,
              source: { kind: 'EndpointSlice', namespace, name: slice.metadata.name ?? '', service: ref.name },
            };
            if (ep.nodeName !== undefined) b.nodeName = ep.nodeName;
            add(b);
          }
        }
        if (ref.target === 'Nodes') nodeBackends(perNode, withoutNode, ref.name, family, spec, serviceChecks, src, add, issues);
        if (badEndpoints.length > 0) {
          issues.push({
            reason: 'InvalidEndpoint',
            message: `Service ${ref.name} has endpoints whose address is not an IP address, left out: ${badEndpoints.slice(0, 5).join(', ')}${badEndpoints.length > 5 ? ', ...' : ''}`,
            blocking: false,
          });
        }
        if (mapped.size > 0) {
          issues.push({
            reason: 'PortMappingNotSupported',
            message: `Service ${ref.name} port ${sp.port} targets port ${[...mapped].join(', ')} but VirtualService ${vsName} listens on ${vsPort}; ${spec.forwarding.method} forwarding cannot map ports (use NAT or make targetPort equal port)`,
            blocking: false,
          });
        }
      }
    }
  }

  const backends = [...byEndpoint.values()].sort((a, b) => compareText(a.address, b.address) || a.port - b.port);
  if (backends.length === 0) {
    const from: string[] = [];
    if (selector) from.push(`no usable RealServer in namespace ${namespace} matches ${formatSelector(selector)}`);
    if (ref) from.push(`Service ${ref.name} has no ready ${family} endpoints`);
    issues.push({ reason: 'NoBackends', message: `${from.join('; ')}`, blocking: false });
  }
  return { backends, issues, selected, used, realServerIssues };
}

/** The RealServers of the namespace that `selector` matches, sorted by name. */
export function selectRealServers(selector: LabelSelector, src: BackendSources): RealServer[] {
  const out: RealServer[] = [];
  for (const rs of candidates(selector, src)) if (matchesSelector(selector, rs.metadata.labels)) out.push(rs);
  return out.sort((a, b) => compareText(a.metadata.name ?? '', b.metadata.name ?? ''));
}

/** The smallest set of RealServers that can match: those carrying the rarest matchLabels pair. */
function candidates(selector: LabelSelector, src: BackendSources): Iterable<RealServer> {
  let best: ReadonlySet<RealServer> | undefined;
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) {
    const set = src.realServersByLabel.get(`${k}=${v}`);
    if (!set) return [];
    if (!best || set.size < best.size) best = set;
  }
  return best ?? src.realServers.values();
}

/**
 * externalTrafficPolicy Local: one real server per node with ready endpoints, at the node's
 * InternalIP of the service's family and the service's own port (DR/TUN keep the VIP, which
 * kube-proxy on the node takes to a local pod), weighted by its ready endpoints.
 */
function nodeBackends(
  perNode: ReadonlyMap<string, number>,
  withoutNode: number,
  service: string,
  family: IpFamily,
  spec: VirtualService['spec'],
  checks: Backend['healthChecks'],
  src: BackendSources,
  add: (b: Backend) => boolean,
  issues: Issue[],
): void {
  const unknown: string[] = [];
  const noAddress: string[] = [];
  for (const [nodeName, count] of [...perNode].sort(([a], [b]) => compareText(a, b))) {
    const node = src.nodes.get(nodeName);
    if (!node) {
      unknown.push(nodeName);
      continue;
    }
    const text = (node.status?.addresses ?? []).find((a) => a.type === 'InternalIP' && canonicalKube(a.address) !== undefined && familyOf(canonicalKube(a.address)!) === family)?.address;
    if (text === undefined) {
      noAddress.push(nodeName);
      continue;
    }
    add({
      address: canonicalKube(text)!,
      port: spec.fwmark !== undefined ? 0 : (spec.port ?? 0),
      weight: Math.min(65535, count * spec.backends.defaultWeight),
      forwarding: spec.forwarding,
      healthChecks: checks,
      inhibitOnFailure: spec.inhibitOnFailure,
      source: { kind: 'Node', name: nodeName, service, endpoints: count },
      nodeName,
    });
  }
  const list = (xs: string[]): string => `${xs.slice(0, 5).join(', ')}${xs.length > 5 ? ', ...' : ''}`;
  if (withoutNode > 0) issues.push({ reason: 'EndpointWithoutNode', message: `Service ${service} has ${withoutNode} ready endpoints without a nodeName, left out (target Nodes sends to the node of each endpoint)`, blocking: false });
  if (unknown.length > 0) issues.push({ reason: 'NodeNotFound', message: `Service ${service} has endpoints on nodes that do not exist, left out: ${list(unknown)}`, blocking: false });
  if (noAddress.length > 0) issues.push({ reason: 'NodeWithoutAddress', message: `nodes without an ${family} InternalIP, left out: ${list(noAddress)}`, blocking: false });
}
