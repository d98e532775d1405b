// Our table in nft's JSON (libnftables-json(5)): written as a batch, read back into rules.
// Pure; the reader recognises exactly the shapes the writer makes, so anything else in our
// table (a hand-made rule, an older layout) reads as "not ours as desired" and gets rewritten.
import { canonicalIp, compareIp } from '../address/index.js';
import type { Protocol } from '../ipvs/types.js';
import { claimChain, isVipRule, notrackChain, snatChain, snatTable, type NftObject, type NftRule, type SnatRule, type VipRule } from './types.js';

const protocols: readonly Protocol[] = ['tcp', 'udp', 'sctp'];
const eq = (left: unknown, right: unknown): NftObject => ({ match: { op: '==', left, right } });
const table = { family: snatTable.family, name: snatTable.name };

function ruleExpr(r: SnatRule): NftObject[] {
  const expr: NftObject[] = [];
  if ('fwmark' in r.match) {
    expr.push(eq({ meta: { key: 'mark' } }, r.match.fwmark));
  } else {
    expr.push(eq({ meta: { key: 'l4proto' } }, r.match.protocol));
    expr.push(eq({ ct: { key: `${r.family} daddr`, dir: 'original' } }, r.match.vip));
    if (r.match.port !== 0) expr.push(eq({ ct: { key: 'proto-dst', dir: 'original' } }, r.match.port));
  }
  const dests = r.dests.length === 1 ? r.dests[0] : { set: r.dests };
  expr.push(eq({ payload: { protocol: r.family, field: 'daddr' } }, dests));
  expr.push(r.to === undefined ? { masquerade: null } : { snat: { family: r.family, addr: r.to } });
  return expr;
}

/**
 * `ip daddr VIP tcp dport PORT notrack` or `... dnat ip to VIP`, in the shape nft lists it (the
 * port match implies the protocol; without a port the protocol is matched itself).
 */
function vipExpr(r: VipRule): NftObject[] {
  const expr: NftObject[] = [];
  if (r.port === 0) expr.push(eq({ meta: { key: 'l4proto' } }, r.protocol));
  expr.push(eq({ payload: { protocol: r.family, field: 'daddr' } }, r.vip));
  if (r.port !== 0) expr.push(eq({ payload: { protocol: r.protocol, field: 'dport' } }, r.port));
  expr.push(r.verdict === 'notrack' ? { notrack: null } : { dnat: { family: r.family, addr: r.vip } });
  return expr;
}

type Chain = typeof snatChain | typeof notrackChain | typeof claimChain;
const chainOf = (r: NftRule): Chain => (!isVipRule(r) ? snatChain : r.verdict === 'notrack' ? notrackChain : claimChain);
const chainObject = (c: Chain): NftObject => ({
  chain: { ...table, table: snatTable.name, name: c.name, type: c.type, hook: c.hook, prio: c.prio, policy: c.policy },
});

/**
 * The batch that makes our table hold exactly `rules` (or removes it when there are none), in one
 * transaction: adding the table first makes the delete valid whether or not it was there. Each
 * chain is there only when it has rules.
 */
export function tableBatch(rules: readonly NftRule[]): NftObject[] {
  const batch: NftObject[] = [{ add: { table } }, { delete: { table } }];
  if (rules.length === 0) return batch;
  batch.push({ add: { table } });
  for (const c of [snatChain, notrackChain, claimChain]) {
    const mine = rules.filter((r) => chainOf(r) === c);
    if (mine.length === 0) continue;
    batch.push({ add: chainObject(c) });
    for (const r of mine) batch.push({ add: { rule: { family: snatTable.family, table: snatTable.name, chain: c.name, expr: isVipRule(r) ? vipExpr(r) : ruleExpr(r) } } });
  }
  return batch;
}

/** Our table read back: its rules, or `unknown` when it holds anything we would not have written. */
export type ParsedTable = { rules: NftRule[] } | { unknown: string };

