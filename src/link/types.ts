// Kernel link state the agent manages besides IPVS: addresses on interfaces (VIPs) and sysctls.
import type { IpFamily } from '../address/index.js';

/** The program's one family vocabulary; rtnetlink's AF numbers are converted in rtnetlink.ts. */
export type Family = IpFamily;

export interface InterfaceAddress {
  ifname: string;
  ifindex: number;
  family: Family;
  /** Canonical textual address (IPv6 compressed). */
  address: string;
  prefixLen: number;
  label?: string;
}

export interface LinkInfo {
  index: number;
  name: string;
  up: boolean;
  mac?: string;
}

export interface LinkClient {
  listLinks(): Promise<LinkInfo[]>;
  /** Addresses of one interface, or of all when `ifname` is omitted. */
  listAddresses(ifname?: string): Promise<InterfaceAddress[]>;
  /** Adds `address/prefixLen` to `ifname`; resolves quietly when it is already there. */
  addAddress(ifname: string, address: string, prefixLen: number): Promise<void>;
  /** Removes `address/prefixLen` from `ifname`; resolves quietly when it is already gone. */
  deleteAddress(ifname: string, address: string, prefixLen: number): Promise<void>;
  setUp(ifname: string): Promise<void>;
  close(): void;
}

export interface Sysctl {
  /** Reads `net.ipv4.ip_forward` style keys; undefined when the key does not exist. */
  get(key: string): Promise<string | undefined>;
  set(key: string, value: string): Promise<void>;
}

export class LinkError extends Error {
  constructor(message: string, readonly errno?: number, readonly code?: string) {
    super(message);
    this.name = 'LinkError';
  }
}
