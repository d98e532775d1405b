import { describe, expect, it } from 'vitest';
import { FakeNft, parseRuleExpr, parseTable, parseVipExpr, tableBatch, type SnatRule, type VipRule } from '../../../src/nft/index.js';

const tcp: SnatRule = { family: 'ip', match: { protocol: 'tcp', vip: '10.0.0.1', port: 80 }, dests: ['10.1.0.1', '10.1.0.2'] };
const udp6: SnatRule = { family: 'ip6', match: { protocol: 'udp', vip: '2001:db8::1', port: 53 }, dests: ['2001:db8:1::1'], to: '2001:db8::9' };
const mark: SnatRule = { family: 'ip', match: { fwmark: 7 }, dests: ['10.1.0.3'], to: '10.0.0.9' };
const allPorts: SnatRule = { family: 'ip', match: { protocol: 'sctp', vip: '10.0.0.1', port: 0 }, dests: ['10.1.0.1'] };

const untracked: VipRule = { verdict: 'notrack', family: 'ip', protocol: 'tcp', vip: '10.0.0.1', port: 80 };
const untrackedAll6: VipRule = { verdict: 'notrack', family: 'ip6', protocol: 'udp', vip: '2001:db8::1', port: 0 };
const claimed: VipRule = { verdict: 'claim', family: 'ip', protocol: 'tcp', vip: '10.0.0.2', port: 443 };
const claimedAll6: VipRule = { verdict: 'claim', family: 'ip6', protocol: 'sctp', vip: '2001:db8::2', port: 0 };

describe('nft JSON of the no-conntrack and claim chains', () => {
  it('reads back what it writes, alone or beside source NAT; each chain only with rules', async () => {
    const nft = new FakeNft();
    await nft.run(tableBatch([untracked, untrackedAll6]));
    const listed = (await nft.readTable())!;
    expect(listed.filter((o) => 'chain' in o).map((o) => (o.chain as { name: string }).name)).toEqual(['prerouting']);
    expect(parseTable(listed)).toEqual({ rules: [untracked, untrackedAll6] });
    await nft.run(tableBatch([tcp, untracked, claimed, claimedAll6]));
    const all = (await nft.readTable())!;
    expect(all.filter((o) => 'chain' in o).map((o) => (o.chain as { name: string }).name)).toEqual(['postrouting', 'prerouting', 'dstnat']);
    expect(parseTable(all)).toEqual({ rules: [tcp, untracked, claimed, claimedAll6] });
  });

  it('refuses rules it does not write and an empty chain', () => {
    const expr = (tableBatch([untracked])[4]!.add as { rule: { expr: unknown[] } }).rule.expr;
    expect(parseVipExpr(expr, 'notrack')).toEqual(untracked);
    expect(parseVipExpr(expr, 'claim')).toBeUndefined();
    expect(parseVipExpr([...expr.slice(0, -1), { accept: null }], 'notrack')).toBeUndefined();
    expect(parseVipExpr([...expr.slice(0, -1), { counter: null }, { notrack: null }], 'notrack')).toBeUndefined();
    expect(parseVipExpr(expr.slice(1), 'notrack')).toBeUndefined();
    const dnat = (tableBatch([claimed])[4]!.add as { rule: { expr: unknown[] } }).rule.expr;
    expect(parseVipExpr(dnat, 'claim')).toEqual(claimed);
    // a DNAT elsewhere is not a claim: it would move the connection
    expect(parseVipExpr([...dnat.slice(0, -1), { dnat: { family: 'ip', addr: '10.9.9.9' } }], 'claim')).toBeUndefined();
    expect(parseVipExpr([...dnat.slice(0, -1), { dnat: { family: 'ip', addr: '10.0.0.2', port: 80 } }], 'claim')).toBeUndefined();
    const table = [{ table: { family: 'inet', name: 'lvs-operator' } }, { chain: { family: 'inet', table: 'lvs-operator', name: 'prerouting', type: 'filter', hook: 'prerouting', prio: -300, policy: 'accept' } }];
    expect(parseTable(table)).toEqual({ unknown: 'chain prerouting without rules' });
  });
});

describe('nft JSON of the source-NAT table', () => {
  it('reads back every rule shape it writes (through the fake, which lists what it was given)', async () => {
    const nft = new FakeNft();
    await nft.run(tableBatch([tcp, udp6, mark, allPorts]));
    expect(parseTable((await nft.readTable())!)).toEqual({ rules: [tcp, udp6, mark, allPorts] });
  });

  // What nft 1.0.6 listed for these rules in the lab kernel (kept here so the reader is checked
  // against the real printer's shapes, not only against the writer).
  it('parses the kernel listing of a multi-address set and of a masquerade', () => {
    const expr = [
      { match: { op: '==', left: { meta: { key: 'l4proto' } }, right: 'tcp' } },
      { match: { op: '==', left: { ct: { key: 'ip daddr', dir: 'original' } }, right: '10.0.0.1' } },
      { match: { op: '==', left: { ct: { key: 'proto-dst', dir: 'original' } }, right: 80 } },
      { match: { op: '==', left: { payload: { protocol: 'ip', field: 'daddr' } }, right: { set: ['10.1.0.2', '10.1.0.1'] } } },
      { masquerade: null },
    ];
    expect(parseRuleExpr(expr)).toEqual(tcp);
  });

  it('refuses what it does not write: another verdict, a missing match, a wrong family, extra expressions', () => {
    const base = tableBatch([tcp])[4]!.add as { rule: { expr: unknown[] } };
    const expr = base.rule.expr;
    expect(parseRuleExpr(expr)).toEqual(tcp);
    expect(parseRuleExpr([...expr.slice(0, -1), { accept: null }])).toBeUndefined();
    expect(parseRuleExpr(expr.slice(1))).toBeUndefined();
    expect(parseRuleExpr([...expr, { counter: null }])).toBeUndefined();
    const wrongFamily = structuredClone(expr) as { match: { right: unknown } }[];
    wrongFamily[1]!.match.right = '2001:db8::1';
    expect(parseRuleExpr(wrongFamily)).toBeUndefined();
  });

  it('calls a table with a foreign chain or rule unknown, and one without our chain too', async () => {
    const nft = new FakeNft();
    await nft.run(tableBatch([tcp]));
    await nft.run([{ add: { chain: { family: 'inet', table: 'lvs-operator', name: 'mine' } } }]);
    expect(parseTable((await nft.readTable())!)).toMatchObject({ unknown: expect.stringContaining('chain mine') });
    expect(parseTable([{ table: { family: 'inet', name: 'lvs-operator' } }])).toEqual({ unknown: 'no chain of ours' });
  });

  it('removes the table with an empty rule list, whether it was there or not; the fake runs a batch all or nothing', async () => {
    const nft = new FakeNft();
    await nft.run([{ add: { table: { family: 'ip', name: 'theirs' } } }]);
    await nft.run(tableBatch([]));
    await nft.run(tableBatch([tcp]));
    expect(await nft.listTables()).toEqual(['ip/theirs', 'inet/lvs-operator']);
    await nft.run(tableBatch([]));
    expect(await nft.listTables()).toEqual(['ip/theirs']);
    await expect(nft.run([{ add: { table: { family: 'ip', name: 'x' } } }, { delete: { table: { family: 'ip', name: 'nope' } } }])).rejects.toThrow(/No such file/);
    expect(await nft.listTables()).toEqual(['ip/theirs']);
  });
});