const isObj = (x: unknown): x is NftObject => typeof x === 'object' && x !== null && !Array.isArray(x);

function matchOf(e: unknown): { left: NftObject; right: unknown } | undefined {
  if (!isObj(e) || !isObj(e.match) || e.match.op !== '==' || !isObj(e.match.left)) return undefined;
  return { left: e.match.left, right: e.match.right };
}

function address(family: 'ip' | 'ip6', x: unknown): string | undefined {
  if (typeof x !== 'string') return undefined;
  try {
    const a = canonicalIp(x);
    return a.includes(':') === (family === 'ip6') ? a : undefined;
  } catch {
    return undefined;
  }
}

/** One rule of the no-conntrack or the claim chain back into a VipRule, or undefined if it is not one we write. */
export function parseVipExpr(expr: unknown, verdict: VipRule['verdict']): VipRule | undefined {
  if (!Array.isArray(expr) || expr.length < 3 || expr.length > 4) return undefined;
  const items = [...expr];
  const last = items.pop();
  if (!isObj(last) || Object.keys(last).length !== 1) return undefined;
  let protocol: Protocol | undefined;
  const first = matchOf(items[0]);
  if (first && isObj(first.left.meta)) {
    if (first.left.meta.key !== 'l4proto' || !protocols.includes(first.right as Protocol)) return undefined;
    protocol = first.right as Protocol;
    items.shift();
  }
  const d = matchOf(items.shift());
  const payload = d && isObj(d.left.payload) ? d.left.payload : undefined;
  if (!payload || payload.field !== 'daddr' || (payload.protocol !== 'ip' && payload.protocol !== 'ip6')) return undefined;
  const family: 'ip' | 'ip6' = payload.protocol;
  const vip = address(family, d!.right);
  if (!vip) return undefined;
  if (verdict === 'notrack' ? last.notrack !== null : !(isObj(last.dnat) && last.dnat.family === family && Object.keys(last.dnat).length === 2 && address(family, last.dnat.addr) === vip)) return undefined;
  let port = 0;
  if (items.length > 0) {
    if (protocol !== undefined) return undefined;
    const p = matchOf(items.shift());
    const pl = p && isObj(p.left.payload) ? p.left.payload : undefined;
    if (!pl || pl.field !== 'dport' || !protocols.includes(pl.protocol as Protocol) || typeof p!.right !== 'number' || p!.right === 0) return undefined;
    protocol = pl.protocol as Protocol;
    port = p!.right;
  }
  if (protocol === undefined || items.length !== 0) return undefined;
  return { verdict, family, protocol, vip, port };
}

/** One rule's expressions back into a SnatRule, or undefined if it is not one we write. */
export function parseRuleExpr(expr: unknown): SnatRule | undefined {
  if (!Array.isArray(expr) || expr.length < 3) return undefined;
  const items = [...expr];
  const first = matchOf(items.shift());
  if (!first || !isObj(first.left.meta)) return undefined;
  let family: 'ip' | 'ip6' | undefined;
  let match: SnatRule['match'];
  if (first.left.meta.key === 'mark') {
    if (typeof first.right !== 'number') return undefined;
    match = { fwmark: first.right };
  } else if (first.left.meta.key === 'l4proto' && protocols.includes(first.right as Protocol)) {
    const vip = matchOf(items.shift());
    const ct = vip && isObj(vip.left.ct) ? vip.left.ct : undefined;
    if (!ct || ct.dir !== 'original' || (ct.key !== 'ip daddr' && ct.key !== 'ip6 daddr')) return undefined;
    family = ct.key === 'ip daddr' ? 'ip' : 'ip6';
    const addr = address(family, vip!.right);
    if (!addr) return undefined;
    let port = 0;
    const p = matchOf(items[0]);
    if (p && isObj(p.left.ct)) {
      if (p.left.ct.key !== 'proto-dst' || p.left.ct.dir !== 'original' || typeof p.right !== 'number' || p.right === 0) return undefined;
      port = p.right;
      items.shift();
    }
    match = { protocol: first.right as Protocol, vip: addr, port };
  } else {
    return undefined;
  }
  const d = matchOf(items.shift());
  const payload = d && isObj(d.left.payload) ? d.left.payload : undefined;
  if (!payload || payload.field !== 'daddr' || (payload.protocol !== 'ip' && payload.protocol !== 'ip6')) return undefined;
  if (family !== undefined && payload.protocol !== family) return undefined;
  const fam: 'ip' | 'ip6' = payload.protocol;
  const raw = isObj(d!.right) && Array.isArray(d!.right.set) ? d!.right.set : [d!.right];
  const dests = raw.map((x) => address(fam, x));
  if (dests.length === 0 || dests.some((x) => x === undefined)) return undefined;
  const nat = items.shift();
  if (items.length !== 0 || !isObj(nat)) return undefined;
  const rule: SnatRule = { family: fam, match, dests: sortAddresses(dests as string[]) };
  if ('masquerade' in nat) {
    if (nat.masquerade !== null) return undefined;
  } else if (isObj(nat.snat) && nat.snat.family === fam && Object.keys(nat.snat).length === 2) {
    const to = address(fam, nat.snat.addr);
    if (!to) return undefined;
    rule.to = to;
  } else {
    return undefined;
  }
  return rule;
}

