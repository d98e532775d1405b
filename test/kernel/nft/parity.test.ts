import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeNft, NftCli, parseTable, tableBatch, type NftClient, type NftRule, type VipRule, type SnatRule } from '../../../src/nft/index.js';
import { assertInLab, run } from '../../lab/inside.js';

// The real nftables twin against the lab kernel, and the fake against it: the same batches, the
// same tables listed, the same rules read back, the same all-or-nothing failure.
const web: SnatRule = { family: 'ip', match: { protocol: 'tcp', vip: '10.230.0.100', port: 80 }, dests: ['10.230.1.11', '10.230.1.12'] };
const dns6: SnatRule = { family: 'ip6', match: { protocol: 'udp', vip: '2001:db8:230::100', port: 53 }, dests: ['2001:db8:231::11'], to: '2001:db8:231::1' };
const mark: SnatRule = { family: 'ip', match: { fwmark: 42 }, dests: ['10.230.1.13'], to: '10.230.1.1' };
const anyPort: SnatRule = { family: 'ip', match: { protocol: 'sctp', vip: '10.230.0.101', port: 0 }, dests: ['10.230.1.11'] };
const untracked: VipRule = { verdict: 'notrack', family: 'ip', protocol: 'tcp', vip: '10.230.0.102', port: 80 };
const untracked6: VipRule = { verdict: 'notrack', family: 'ip6', protocol: 'udp', vip: '2001:db8:230::102', port: 0 };
const claimed: VipRule = { verdict: 'claim', family: 'ip', protocol: 'tcp', vip: '10.230.0.100', port: 80 };
const claimed6: VipRule = { verdict: 'claim', family: 'ip6', protocol: 'sctp', vip: '2001:db8:230::103', port: 0 };

const foreign = 'table ip parity-human {\n chain post {\n type nat hook postrouting priority 50; policy accept;\n ip daddr 10.230.9.9 counter masquerade\n }\n}\n';

describe('nftables twins: NftCli on the lab kernel and FakeNft', () => {
  const real = new NftCli();
  const fake = new FakeNft();
  const both = (f: (c: NftClient) => Promise<unknown>) => Promise.all([f(real), f(fake)]);
  let foreignBefore: string;

  beforeAll(async () => {
    assertInLab();
    await run('nft', ['-f', '-'], { input: foreign });
    await fake.run([{ add: { table: { family: 'ip', name: 'parity-human' } } }]);
    foreignBefore = (await run('nft', ['list', 'table', 'ip', 'parity-human'])).stdout;
  });
  afterAll(async () => {
    await run('nft', ['delete', 'table', 'ip', 'parity-human']).catch(() => undefined);
    await run('nft', ['delete', 'table', 'inet', 'lvs-operator']).catch(() => undefined);
  });

  const tables = async (c: NftClient): Promise<string[]> => (await c.listTables()).filter((t) => t === 'inet/lvs-operator' || t === 'ip/parity-human').sort();

  it('both read no table of ours before anything is written', async () => {
    expect(await both((c) => c.readTable())).toEqual([undefined, undefined]);
  });

  const steps: [string, NftRule[]][] = [
    ['four rule shapes', [web, dns6, mark, anyPort]],
    ['source NAT, no-conntrack and claim rules', [web, untracked, untracked6, claimed, claimed6]],
    ['no-conntrack rules alone', [untracked]],
    ['a changed set', [{ ...web, dests: ['10.230.1.12'] }, dns6]],
    ['no rules (removal)', []],
  ];
  for (const [name, rules] of steps) {
    it(`lists the same after one transaction: ${name}`, async () => {
      await both((c) => c.run(tableBatch(rules)));
      const [r, f] = await both(async (c) => { const t = await c.readTable(); return t && parseTable(t); });
      expect(r).toEqual(f);
      expect(r).toEqual(rules.length ? { rules } : undefined);
      const [rt, ft] = await both(tables);
      expect(rt).toEqual(ft);
      expect((await run('nft', ['list', 'table', 'ip', 'parity-human'])).stdout).toBe(foreignBefore);
    });
  }

  it('a failing batch changes nothing on either (one transaction)', async () => {
    await both((c) => c.run(tableBatch([web])));
    const bad = [...tableBatch([dns6]), { delete: { table: { family: 'ip', name: 'parity-absent' } } }];
    const results = await Promise.allSettled([real.run(bad), fake.run(bad)]);
    expect(results.map((x) => x.status)).toEqual(['rejected', 'rejected']);
    const [r, f] = await both(async (c) => parseTable((await c.readTable())!));
    expect(r).toEqual({ rules: [web] });
    expect(f).toEqual(r);
  });
});
