// apply(diff(desired, observed)): one level-based pass over the node's kernel state.
// The same pass runs on every change and on a periodic resync, so drift heals; it touches only
// what the ownership record says this agent created.
import type { Logger } from 'pino';
import type { IpvsClient } from '../ipvs/api.js';
import type { IpvsOp, IpvsServiceWithDests, SyncDaemon, Timeouts, VirtualServiceKey } from '../ipvs/types.js';
import type { LinkClient, Sysctl } from '../link/types.js';
import { diffIpvs } from './ipvs-diff.js';
import { parseServiceKey, serviceKeyString } from '../ipvs/keys.js';
import { diffAddresses, diffSysctls } from './link-diff.js';
import type { OwnedState, OwnershipStore } from './ownership.js';
import { OwnershipRecord } from './ownership-record.js';
import { diffSyncDaemons } from './sync-daemon-diff.js';
import type { CompiledService, NodeDesired } from './compile.js';
import { terminalReason } from '../ipvs/errors.js';
import { ServiceRetry } from './service-retry.js';
import { isVipRule, type NftClient, type NftRule } from '../nft/index.js';
import { diffSnat } from './snat.js';

export interface ReconcileError {
  /** What failed, e.g. `add-dest tcp/10.0.0.1:80 -> 10.1.0.1:80` or `address eth0/10.0.0.1`. */
  what: string;
  message: string;
  /** VirtualService keys the failure concerns, when known. */
  services: string[];
  /** Set when retrying cannot help until the service or the kernel changes: the condition reason. */
  reason?: string;
  /** The kernel's errno name, for IPVS operations. */
  code?: string;
}

export interface ReconcileResult {
  ipvsOps: number;
  addressOps: number;
  sysctlOps: number;
  /** nftables transactions run on our source-NAT table (0 or 1). */
  nftOps: number;
  /** Desired IPVS services that somebody else holds: left untouched. */
  foreign: string[];
  errors: ReconcileError[];
  durationMs: number;
  /** When a service that failed transiently is due for its next try (ms from now). */
  retryInMs?: number;
}

export interface ReconcilerDeps {
  ipvs: IpvsClient;
  link: LinkClient;
  sysctl: Sysctl;
  store: OwnershipStore;
  /** nftables, for source NAT; absent: no service may ask for it. */
  nft?: NftClient | undefined;
  /** Where adoptions are said (they change what the agent owns). */
  log?: Pick<Logger, 'info'> | undefined;
}

function describeOp(op: IpvsOp): string {
  switch (op.op) {
    case 'add-service':
    case 'edit-service':
      return `${op.op} ${serviceKeyString(op.service.key)}`;
    case 'del-service':
      return `${op.op} ${serviceKeyString(op.key)}`;
    case 'add-dest':
    case 'edit-dest':
    case 'del-dest':
      return `${op.op} ${serviceKeyString(op.key)} -> ${op.dest.addr}:${op.dest.port}`;
    default:
      return op.op;
  }
}

/** A delete of something already gone reached its goal: somebody else got there first. */
const alreadyGone = (op: IpvsOp, code: string | undefined): boolean =>
  (op.op === 'del-service' && code === 'ESRCH') || (op.op === 'del-dest' && code === 'ENOENT');

const opServiceKey = (op: IpvsOp): string | undefined =>
  'service' in op ? serviceKeyString(op.service.key) : 'key' in op && op.key ? serviceKeyString(op.key) : undefined;

export interface ReconcileOptions {
  /**
   * Read back the whole table and every address and sysctl (start-up, after a failure). Otherwise
   * only the services whose desired state changed since they were last applied are read back and
   * diffed, so one weight change costs two netlink requests, not a dump of thousands of services.
   */
  full?: boolean;
  /**
   * Service keys (see src/ipvs/keys.ts) to read back and heal even if their desired state did not
   * change: the periodic resync walks every service this way, a slice per pass, so drift
   * (`ipvsadm -C`, an edited weight) heals without one long pass that would delay real changes.
   */
  verify?: ReadonlySet<string>;
  /** Read back addresses and sysctls even if their desired state did not change. */
  verifyLinks?: boolean;
}

/** What was last applied for a service: the desired object (identity: the cheap check) and its content. */
interface Applied {
  service: IpvsServiceWithDests;
  fingerprint: string;
}

/** Identity of a desired service's content, to see what changed since it was last applied. */
const fingerprint = (s: IpvsServiceWithDests): string => JSON.stringify(s);