const sortAddresses = (xs: string[]): string[] =>
  [...new Set(xs)].sort((a, b) => (a.includes(':') === b.includes(':') ? compareIp(a.includes(':') ? 'IPv6' : 'IPv4', a, b) : a.includes(':') ? 1 : -1));

/** Our table's listing (`nft -j list table`, metainfo left out) back into rules. */
export function parseTable(objects: readonly NftObject[]): ParsedTable {
  const rules: NftRule[] = [];
  const chains = new Set<string>();
  for (const o of objects) {
    if (isObj(o.table)) continue;
    if (isObj(o.chain)) {
      const c = o.chain;
      const ours = [snatChain, notrackChain, claimChain].find((k) => c.name === k.name && c.type === k.type && c.hook === k.hook && c.prio === k.prio && c.policy === k.policy);
      if (!ours || chains.has(ours.name)) return { unknown: `chain ${String(c.name)} is not one of our chains` };
      chains.add(ours.name);
      continue;
    }
    if (isObj(o.rule)) {
      const chain = o.rule.chain;
      const r = chain === snatChain.name ? parseRuleExpr(o.rule.expr) : chain === notrackChain.name ? parseVipExpr(o.rule.expr, 'notrack') : chain === claimChain.name ? parseVipExpr(o.rule.expr, 'claim') : undefined;
      if (!r) return { unknown: `a rule in chain ${String(o.rule.chain)} that lvs-operator does not write` };
      rules.push(r);
      continue;
    }
    return { unknown: `a ${Object.keys(o)[0] ?? 'nameless'} object lvs-operator does not write` };
  }
  if (chains.size === 0) return { unknown: 'no chain of ours' };
  // A chain is written only with rules: an empty one is not what we would have written.
  for (const name of chains) if (!rules.some((r) => chainOf(r).name === name)) return { unknown: `chain ${name} without rules` };
  return { rules };
}

/** Deterministic order and canonical form, so equal desires compare equal. */
export function normalizeRules(rules: readonly NftRule[]): NftRule[] {
  const key = (r: NftRule): string =>
    isVipRule(r)
      ? JSON.stringify([r.verdict, r.family, r.vip, r.port, r.protocol])
      : JSON.stringify([r.family, 'fwmark' in r.match ? [r.match.fwmark] : [r.match.vip, r.match.port, r.match.protocol], r.to ?? '', r.dests]);
  const unique = new Map(rules.map((r) => (isVipRule(r) ? r : { ...r, dests: sortAddresses(r.dests) })).map((r) => [key(r), r]));
  return [...unique.values()].sort((a, b) => key(a).localeCompare(key(b)));
}
