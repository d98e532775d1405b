import type { z } from 'zod';
import { AddressPool, AddressPoolSpec, AddressPoolStatus } from '../address-pool.js';
import { DirectorGroupSpec, DirectorGroupStatus, DirectorGroup } from '../director-group.js';
import { categories, group, kinds, version, type KindName } from '../group.js';
import { RealServerSpec, RealServerStatus, RealServer } from '../real-server.js';
import { VirtualServiceSpec, VirtualServiceStatus, VirtualService } from '../virtual-service.js';
import { type SchemaNode, zodToStructural } from './structural.js';

export interface PrinterColumn {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  jsonPath: string;
  description: string;
  priority?: number;
}

export interface CustomResourceDefinition {
  apiVersion: 'apiextensions.k8s.io/v1';
  kind: 'CustomResourceDefinition';
  metadata: { name: string; labels: Record<string, string> };
  spec: {
    group: string;
    names: { kind: string; listKind: string; plural: string; singular: string; shortNames: string[]; categories: string[] };
    scope: 'Cluster' | 'Namespaced';
    versions: {
      name: string;
      served: boolean;
      storage: boolean;
      subresources: { status: Record<string, never> };
      additionalPrinterColumns: PrinterColumn[];
      schema: { openAPIV3Schema: SchemaNode };
    }[];
  };
}

const ready: PrinterColumn = {
  name: 'Ready',
  type: 'string',
  jsonPath: '.status.conditions[?(@.type=="Ready")].status',
  description: 'Status of the Ready condition.',
};
const age: PrinterColumn = { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp', description: 'Time since creation.' };

// `kubectl get lvsvs` reads like `ipvsadm -Ln`: the service, scheduler and mode, then who serves it.
const columns: Record<KindName, PrinterColumn[]> = {
  VirtualService: [
    { name: 'VIP', type: 'string', jsonPath: '.spec.vip', description: 'Virtual IP address.' },
    { name: 'Port', type: 'integer', jsonPath: '.spec.port', description: 'Virtual port.' },
    { name: 'Protocol', type: 'string', jsonPath: '.spec.protocol', description: 'TCP, UDP or SCTP.' },
    { name: 'FWMark', type: 'integer', jsonPath: '.spec.fwmark', description: 'Firewall mark of a fwmark service.' },
    { name: 'Scheduler', type: 'string', jsonPath: '.status.scheduler', description: 'IPVS scheduler in effect (spec.scheduler or its default).' },
    { name: 'Mode', type: 'string', jsonPath: '.spec.forwarding.method', description: 'Forwarding method: NAT, DR or TUN.' },
    { name: 'Master', type: 'string', jsonPath: '.status.master', description: 'VRRP master director node.' },
    { name: 'Healthy', type: 'integer', jsonPath: '.status.backends.healthy', description: 'Healthy real servers.' },
    { name: 'Total', type: 'integer', jsonPath: '.status.backends.total', description: 'Real servers resolved.' },
    ready,
    age,
  ],
  RealServer: [
    { name: 'Address', type: 'string', jsonPath: '.spec.address', description: 'Real server address.' },
    { name: 'Port', type: 'integer', jsonPath: '.spec.port', description: 'Real server port (empty: the virtual service port).' },
    { name: 'Weight', type: 'integer', jsonPath: '.spec.weight', description: 'Scheduling weight.' },
    { name: 'Mode', type: 'string', jsonPath: '.spec.forwarding.method', description: 'Forwarding override (empty: inherited).' },
    { name: 'Node', type: 'string', jsonPath: '.spec.nodeName', description: 'Node that is this real server.' },
    { name: 'Healthy', type: 'integer', jsonPath: '.status.healthy', description: 'Directors on which the check passes.' },
    { name: 'Directors', type: 'integer', jsonPath: '.status.total', description: 'Directors checking it.' },
    ready,
    age,
  ],
  DirectorGroup: [
    { name: 'Interface', type: 'string', jsonPath: '.spec.interface', description: 'VIP and VRRP interface.' },
    { name: 'VRRP', type: 'integer', jsonPath: '.spec.vrrp.version', description: 'VRRP version.' },
    { name: 'Directors', type: 'string', jsonPath: '.status.directors', description: 'Director nodes.' },
    ready,
    age,
  ],
  AddressPool: [
    { name: 'Addresses', type: 'string', jsonPath: '.spec.addresses', description: 'CIDRs and ranges of the pool.' },
    { name: 'Group', type: 'string', jsonPath: '.spec.directorGroup', description: 'DirectorGroup that announces the addresses.' },
    { name: 'Auto', type: 'boolean', jsonPath: '.spec.autoAssign', description: 'Whether addresses go to any Service that may use the pool.' },
    { name: 'Allocated', type: 'integer', jsonPath: '.status.allocated', description: 'Addresses held by Services.' },
    { name: 'Free', type: 'string', jsonPath: '.status.free', description: 'Addresses free to hand out.' },
    ready,
    age,
  ],
};

const schemas: Record<KindName, { root: z.ZodType; spec: z.ZodType; status: z.ZodType }> = {
  DirectorGroup: { root: DirectorGroup, spec: DirectorGroupSpec, status: DirectorGroupStatus },
  VirtualService: { root: VirtualService, spec: VirtualServiceSpec, status: VirtualServiceStatus },
  RealServer: { root: RealServer, spec: RealServerSpec, status: RealServerStatus },
  AddressPool: { root: AddressPool, spec: AddressPoolSpec, status: AddressPoolStatus },
};

/** The top-level schema: standard apiVersion/kind/metadata, then spec and status from zod. */
function openAPIV3Schema(kind: KindName): SchemaNode {
  const s = schemas[kind];
  return {
    description: s.root.description ?? kind,
    type: 'object',
    required: ['spec'],
    properties: {
      apiVersion: {
        description:
          'APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values.',
        type: 'string',
      },
      kind: {
        description:
          'Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. In CamelCase.',
        type: 'string',
      },
      // Kubernetes validates metadata itself and refuses anything but `type: object` here (not even a description).
      metadata: { type: 'object' },
      spec: zodToStructural(s.spec, 'spec'),
      status: zodToStructural(s.status, 'status'),
    },
  };
}

export function buildCrd(kind: KindName): CustomResourceDefinition {
  const k = kinds[kind];
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${k.plural}.${group}`, labels: { 'app.kubernetes.io/part-of': 'lvs-operator' } },
    spec: {
      group,
      names: {
        kind: k.kind,
        listKind: k.listKind,
        plural: k.plural,
        singular: k.singular,
        shortNames: [...k.shortNames],
        categories: [...categories],
      },
      scope: k.scope,
      versions: [
        {
          name: version,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: columns[kind],
          schema: { openAPIV3Schema: openAPIV3Schema(kind) },
        },
      ],
    },
  };
}

export const kindNames = Object.keys(kinds) as KindName[];

export function buildCrds(): CustomResourceDefinition[] {
  return kindNames.map(buildCrd);
}