export class Reconciler {
  /** Shared with VRRP, which keeps its masters there (one record, one writer at a time). */
  readonly record: OwnershipRecord;
  /** Services applied without error since the last full pass, by service key. */
  private readonly applied = new Map<string, Applied>();
  /** The desired objects of `applied`: what most passes look up, by identity alone. */
  private appliedObjects = new WeakSet<IpvsServiceWithDests>();
  private appliedLinks: string | undefined;
  private appliedNft: string | undefined;
  /** Services that failed: terminal ones wait for a change, transient ones back off. */
  readonly retry: ServiceRetry;
  private owned: { list: readonly string[]; set: ReadonlySet<string> } | undefined;
  private lastDesired: { services: readonly CompiledService[]; keys: ReadonlySet<string> } | undefined;
  private gone: { owned: readonly string[]; keys: ReadonlySet<string>; gone: string[] } | undefined;

  constructor(private readonly deps: ReconcilerDeps, retry?: ServiceRetry) {
    this.retry = retry ?? new ServiceRetry();
    this.record = new OwnershipRecord(deps.store);
  }

  /** The kernel changed (e.g. its schedulers): retry services that failed for good. */
  kernelChanged(): void {
    this.retry.kernelChanged();
  }

  /** The ownership record as last changed (loads it on first use). */
  ownedState(): Promise<OwnedState> {
    return this.record.get();
  }

  /**
   * The destinations serving (weight > 0) in those of these services that this agent does not
   * own, as `address|port` per service key: what a VirtualService that adopts them finds up.
   */
  async liveForeignDests(keys: readonly VirtualServiceKey[]): Promise<Map<string, Set<string>>> {
    const owned = new Set((await this.ownedState()).services);
    const out = new Map<string, Set<string>>();
    for (const s of await this.observe(keys.filter((k) => !owned.has(serviceKeyString(k))))) {
      out.set(serviceKeyString(s.key), new Set(s.dests.filter((d) => d.weight > 0).map((d) => `${d.addr}|${d.port}`)));
    }
    return out;
  }

  async reconcile(desired: NodeDesired, opts: ReconcileOptions = { full: true }): Promise<ReconcileResult> {
    const started = performance.now();
    const errors: ReconcileError[] = [];
    const full = opts.full ?? true;
    const ipvs = await this.reconcileIpvs(desired, errors, full, opts.verify);
    // Addresses, links, sysctls, timeouts and sync daemons are few; they are re-read whenever
    // they change or on a full pass.
    const links = JSON.stringify([desired.addresses, desired.links, desired.sysctls, desired.timeouts, desired.syncDaemons]);
    let addressOps = 0;
    let sysctlOps = 0;
    let daemonOps = 0;
    let nftOps = 0;
    if (full || opts.verifyLinks || links !== this.appliedLinks) {
      const before = errors.length;
      addressOps = await this.reconcileAddresses(desired, errors);
      sysctlOps = await this.reconcileSysctls(desired, errors);
      if (desired.timeouts) await this.reconcileTimeouts(desired.timeouts, errors);
      daemonOps = await this.reconcileSyncDaemons(desired.syncDaemons, errors);
      this.appliedLinks = errors.length === before ? links : undefined;
    }
    // Reading the table runs the nft binary (a process per read: costly in a small kernel, and a
    // change waits behind it), so only when the rules wanted changed, on full passes, and on
    // resyncs while rules are wanted (with none wanted and none left since this agent last looked,
    // there is nothing of ours to heal).
    const nft = JSON.stringify(desired.nft ?? []);
    if (full || nft !== this.appliedNft || (opts.verifyLinks && (desired.nft?.length ?? 0) > 0)) {
      const before = errors.length;
      nftOps = await this.reconcileNft(desired.nft ?? [], desired, errors);
      this.appliedNft = errors.length === before ? nft : undefined;
    }
    const retryInMs = this.retry.nextRetryMs();
    return { ipvsOps: ipvs.ops + daemonOps, foreign: ipvs.foreign, addressOps, sysctlOps, nftOps, errors, durationMs: performance.now() - started, ...(retryInMs !== undefined ? { retryInMs } : {}) };
  }

  /** The kernel's view of exactly these services (absent ones are left out). */
  private async observe(keys: VirtualServiceKey[]): Promise<IpvsServiceWithDests[]> {
    const out: IpvsServiceWithDests[] = [];
    for (const key of keys) {
      const svc = await this.deps.ipvs.getService(key);
      if (svc) out.push({ ...svc, dests: await this.deps.ipvs.listDests(key, { stats: false }) });
    }
    return out;
  }

