// The informers behind the cluster model, declared once for the controller and the agent: the
// lvs.dev objects and the core objects that backends and directors come from.
import type { DirectorGroup, RealServer, VirtualService } from '../api/index.js';
import type { KubeClients, ResourceClient } from './client.js';
import type { Informer } from './informer.js';
import type { EndpointSlice, KubeObject, Node, Service } from './types.js';

export interface ClusterInformers {
  directorGroups: Informer<DirectorGroup>;
  virtualServices: Informer<VirtualService>;
  realServers: Informer<RealServer>;
  nodes: Informer<Node>;
  services: Informer<Service>;
  endpointSlices: Informer<EndpointSlice>;
}

/** `make` builds one informer (its name is the resource's plural). */
export function clusterInformers(c: KubeClients, make: <T extends KubeObject>(name: string, client: ResourceClient<T>) => Informer<T>): ClusterInformers {
  return {
    directorGroups: make('directorgroups', c.directorGroups),
    virtualServices: make('virtualservices', c.virtualServices),
    realServers: make('realservers', c.realServers),
    nodes: make('nodes', c.nodes),
    services: make('services', c.services),
    endpointSlices: make('endpointslices', c.endpointSlices),
  };
}

/** What the informers hold now, in the shape of the model's raw snapshot. */
export function clusterLists(i: ClusterInformers): {
  directorGroups: DirectorGroup[]; virtualServices: VirtualService[]; realServers: RealServer[];
  services: Service[]; endpointSlices: EndpointSlice[]; nodes: Node[];
} {
  return {
    directorGroups: i.directorGroups.list(), virtualServices: i.virtualServices.list(), realServers: i.realServers.list(),
    services: i.services.list(), endpointSlices: i.endpointSlices.list(), nodes: i.nodes.list(),
  };
}
