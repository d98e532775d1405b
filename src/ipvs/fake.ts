// In-memory IpvsClient for other components' unit tests. It follows the kernel's rules as read in
// net/netfilter/ipvs/ip_vs_ctl.c and checked against the lab kernel (the real client's kernel tests):
// the same errnos (EEXIST, ESRCH, ENOENT, ERANGE, EINVAL, ENODEV), the same read-back shape (the
// `hashed` flag, canonical addresses, tunnel defaults, newest destination first) and the same
// batch semantics (every operation attempted, in order, each with its own result).
// Listing order of services is insertion order here and hash order in the kernel: do not rely on it.
import { type IpvsClient, type IpvsOpResult, type ListOptions } from './api.js';
import { canonicalAddr, familyOf } from './codec/addr.js';
import { zeroStats } from './codec/stats.js';
import { errnoNumber, ipvsError, opObject, type IpvsError } from './errors.js';
import { canonicalServiceKey, destKeyString, serviceKeyString } from './keys.js';
import { validateOp } from './validate.js';
import { SingleOps } from './single-ops.js';
import {
  SERVICE_FLAGS, TUNNEL_FLAGS, type DestKey, type IpvsDest, type IpvsInfo, type IpvsOp, type IpvsService, type IpvsServiceWithDests,
  type IpvsStats, type SyncDaemon, type SyncState, type Timeouts, type VirtualServiceKey,
} from './types.js';

/** Schedulers of a stock 6.1 kernel (all ip_vs_* scheduler modules). */
export const KERNEL_SCHEDULERS = ['rr', 'wrr', 'lc', 'wlc', 'lblc', 'lblcr', 'dh', 'sh', 'sed', 'nq', 'fo', 'ovf', 'mh'];

export interface FakeIpvsOptions {
  /** Scheduler modules "loaded" (default {@link KERNEL_SCHEDULERS}); "none" is always accepted, as in the kernel. */
  schedulers?: string[];
  /** Persistence engines (default ["sip"]). */
  persistenceEngines?: string[];
  /** When given, starting a sync daemon on another interface fails with ENODEV. */
  interfaces?: string[];
  timeouts?: Timeouts;
  info?: IpvsInfo;
}

type ErrnoName = 'EEXIST' | 'ESRCH' | 'ENOENT' | 'EINVAL' | 'ERANGE' | 'ENODEV';

interface StoredService {
  svc: IpvsService;
  /** Newest first, like the kernel's list_add at the head. */
  dests: IpvsDest[];
}

const counters = (): Pick<IpvsDest, 'activeConns' | 'inactConns' | 'persistConns'> => ({ activeConns: 0, inactConns: 0, persistConns: 0 });

export class FakeIpvsClient extends SingleOps implements IpvsClient {
  private readonly services = new Map<string, StoredService>();
  private readonly daemons = new Map<SyncState, SyncDaemon>();
  private timeouts: Timeouts;
  private readonly schedulers: Set<string>;
  private readonly pes: Set<string>;
  private readonly interfaces: Set<string> | undefined;
  private readonly infoValue: IpvsInfo;
  private readonly injected: { match: (op: IpvsOp) => boolean; errno: number; once: boolean }[] = [];
  /** Operations that succeeded, in order (for assertions on what a component sent). */
  readonly applied: IpvsOp[] = [];
  /** Number of apply() calls (a single-operation method counts as one). */
  applyCalls = 0;
  closed = false;

  constructor(opts: FakeIpvsOptions = {}) {
    super();
    this.schedulers = new Set(opts.schedulers ?? KERNEL_SCHEDULERS);
    this.pes = new Set(opts.persistenceEngines ?? ['sip']);
    this.interfaces = opts.interfaces ? new Set(opts.interfaces) : undefined;
    this.timeouts = { ...(opts.timeouts ?? { tcp: 900, tcpFin: 120, udp: 300 }) };
    this.infoValue = opts.info ?? { version: '1.2.1', versionCode: 0x010201, connTabSize: 4096 };
  }

  /** Makes matching operations fail with `code` (like a kernel refusal), once or until cleared. */
  injectError(match: (op: IpvsOp) => boolean, code: ErrnoName | 'ENOMEM' | 'EPERM' | 'ENOBUFS', opts: { once?: boolean } = {}): void {
    this.injected.push({ match, errno: errnoNumber(code), once: opts.once ?? true });
  }

  clearInjectedErrors(): void {
    this.injected.length = 0;
  }