  /** Whether `s` is known to be in the kernel as it is now desired (applied as it is: one identity lookup, no key). */
  private upToDate(s: IpvsServiceWithDests): boolean {
    if (this.appliedObjects.has(s)) return true;
    const a = this.applied.get(serviceKeyString(s.key));
    if (!a) return false;
    if (a.service === s) return true;
    if (a.fingerprint !== fingerprint(s)) return false;
    // Same content, new object: the next pass checks by identity again.
    this.appliedObjects.delete(a.service);
    a.service = s;
    this.appliedObjects.add(s);
    return true;
  }

  private async reconcileIpvs(desired: NodeDesired, errors: ReconcileError[], full: boolean, verify: ReadonlySet<string> = new Set()): Promise<{ ops: number; foreign: string[] }> {
    const owned = await this.ownedState();
    const keyOf = (s: CompiledService): string => serviceKeyString(s.ipvs.key);
    // Services that failed and are not due again stay out of this pass entirely (not added, edited
    // or deleted); their last errors are reported again.
    const held = new Set<string>();
    if (this.retry.size > 0) {
      for (const s of desired.services) {
        const k = keyOf(s);
        const errs = this.retry.held(k, () => fingerprint(s.ipvs));
        if (!errs) continue;
        held.add(k);
        errors.push(...errs);
      }
    }
    const ownedSet = this.ownedSet(owned.services);
    let want: IpvsServiceWithDests[];
    let observed: IpvsServiceWithDests[];
    let ownedScope: ReadonlySet<string>;
    if (full) {
      this.applied.clear();
      this.appliedObjects = new WeakSet();
      want = desired.services.filter((s) => !held.has(keyOf(s))).map((s) => s.ipvs);
      observed = (await this.deps.ipvs.listServicesWithDests({ stats: false })).filter((s) => !held.has(serviceKeyString(s.key)));
      ownedScope = held.size ? new Set(owned.services.filter((k) => !held.has(k))) : ownedSet;
    } else {
      // Only what changed since it was last applied (an identity check per service), what the
      // resync verifies, and owned services no longer desired (to delete them).
      want = [];
      for (const s of desired.services) {
        // Keys only while something is held or verified: most passes have neither.
        if (held.size > 0 && held.has(keyOf(s))) continue;
        if ((verify.size > 0 && verify.has(keyOf(s))) || !this.upToDate(s.ipvs)) want.push(s.ipvs);
      }
      const gone = this.notDesired(owned.services, desired);
      if (want.length === 0 && gone.length === 0) return { ops: 0, foreign: [] };
      observed = await this.observe([...want.map((s) => s.key), ...gone.map(parseServiceKey)]);
      ownedScope = new Set([...want.map((s) => serviceKeyString(s.key)), ...gone].filter((k) => ownedSet.has(k)));
    }
    const desiredKey = (ipvsKey: string): string[] => {
      const s = desired.services.find((x) => keyOf(x) === ipvsKey);
      return s ? [s.key] : [];
    };
    const adoptable = new Set(desired.services.filter((s) => s.adopt).map(keyOf));
    const plan = diffIpvs(want, observed, ownedScope, adoptable);
    for (const k of plan.adopted) this.deps.log?.info({ service: k, virtualService: desiredKey(k) }, 'adopting an IPVS service somebody else made (spec.adopt): editing it to match, its connections live on');
    for (const f of plan.foreign) {
      errors.push({ what: `service ${f}`, message: `${f} already exists in the kernel and was not created by lvs-operator (kube-proxy, keepalived or a human?): left untouched`, services: desiredKey(f) });
    }
    // Without an add or an adoption the plan owns a subset of the slice it saw; the same number
    // means the same set, and the record (10,000 keys at scale, sorted to be saved) is left alone.
    const ownershipKept = plan.adopted.length === 0 && plan.owned.size === ownedScope.size && !plan.ops.some((op) => op.op === 'add-service');
    // diffIpvs saw only a slice (or all but the held services): keep ownership of everything
    // outside it (ownedScope holds the owned services of the slice).
    if (!ownershipKept) for (const k of owned.services) if (!ownedScope.has(k)) plan.owned.add(k);
    if (plan.ops.length === 0) {
      if (!ownershipKept && owned.services.length !== plan.owned.size) await this.record.set({ services: [...plan.owned].sort() });
      this.remember(want, [], [], plan.foreign);
      this.noteFailures(want, desired, errors, plan.foreign);
      return { ops: 0, foreign: plan.foreign };
    }
    // Record the intent first: a crash between the kernel change and the save must not leave a
    // service of ours looking foreign to the next agent.
    if (!ownershipKept) await this.record.set({ services: [...new Set([...owned.services, ...plan.owned])].sort() });
    const results = (await this.deps.ipvs.apply(plan.ops)).map((r, i) => (r.ok || alreadyGone(plan.ops[i]!, r.error.code) ? { ok: true as const } : r));
    const finalOwned = new Set(ownershipKept ? [] : plan.owned);
    const lost = new Set<string>();
    results.forEach((r, i) => {
      const op = plan.ops[i]!;
      if (r.ok) return;
      const key = opServiceKey(op);
      if (op.op === 'add-service' && key && r.error.code === 'EEXIST') {
        finalOwned.delete(key); // lost a race to someone else
        lost.add(key);
      }
      if (op.op === 'del-service' && key) finalOwned.add(key); // still there: still ours
      const reason = terminalReason(r.error);
      errors.push({ what: describeOp(op), message: r.error.message, services: key ? desiredKey(key) : [], code: r.error.code, ...(reason ? { reason } : {}) });
    });
    if (!ownershipKept) await this.record.set({ services: [...finalOwned].sort() });
    const undone = await this.takeBack(plan.ops, results, lost, errors);
    this.remember(want, plan.ops, results, plan.foreign);
    this.noteFailures(want, desired, errors, plan.foreign);
    return { ops: plan.ops.length + undone, foreign: plan.foreign };
  }

