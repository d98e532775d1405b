// Typed IPVS errors: the kernel's errno, its name, the operation and the object, and a message
// that says what went wrong in IPVS terms (the kernel only says e.g. "No such process").
import { constants } from 'node:os';
import { formatHostPort } from '../address/index.js';
import { serviceKeyLabel } from './keys.js';
import type { DestKey, IpvsOp, IpvsOpName, VirtualServiceKey } from './types.js';

const ERRNO_NAMES = new Map<number, string>();
for (const [name, num] of Object.entries(constants.errno)) if (!ERRNO_NAMES.has(num)) ERRNO_NAMES.set(num, name);

export const errnoName = (errno: number): string => ERRNO_NAMES.get(errno) ?? `E${errno}`;
export const errnoNumber = (name: keyof typeof constants.errno): number => constants.errno[name];

/** Operations that are not changes but still fail with a kernel errno. */
export type IpvsReadOperation = 'resolve-family' | 'list-services' | 'get-service' | 'list-dests' | 'list-daemons' | 'get-timeouts' | 'get-info';
export type IpvsOperation = IpvsOpName | IpvsReadOperation;

export interface IpvsErrorObject {
  service?: VirtualServiceKey;
  dest?: DestKey;
  scheduler?: string;
  peName?: string;
}

export class IpvsError extends Error {
  constructor(
    readonly operation: IpvsOperation,
    readonly errno: number,
    readonly code: string,
    readonly object: IpvsErrorObject,
    message: string,
  ) {
    super(message);
    this.name = 'IpvsError';
  }
}

export function opObject(op: IpvsOp): IpvsErrorObject {
  switch (op.op) {
    case 'add-service':
    case 'edit-service':
      return { service: op.service.key, scheduler: op.service.scheduler, ...(op.service.peName !== undefined ? { peName: op.service.peName } : {}) };
    case 'del-service':
      return { service: op.key };
    case 'add-dest':
    case 'edit-dest':
    case 'del-dest':
      return { service: op.key, dest: { addr: op.dest.addr, port: op.dest.port } };
    case 'zero':
      return op.key ? { service: op.key } : {};
    default:
      return {};
  }
}

function subject(op: IpvsOperation, o: IpvsErrorObject): string {
  const parts: string[] = [op];
  if (o.service) parts.push(`service ${serviceKeyLabel(o.service)}`);
  if (o.dest) parts.push(`destination ${formatHostPort(o.dest.addr, o.dest.port)}`);
  return parts.join(' ');
}

/** What an errno means for this operation, in IPVS terms. */
function explain(op: IpvsOperation, code: string, o: IpvsErrorObject): string {
  const isDest = op === 'add-dest' || op === 'edit-dest' || op === 'del-dest';
  switch (code) {
    case 'ESRCH':
      if (op === 'stop-daemon') return 'that sync daemon is not running';
      return 'the virtual service does not exist';
    case 'EEXIST':
      if (op === 'add-service') return 'the virtual service already exists';
      if (op === 'add-dest') return 'the destination already exists in this virtual service';
      if (op === 'start-daemon') return 'a sync daemon in this state is already running';
      break;
    case 'ENOENT':
      if (isDest) return 'the destination does not exist in this virtual service';
      if (op === 'add-service' || op === 'edit-service') {
        const pe = o.peName !== undefined ? ` or persistence engine "${o.peName}" (module ip_vs_pe_${o.peName})` : '';
        return `scheduler "${o.scheduler ?? '?'}" (module ip_vs_${o.scheduler ?? '?'})${pe} is not available in this kernel`;
      }
      if (op === 'resolve-family') return 'the IPVS generic netlink family is not registered: is the ip_vs module loaded?';
      break;
    case 'ERANGE':
      if (isDest) return 'weight is negative or the lower threshold is above the upper threshold';
      break;
    case 'EINVAL':
      if (isDest) return 'the kernel refused the destination (address family differs from the service without tunnel forwarding, GUE tunnel without a port, address that is neither unicast nor local, or a sync daemon forbids mixed families)';
      if (op === 'add-service' || op === 'edit-service') return 'the kernel refused the service definition (e.g. an IPv6 netmask outside 1-128)';
      if (op === 'start-daemon') return 'the kernel refused the sync daemon settings (e.g. a group that is not multicast, or services with mixed address families)';
      break;
    case 'ENODEV':
      if (op === 'start-daemon') return 'the sync interface does not exist';
      break;
    case 'EPERM':
    case 'EACCES':
      return 'changing IPVS needs CAP_NET_ADMIN';
    case 'EAFNOSUPPORT':
      return 'the address family is not supported by this kernel (IPv6 disabled?)';
    case 'EBUSY':
      if (isDest || op === 'del-service') return 'the kernel reports the object busy';
      break;
    case 'ENOBUFS':
      return 'kernel replies were lost to a receive-buffer overflow: the outcome of this operation is unknown';
    case 'ETIMEDOUT':
      return 'no reply from the kernel';
  }
  return `the kernel refused the request`;
}

export function ipvsError(op: IpvsOperation, errno: number, object: IpvsErrorObject, detail?: string): IpvsError {
  const code = errnoName(errno);
  const why = detail ?? explain(op, code, object);
  return new IpvsError(op, errno, code, object, `${subject(op, object)}: ${why} (${code})`);
}

/**
 * The condition reason when retrying `e` cannot succeed until the object or the kernel changes
 * (terminal); undefined for errors worth retrying (races, lost replies, memory, busy).
 */
export function terminalReason(e: IpvsError): 'UnsupportedScheduler' | 'KernelRejected' | undefined {
  const service = e.operation === 'add-service' || e.operation === 'edit-service';
  const dest = e.operation === 'add-dest' || e.operation === 'edit-dest';
  if (service && e.code === 'ENOENT') return 'UnsupportedScheduler'; // scheduler or PE module missing
  if ((service || dest) && (e.code === 'EINVAL' || e.code === 'ERANGE')) return 'KernelRejected';
  if (e.code === 'EAFNOSUPPORT' || e.code === 'EOPNOTSUPP') return 'KernelRejected';
  return undefined;
}
