/** API group, version and resource names of lvs-operator; every other module takes them from here. */
export const group = 'lvs.dev';
export const version = 'v1alpha1';
export const apiVersion = `${group}/${version}` as const;

/** The kinds, with the names the CRDs and clients need. */
export const kinds = {
  DirectorGroup: {
    kind: 'DirectorGroup',
    listKind: 'DirectorGroupList',
    plural: 'directorgroups',
    singular: 'directorgroup',
    shortNames: ['lvsdg'],
    scope: 'Cluster',
  },
  VirtualService: {
    kind: 'VirtualService',
    listKind: 'VirtualServiceList',
    plural: 'virtualservices',
    singular: 'virtualservice',
    shortNames: ['lvsvs'],
    scope: 'Namespaced',
  },
  RealServer: {
    kind: 'RealServer',
    listKind: 'RealServerList',
    plural: 'realservers',
    singular: 'realserver',
    shortNames: ['lvsrs'],
    scope: 'Namespaced',
  },
  AddressPool: {
    kind: 'AddressPool',
    listKind: 'AddressPoolList',
    plural: 'addresspools',
    singular: 'addresspool',
    shortNames: ['lvspool'],
    scope: 'Cluster',
  },
} as const;

export type KindName = keyof typeof kinds;
export const categories = ['lvs'] as const;
