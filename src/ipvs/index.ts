// Public surface of the IPVS client. The real client loads the netlink native binding; import
// `./fake.js` or `./types.js` directly where that is not wanted (unit tests of pure logic).
export type { IpvsClient, IpvsOpResult, ListOptions } from './api.js';
export { expectOk } from './api.js';
export { NetlinkIpvsClient, type NetlinkIpvsClientOptions } from './client.js';
export { FakeIpvsClient, KERNEL_SCHEDULERS, type FakeIpvsOptions } from './fake.js';
export { IpvsError, errnoName, type IpvsOperation, type IpvsErrorObject } from './errors.js';
export { validateOp } from './validate.js';
export { serviceKeyString, destKeyString, parseServiceKey, canonicalServiceKey, serviceKeyLabel } from './keys.js';
export { canonicalAddr, familyOf } from './codec/addr.js';
export * from './types.js';