  /** The owned service keys as a set, made again only when the record's list changes. */
  private ownedSet(services: readonly string[]): ReadonlySet<string> {
    if (this.owned?.list !== services) this.owned = { list: services, set: new Set(services) };
    return this.owned.set;
  }

  /**
   * Owned services that no service desires any more (held ones are still desired: left alone).
   * Walked again only when the record or the set of desired keys changed.
   */
  private notDesired(owned: readonly string[], desired: NodeDesired): string[] {
    const keys = this.desiredKeys(desired.services);
    if (this.gone?.owned !== owned || this.gone.keys !== keys) this.gone = { owned, keys, gone: owned.filter((k) => !keys.has(k)) };
    return this.gone.gone;
  }

  /** The desired services' keys, the same Set while they stay the same (most passes edit, not add). */
  private desiredKeys(services: readonly CompiledService[]): ReadonlySet<string> {
    const last = this.lastDesired;
    const same = last !== undefined && last.services.length === services.length
      && services.every((s, i) => s.ipvs.key === last.services[i]!.ipvs.key || serviceKeyString(s.ipvs.key) === serviceKeyString(last.services[i]!.ipvs.key));
    if (!same) this.lastDesired = { services, keys: new Set(services.map((s) => serviceKeyString(s.ipvs.key))) };
    else this.lastDesired!.services = services;
    return this.lastDesired!.keys;
  }

  /**
   * The destinations added right after an add-service that lost a race went into somebody else's
   * service: take them out again (one that was already theirs failed with EEXIST and stays).
   */
  private async takeBack(ops: IpvsOp[], results: { ok: boolean }[], lost: ReadonlySet<string>, errors: ReconcileError[]): Promise<number> {
    if (lost.size === 0) return 0;
    const undo: IpvsOp[] = [];
    ops.forEach((op, i) => {
      if (op.op === 'add-dest' && results[i]!.ok && lost.has(serviceKeyString(op.key))) {
        undo.push({ op: 'del-dest', key: op.key, dest: { addr: op.dest.addr, port: op.dest.port } });
      }
    });
    (await this.deps.ipvs.apply(undo)).forEach((r, i) => {
      if (!r.ok) errors.push({ what: describeOp(undo[i]!), message: r.error.message, services: [] });
    });
    return undo.length;
  }