  /** Sets counters as traffic would (for status/metrics tests). */
  setStats(key: VirtualServiceKey, stats: Partial<IpvsStats>, dest?: DestKey & Partial<Pick<IpvsDest, 'activeConns' | 'inactConns' | 'persistConns'>>): void {
    const s = this.services.get(serviceKeyString(key));
    if (!s) throw new Error(`fake IPVS: no service ${serviceKeyString(key)}`);
    if (!dest) {
      s.svc.stats = { ...(s.svc.stats ?? zeroStats()), ...stats };
      return;
    }
    const d = s.dests.find((x) => destKeyString(x) === destKeyString(dest));
    if (!d) throw new Error(`fake IPVS: no destination ${destKeyString(dest)} in ${serviceKeyString(key)}`);
    d.stats = { ...(d.stats ?? zeroStats()), ...stats };
    for (const k of ['activeConns', 'inactConns', 'persistConns'] as const) if (dest[k] !== undefined) d[k] = dest[k];
  }

  // ---- reads (copies, so callers cannot reach into the state)

  async info(): Promise<IpvsInfo> {
    this.checkOpen();
    return { ...this.infoValue };
  }

  async getTimeouts(): Promise<Timeouts> {
    this.checkOpen();
    return { ...this.timeouts };
  }

  async listServices(opts: ListOptions = {}): Promise<IpvsService[]> {
    this.checkOpen();
    return [...this.services.values()].map((s) => copyService(s.svc, opts.stats ?? true));
  }

  async listServicesWithDests(opts: ListOptions = {}): Promise<IpvsServiceWithDests[]> {
    this.checkOpen();
    const stats = opts.stats ?? true;
    return [...this.services.values()].map((s) => ({ ...copyService(s.svc, stats), dests: s.dests.map((d) => copyDest(d, stats)) }));
  }

  async getService(key: VirtualServiceKey): Promise<IpvsService | undefined> {
    this.checkOpen();
    const s = this.services.get(serviceKeyString(key));
    return s ? copyService(s.svc, true) : undefined;
  }

  async listDests(key: VirtualServiceKey, opts: ListOptions = {}): Promise<IpvsDest[]> {
    this.checkOpen();
    const s = this.services.get(serviceKeyString(key));
    if (!s) throw ipvsError('list-dests', errnoNumber('ESRCH'), { service: key });
    return s.dests.map((d) => copyDest(d, opts.stats ?? true));
  }

  async listDaemons(): Promise<SyncDaemon[]> {
    this.checkOpen();
    return (['master', 'backup'] as const).flatMap((st) => {
      const d = this.daemons.get(st);
      return d ? [{ ...d }] : [];
    });
  }

  // ---- changes

  async apply(ops: readonly IpvsOp[]): Promise<IpvsOpResult[]> {
    this.checkOpen();
    this.applyCalls++;
    return ops.map((op) => {
      const error = validateOp(op) ?? this.injectedError(op) ?? this.applyOne(op);
      if (error) return { ok: false, error };
      this.applied.push(op);
      return { ok: true };
    });
  }

  private injectedError(op: IpvsOp): IpvsError | undefined {
    const i = this.injected.findIndex((x) => x.match(op));
    if (i === -1) return undefined;
    const inj = this.injected[i]!;
    if (inj.once) this.injected.splice(i, 1);
    return ipvsError(op.op, inj.errno, opObject(op));
  }

