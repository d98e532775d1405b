// Fixture builders: lvs.dev objects go through the real zod parsers, so schema defaults
// apply exactly as they do for objects read from the API server.
import {
  type DirectorGroup,
  type DirectorGroupSpecInput,
  type RealServer,
  type RealServerSpecInput,
  type VirtualService,
  type VirtualServiceSpecInput,
  apiVersion,
  parseDirectorGroup,
  parseRealServer,
  parseVirtualService,
} from '../../../src/api/index.js';
import type { EndpointSlice, Endpoint, EndpointPort, Node, Service, ServicePort } from '../../../src/kube/types.js';
import type { Snapshot } from '../../../src/model/types.js';

let clock = Date.parse('2024-01-01T00:00:00Z');
/** Distinct, increasing creation timestamps (second precision, as the API server writes them). */
export function nextTimestamp(): string {
  clock += 1000;
  return new Date(clock).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

interface MetaOpts {
  created?: string;
  generation?: number;
  labels?: Record<string, string>;
  uid?: string;
}

function must<T>(r: { ok: true; value: T } | { ok: false; error: string }): T {
  if (!r.ok) throw new Error(r.error);
  return r.value;
}

export function dg(name: string, spec: Partial<DirectorGroupSpecInput> = {}, o: MetaOpts & { vrids?: { vip: string; interface: string; vrid: number }[] } = {}): DirectorGroup {
  return must(
    parseDirectorGroup({
      apiVersion,
      kind: 'DirectorGroup',
      metadata: { name, creationTimestamp: o.created ?? nextTimestamp(), generation: o.generation ?? 1, labels: o.labels },
      spec: { nodeSelector: { matchLabels: { 'lvs.dev/director': name } }, interface: 'eth0', ...spec },
      ...(o.vrids ? { status: { vrids: o.vrids } } : {}),
    }),
  );
}

export function vs(namespace: string, name: string, spec: Partial<VirtualServiceSpecInput>, o: MetaOpts = {}): VirtualService {
  return must(
    parseVirtualService({
      apiVersion,
      kind: 'VirtualService',
      metadata: { name, namespace, creationTimestamp: o.created ?? nextTimestamp(), generation: o.generation ?? 1, labels: o.labels },
      spec: {
        directorGroup: 'g1',
        backends: { realServerSelector: { matchLabels: { app: name } } },
        ...spec,
      },
    }),
  );
}

/** A TCP VIP service on port 80 (the usual case), merged with `spec`. */
export function web(namespace: string, name: string, vip: string, spec: Partial<VirtualServiceSpecInput> = {}, o: MetaOpts = {}): VirtualService {
  return vs(namespace, name, { vip, port: 80, protocol: 'TCP', ...spec }, o);
}

export function rs(namespace: string, name: string, spec: RealServerSpecInput, labels: Record<string, string>, o: MetaOpts = {}): RealServer {
  return must(
    parseRealServer({
      apiVersion,
      kind: 'RealServer',
      metadata: { name, namespace, creationTimestamp: o.created ?? nextTimestamp(), generation: o.generation ?? 1, labels },
      spec,
    }),
  );
}

export function node(name: string, labels: Record<string, string> = {}): Node {
  return { apiVersion: 'v1', kind: 'Node', metadata: { name, labels } };
}

export function service(namespace: string, name: string, ports: ServicePort[]): Service {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace }, spec: { ports } };
}

export function slice(
  namespace: string,
  name: string,
  serviceName: string,
  ports: EndpointPort[],
  endpoints: Endpoint[],
  addressType: EndpointSlice['addressType'] = 'IPv4',
): EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name, namespace, labels: { 'kubernetes.io/service-name': serviceName } },
    addressType,
    ports,
    endpoints,
  };
}

export function ready(address: string, nodeName?: string): Endpoint {
  return { addresses: [address], conditions: { ready: true }, ...(nodeName ? { nodeName } : {}) };
}

export function snapshot(s: Partial<Snapshot>): Snapshot {
  return {
    directorGroups: [],
    virtualServices: [],
    realServers: [],
    services: [],
    endpointSlices: [],
    nodes: [],
    ...s,
  };
}

/** Two director nodes for group `g1` and one plain node. */
export function nodesFor(group = 'g1'): Node[] {
  return [node('dir-a', { 'lvs.dev/director': group }), node('dir-b', { 'lvs.dev/director': group }), node('worker-1')];
}