  /**
   * Per desired service tried this pass: failed (terminal when any of its errors is: the others,
   * e.g. ESRCH for the destinations of a service that could not be added, follow from it) or not.
   */
  private noteFailures(want: IpvsServiceWithDests[], desired: NodeDesired, errors: ReconcileError[], foreign: string[]): void {
    const byService = new Map<string, ReconcileError[]>();
    for (const e of errors) for (const s of e.services) byService.set(s, [...(byService.get(s) ?? []), e]);
    // Which VirtualService an IPVS key is: looked up only when there are errors to match.
    const desiredByIpvs = errors.length > 0 ? new Map(desired.services.map((s) => [serviceKeyString(s.ipvs.key), s.key])) : new Map<string, string>();
    for (const s of want) {
      const k = serviceKeyString(s.key);
      const errs = byService.get(desiredByIpvs.get(k) ?? '') ?? [];
      // Foreign: reported each pass, never touched. A race (somebody added or deleted it
      // meanwhile): the next pass reads the kernel again and repairs, no backoff.
      if (errs.length === 0 || foreign.includes(k) || errs.every((e) => e.code === 'EEXIST' || e.code === 'ESRCH')) this.retry.succeeded(k);
      else {
        const reason = errs.find((e) => e.reason)?.reason;
        this.retry.failed(k, fingerprint(s), reason ? errs.map((e) => ({ ...e, reason })) : errs, reason !== undefined);
      }
    }
  }

  /** Records which desired services are now in the kernel as wanted (no failed op touched them). */
  private remember(want: IpvsServiceWithDests[], ops: IpvsOp[], results: { ok: boolean }[], foreign: string[]): void {
    const failed = new Set<string>(foreign);
    ops.forEach((op, i) => {
      const k = opServiceKey(op);
      if (!results[i]!.ok && k) failed.add(k);
    });
    for (const s of want) {
      const k = serviceKeyString(s.key);
      if (failed.has(k)) this.forgetApplied(k);
      else {
        this.forgetApplied(k);
        this.applied.set(k, { service: s, fingerprint: fingerprint(s) });
        this.appliedObjects.add(s);
      }
    }
    for (const op of ops) if (op.op === 'del-service') this.forgetApplied(serviceKeyString(op.key));
  }

  private forgetApplied(key: string): void {
    const a = this.applied.get(key);
    if (!a) return;
    this.appliedObjects.delete(a.service);
    this.applied.delete(key);
  }

  private async reconcileAddresses(desired: NodeDesired, errors: ReconcileError[]): Promise<number> {
    const owned = await this.ownedState();
    for (const l of desired.links) {
      await this.deps.link.setUp(l).catch((e: Error) => errors.push({ what: `link ${l}`, message: e.message, services: [] }));
    }
    const observed = await this.deps.link.listAddresses();
    const plan = diffAddresses(desired.addresses, observed, owned.addresses);
    if (plan.add.length === 0 && plan.remove.length === 0) {
      if (plan.owned.length !== owned.addresses.length) await this.record.set({ addresses: plan.owned });
      return 0;
    }
    await this.record.set({ addresses: [...owned.addresses, ...plan.add] });
    const failedAdds = new Set<string>();
    const keptRemoves: typeof plan.remove = [];
    for (const a of plan.remove) {
      await this.deps.link.deleteAddress(a.ifname, a.address, a.prefixLen).catch((e: Error) => {
        keptRemoves.push(a);
        errors.push({ what: `address ${a.ifname}/${a.address}`, message: e.message, services: [] });
      });
    }
    for (const a of plan.add) {
      await this.deps.link.addAddress(a.ifname, a.address, a.prefixLen).catch((e: Error) => {
        failedAdds.add(`${a.ifname}/${a.address}`);
        errors.push({ what: `address ${a.ifname}/${a.address}`, message: e.message, services: [] });
      });
    }
    const next = [...plan.owned.filter((a) => !failedAdds.has(`${a.ifname}/${a.address}`)), ...keptRemoves];
    await this.record.set({ addresses: next });
    return plan.add.length + plan.remove.length;
  }

  private async reconcileSysctls(desired: NodeDesired, errors: ReconcileError[]): Promise<number> {
    const owned = await this.ownedState();
    const keys = new Set([...Object.keys(desired.sysctls), ...Object.keys(owned.sysctls)]);
    const current: Record<string, string | undefined> = {};
    for (const k of keys) current[k] = await this.deps.sysctl.get(k);
    const plan = diffSysctls(desired.sysctls, current, owned.sysctls);
    if (plan.set.length === 0 && plan.restore.length === 0) {
      await this.record.set({ sysctls: plan.owned });
      return 0;
    }
    await this.record.set({ sysctls: { ...owned.sysctls, ...plan.owned } });
    for (const { key, value } of [...plan.set, ...plan.restore]) {
      await this.deps.sysctl.set(key, value).catch((e: Error) => errors.push({ what: `sysctl ${key}`, message: e.message, services: [] }));
    }
    await this.record.set({ sysctls: plan.owned });
    return plan.set.length + plan.restore.length;
  }