  private applyOne(op: IpvsOp): IpvsError | undefined {
    const fail = (code: ErrnoName): IpvsError => ipvsError(op.op, errnoNumber(code), opObject(op));
    switch (op.op) {
      case 'add-service': {
        const id = serviceKeyString(op.service.key);
        if (this.services.has(id)) return fail('EEXIST');
        const problem = this.checkModules(op.service);
        if (problem) return fail(problem);
        this.services.set(id, { svc: storedService(op.service), dests: [] });
        return undefined;
      }
      case 'edit-service': {
        const s = this.services.get(serviceKeyString(op.service.key));
        if (!s) return fail('ESRCH');
        const problem = this.checkModules(op.service);
        if (problem) return fail(problem);
        s.svc = { ...storedService(op.service), stats: s.svc.stats ?? zeroStats() };
        return undefined;
      }
      case 'del-service':
        return this.services.delete(serviceKeyString(op.key)) ? undefined : fail('ESRCH');
      case 'add-dest':
      case 'edit-dest': {
        const s = this.services.get(serviceKeyString(op.key));
        if (!s) return fail('ESRCH');
        if (familyOf(op.dest.addr) !== s.svc.key.af && this.daemons.size > 0) return fail('EINVAL');
        const i = s.dests.findIndex((d) => destKeyString(d) === destKeyString(op.dest));
        if (op.op === 'add-dest') {
          if (i !== -1) return fail('EEXIST');
          s.dests.unshift({ ...storedDest(op.dest), ...counters(), stats: zeroStats() });
        } else {
          if (i === -1) return fail('ENOENT');
          const old = s.dests[i]!;
          s.dests[i] = { ...storedDest(op.dest), activeConns: old.activeConns, inactConns: old.inactConns, persistConns: old.persistConns, stats: old.stats ?? zeroStats() };
        }
        return undefined;
      }
      case 'del-dest': {
        const s = this.services.get(serviceKeyString(op.key));
        if (!s) return fail('ESRCH');
        const i = s.dests.findIndex((d) => destKeyString(d) === destKeyString(op.dest));
        if (i === -1) return fail('ENOENT');
        s.dests.splice(i, 1);
        return undefined;
      }
      case 'zero': {
        const targets = op.key ? [this.services.get(serviceKeyString(op.key))] : [...this.services.values()];
        if (targets[0] === undefined && op.key) return fail('ESRCH');
        for (const s of targets) {
          if (!s) continue;
          s.svc.stats = zeroStats();
          for (const d of s.dests) d.stats = zeroStats();
        }
        return undefined;
      }
      case 'flush':
        this.services.clear();
        return undefined;
      case 'set-timeouts': {
        const t = op.timeouts;
        this.timeouts = {
          tcp: t.tcp || this.timeouts.tcp,
          tcpFin: t.tcpFin || this.timeouts.tcpFin,
          udp: t.udp || this.timeouts.udp,
        };
        return undefined;
      }
      case 'start-daemon': {
        const d = op.daemon;
        if (this.daemons.has(d.state)) return fail('EEXIST');
        if (this.interfaces && !this.interfaces.has(d.mcastIfn)) return fail('ENODEV');
        const mixed = [...this.services.values()].some((s) => s.dests.some((x) => familyOf(x.addr) !== s.svc.key.af));
        if (mixed) return fail('EINVAL');
        const group = d.mcastGroup ?? '224.0.0.81';
        const v6 = familyOf(group) === 'IPv6';
        this.daemons.set(d.state, {
          state: d.state,
          mcastIfn: d.mcastIfn,
          syncId: d.syncId,
          // The kernel derives the default from the interface MTU (1500 assumed here) minus IP and UDP headers.
          syncMaxLen: d.syncMaxLen || (v6 ? 1452 : 1472),
          mcastGroup: canonicalAddr(group),
          mcastPort: d.mcastPort || 8848,
          mcastTtl: d.mcastTtl || 1,
        });
        return undefined;
      }
      case 'stop-daemon':
        return this.daemons.delete(op.state) ? undefined : fail('ESRCH');
    }
  }

  private checkModules(s: IpvsService): ErrnoName | undefined {
    if (s.scheduler !== 'none' && !this.schedulers.has(s.scheduler)) return 'ENOENT';
    if (s.peName !== undefined && s.peName !== '' && !this.pes.has(s.peName)) return 'ENOENT';
    return undefined;
  }

  private checkOpen(): void {
    if (this.closed) throw ipvsError('list-services', errnoNumber('EBADF'), {}, 'the IPVS client is closed');
  }

  close(): void {
    this.closed = true;
  }
}

/** What the kernel would report for this service definition: canonical key and flags, `hashed` set. */
function storedService(s: IpvsService): IpvsService {
  const flags = new Set(s.flags);
  flags.add('hashed');
  const out: IpvsService = {
    key: canonicalServiceKey(s.key),
    scheduler: s.scheduler,
    flags: SERVICE_FLAGS.filter((f) => flags.has(f)),
    timeout: s.timeout,
    netmask: s.netmask,
    stats: zeroStats(),
  };
  if (s.peName) out.peName = s.peName;
  return out;
}

/** What the kernel would report for this destination: tunnel settings as its read-back shows them. */
function storedDest(d: IpvsDest): IpvsDest {
  const out: IpvsDest = {
    addr: canonicalAddr(d.addr),
    port: d.port,
    fwd: d.fwd,
    weight: d.weight,
    upperThreshold: d.upperThreshold,
    lowerThreshold: d.lowerThreshold,
  };
  const t = d.tunnel ?? { type: 'ipip' as const, port: 0, flags: [] };
  const flags = TUNNEL_FLAGS.filter((f) => t.flags.includes(f));
  if (d.fwd === 'tunnel' || t.type !== 'ipip' || t.port !== 0 || flags.length > 0) out.tunnel = { type: t.type, port: t.port, flags };
  return out;
}

function copyService(s: IpvsService, stats: boolean): IpvsService {
  const { stats: st, ...rest } = s;
  const out: IpvsService = { ...rest, key: { ...s.key }, flags: [...s.flags] };
  if (stats) out.stats = { ...(st ?? zeroStats()) };
  return out;
}

function copyDest(d: IpvsDest, stats: boolean): IpvsDest {
  const { stats: st, activeConns, inactConns, persistConns, ...rest } = d;
  const out: IpvsDest = { ...rest };
  if (d.tunnel) out.tunnel = { ...d.tunnel, flags: [...d.tunnel.flags] };
  if (stats) Object.assign(out, { activeConns: activeConns ?? 0, inactConns: inactConns ?? 0, persistConns: persistConns ?? 0, stats: { ...(st ?? zeroStats()) } });
  return out;
}
