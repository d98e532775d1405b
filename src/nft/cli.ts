// The real twin: the `nft` binary with JSON in and out (libnftables-json(5)), as kube-proxy's
// knftables drives it. One `nft -j -f` is one netlink batch, so a change is atomic; nftables'
// netlink encoding of expressions is large and version-dependent, which is nft's job, not ours.
// (No maintained npm library speaks nf_tables netlink.)
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { snatTable, NftError, type NftClient, type NftObject } from './types.js';

interface Output { code: number | null; stdout: string; stderr: string }

export class NftCli implements NftClient {
  /** `dir`: a writable directory for the batch file (the agent's state directory: its root is read-only). */
  constructor(private readonly dir = tmpdir(), private readonly binary = 'nft') {}

  private exec(args: string[]): Promise<Output> {
    return new Promise((resolve, reject) => {
      const child = spawn(this.binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
      child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
      child.on('error', (e: NodeJS.ErrnoException) => {
        reject(new NftError(e.code === 'ENOENT' ? `${this.binary} not found: install nftables` : e.message, e.code));
      });
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
  }

  private static objects(stdout: string): NftObject[] {
    const parsed = JSON.parse(stdout) as { nftables?: NftObject[] };
    return (parsed.nftables ?? []).filter((o) => !('metainfo' in o));
  }

  async readTable(): Promise<NftObject[] | undefined> {
    const out = await this.exec(['-j', 'list', 'table', snatTable.family, snatTable.name]);
    if (out.code === 0) return NftCli.objects(out.stdout);
    if (/No such file or directory/.test(out.stderr)) return undefined;
    throw new NftError(`nft list table: ${out.stderr.trim() || `exit ${out.code}`}`);
  }

  async run(batch: NftObject[]): Promise<void> {
    // A file, not stdin: nft's JSON reader opens "-" by the path /dev/stdin, and Node's child
    // stdin is a socket, which no path opens (ENXIO); argv holds at most 128 KiB an argument.
    const dir = await mkdtemp(join(this.dir, '.nft-'));
    try {
      const file = join(dir, 'batch.json');
      await writeFile(file, JSON.stringify({ nftables: batch }), { mode: 0o600 });
      const out = await this.exec(['-j', '-f', file]);
      if (out.code !== 0) throw new NftError(`nft -f: ${out.stderr.trim() || `exit ${out.code}`}`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  async listTables(): Promise<string[]> {
    const out = await this.exec(['-j', 'list', 'tables']);
    if (out.code !== 0) throw new NftError(`nft list tables: ${out.stderr.trim() || `exit ${out.code}`}`);
    return NftCli.objects(out.stdout).flatMap((o) => {
      const t = o.table as { family?: string; name?: string } | undefined;
      return t ? [`${t.family}/${t.name}`] : [];
    });
  }
}
