// Our table in nft's JSON (libnftables-json(5)): written as a batch, read back into SnatRules.
// Pure; the reader recognises exactly the shapes the writer makes, so anything else in our
// table (a hand-made rule, an older layout) reads as "not ours as desired" and gets rewritten.
import { canonicalIp, compareIp } from '../address/index.js';
import type { Protocol } from '../ipvs/types.js';
import { snatChain, snatTable, type NftObject, type SnatRule } from './types.js';

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
 * The batch that makes our table hold exactly `rules` (or removes it when there are none), in one
 * transaction: adding the table first makes the delete valid whether or not it was there.
 */
export function snatBatch(rules: readonly SnatRule[]): NftObject[] {
  const batch: NftObject[] = [{ add: { table } }, { delete: { table } }];
  if (rules.length === 0) return batch;
  batch.push({ add: { table } });
  batch.push({ add: { chain: { ...table, table: snatTable.name, name: snatChain.name, type: snatChain.type, hook: snatChain.hook, prio: snatChain.prio, policy: snatChain.policy } } });
  for (const r of rules) batch.push({ add: { rule: { family: snatTable.family, table: snatTable.name, chain: snatChain.name, expr: ruleExpr(r) } } });
  return batch;
}

/** Our table read back: its rules, or `unknown` when it holds anything we would not have written. */
export type ParsedTable = { rules: SnatRule[] } | { unknown: string };

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
  const rules: SnatRule[] = [];
  let chain = false;
  for (const o of objects) {
    if (isObj(o.table)) continue;
    if (isObj(o.chain)) {
      const c = o.chain;
      const same = c.name === snatChain.name && c.type === snatChain.type && c.hook === snatChain.hook && c.prio === snatChain.prio && c.policy === snatChain.policy;
      if (!same || chain) return { unknown: `chain ${String(c.name)} is not the one source-NAT chain` };
      chain = true;
      continue;
    }
    if (isObj(o.rule)) {
      const r = o.rule.chain === snatChain.name ? parseRuleExpr(o.rule.expr) : undefined;
      if (!r) return { unknown: `a rule in chain ${String(o.rule.chain)} that lvs-operator does not write` };
      rules.push(r);
      continue;
    }
    return { unknown: `a ${Object.keys(o)[0] ?? 'nameless'} object lvs-operator does not write` };
  }
  if (!chain) return { unknown: 'no source-NAT chain' };
  return { rules };
}

/** Deterministic order and canonical form, so equal desires compare equal. */
export function normalizeRules(rules: readonly SnatRule[]): SnatRule[] {
  const key = (r: SnatRule): string => JSON.stringify([r.family, 'fwmark' in r.match ? [r.match.fwmark] : [r.match.vip, r.match.port, r.match.protocol], r.to ?? '', r.dests]);
  return rules.map((r) => ({ ...r, dests: sortAddresses(r.dests) })).sort((a, b) => key(a).localeCompare(key(b)));
}
