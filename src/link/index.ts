// Narrow surface of the link layer: interfaces, addresses and sysctls of the local network namespace.
export type { Family, InterfaceAddress, LinkClient, LinkInfo, Sysctl } from './types.js';
export { LinkError } from './types.js';
export { addressToBytes, bytesToAddress, canonicalAddress, familyOf } from './address.js';
export { RtLinkClient } from './rtnetlink.js';
export { ProcSysctl, FakeSysctl } from './sysctl.js';
export { FakeLinkClient } from './fake.js';