  /** Sync daemons like addresses: the intent is recorded before the kernel changes. */
  private async reconcileSyncDaemons(want: readonly SyncDaemon[], errors: ReconcileError[]): Promise<number> {
    const owned = (await this.ownedState()).syncDaemons;
    const plan = diffSyncDaemons(want, await this.deps.ipvs.listDaemons(), owned);
    if (plan.ops.length === 0) {
      await this.record.set({ syncDaemons: plan.owned });
      return 0;
    }
    const intent = [...plan.owned, ...owned.filter((d) => !plan.owned.some((o) => o.state === d.state))];
    await this.record.set({ syncDaemons: intent });
    const failed = new Set<string>();
    for (const op of plan.ops) {
      const state = op.op === 'stop' ? op.state : op.daemon.state;
      try {
        if (op.op === 'stop') await this.deps.ipvs.stopDaemon(op.state);
        else await this.deps.ipvs.startDaemon(op.daemon);
      } catch (e) {
        const err = e as Error & { code?: string };
        if (op.op === 'stop' && err.code === 'ESRCH') continue; // stopped already
        failed.add(`${op.op}/${state}`);
        const what = op.op === 'stop' ? `stop ${state} sync daemon` : `start ${state} sync daemon on ${op.daemon.mcastIfn} (sync id ${op.daemon.syncId})`;
        errors.push({ what, message: err.message, services: [], ...(err.code ? { code: err.code } : {}) });
      }
    }
    const result = (['master', 'backup'] as const).flatMap((state) => {
      const wanted = plan.owned.filter((d) => d.state === state);
      if (!plan.ops.some((o) => (o.op === 'stop' ? o.state : o.daemon.state) === state)) return wanted;
      if (wanted.length > 0 && !failed.has(`start/${state}`)) return wanted;
      // Not started: a daemon that could not be stopped still runs, and is ours if it was.
      return failed.has(`stop/${state}`) ? owned.filter((d) => d.state === state) : [];
    });
    await this.record.set({ syncDaemons: result });
    return plan.ops.length;
  }

  /**
   * Our nftables table (src/nft/) to exactly the desired rules (source NAT, no-conntrack): one transaction when
   * it differs, none when it matches, so an agent restart rewrites nothing. NAT bindings of
   * connections live in conntrack, not in the table: a rewrite or removal keeps them.
   */
  private async reconcileNft(want: NftRule[], desired: NodeDesired, errors: ReconcileError[]): Promise<number> {
    const services = desired.services.filter((s) => s.snat || s.notrack).map((s) => s.key);
    const fail = (what: string, e: unknown): void => {
      errors.push({ what, message: (e as Error).message, services, ...((e as { code?: string }).code ? { code: (e as { code: string }).code } : {}) });
    };
    const nft = this.deps.nft;
    if (!nft) {
      if (want.length > 0) fail(want.some((r) => !isVipRule(r)) ? 'source NAT' : 'untracked or claimed VIPs', new Error('this agent has no nftables access'));
      return 0;
    }
    let observed;
    try {
      observed = await nft.readTable();
    } catch (e) {
      // Without the nft binary there is no table of ours to remove either.
      if (want.length === 0 && (e as { code?: string }).code === 'ENOENT') return 0;
      fail('read nftables table inet lvs-operator', e);
      return 0;
    }
    const plan = diffSnat(want, observed);
    if (plan.op === 'none') return 0;
    try {
      await nft.run(plan.batch);
      this.deps.log?.info({ rules: plan.rules.length, why: plan.why }, plan.rules.length ? 'nftables table written' : 'nftables table removed');
    } catch (e) {
      fail('write nftables table inet lvs-operator', e);
    }
    return 1;
  }

  private async reconcileTimeouts(want: Partial<Timeouts>, errors: ReconcileError[]): Promise<void> {
    const have = await this.deps.ipvs.getTimeouts();
    const differs = (Object.keys(want) as (keyof Timeouts)[]).some((k) => want[k] !== undefined && want[k] !== have[k]);
    if (!differs) return;
    await this.deps.ipvs.setTimeouts(want).catch((e: Error) => errors.push({ what: 'timeouts', message: e.message, services: [] }));
  }
}
