// In-memory twin of NftCli for unit tests: tables, chains and rules as the kernel lists them,
// changed only by whole batches (a failing command leaves everything as it was). The parity
// tests in test/kernel/nft/ run the same batches through both and compare what they list.
import { NftError, type NftClient, type NftObject } from './types.js';

interface Table { family: string; name: string; chains: NftObject[]; rules: NftObject[] }

const tableKey = (t: { family?: unknown; name?: unknown; table?: unknown }): string => `${String(t.family)}/${String(t.table ?? t.name)}`;

export class FakeNft implements NftClient {
  private tables = new Map<string, Table>();
  private handle = 0;
  /** Transactions run (a test of "nothing rewritten" counts them). */
  batches = 0;

  async readTable(): Promise<NftObject[] | undefined> {
    const t = this.tables.get('inet/lvs-operator');
    return t ? FakeNft.list(t) : undefined;
  }

  async listTables(): Promise<string[]> {
    return [...this.tables.keys()];
  }

  async run(batch: NftObject[]): Promise<void> {
    const next = new Map([...this.tables].map(([k, t]) => [k, { ...t, chains: [...t.chains], rules: [...t.rules] }]));
    for (const cmd of batch) this.apply(next, cmd);
    this.tables = next;
    this.batches++;
  }

  private apply(tables: Map<string, Table>, cmd: NftObject): void {
    const [verb, body] = Object.entries(cmd)[0] ?? [];
    const obj = body as Record<string, Record<string, unknown>> | undefined;
    if (!obj) throw new NftError('empty command');
    if (obj.table) {
      const k = tableKey(obj.table);
      if (verb === 'add') {
        if (!tables.has(k)) tables.set(k, { family: String(obj.table.family), name: String(obj.table.name), chains: [], rules: [] });
      } else if (verb === 'delete') {
        if (!tables.delete(k)) throw new NftError(`delete table ${k}: No such file or directory`);
      } else throw new NftError(`unsupported: ${verb} table`);
      return;
    }
    const target = obj.chain ?? obj.rule;
    if (!target || verb !== 'add') throw new NftError(`unsupported: ${verb} ${Object.keys(obj)[0]}`);
    const t = tables.get(tableKey(target));
    if (!t) throw new NftError(`${tableKey(target)}: No such file or directory`);
    if (obj.chain) {
      if (!t.chains.some((c) => c.name === obj.chain!.name)) t.chains.push({ ...obj.chain, handle: ++this.handle });
      return;
    }
    if (!t.chains.some((c) => c.name === obj.rule!.chain)) throw new NftError(`chain ${String(obj.rule!.chain)}: No such file or directory`);
    t.rules.push({ ...obj.rule, handle: ++this.handle });
  }

  private static list(t: Table): NftObject[] {
    return [
      { table: { family: t.family, name: t.name, handle: 0 } },
      ...t.chains.map((c) => ({ chain: { family: t.family, table: t.name, ...c } })),
      ...t.rules.map((r) => ({ rule: { family: t.family, table: t.name, ...r } })),
    ];
  }
}
