// Helpers for code that runs inside the UML lab kernel (kernel-tier tests, benchmarks).
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';

const execFileP = promisify(execFile);

/** Fails loudly when a kernel test is started on the host instead of inside the lab. */
export function assertInLab(): void {
  if (process.env.LVS_LAB !== '1' || !existsSync('/proc/net/ip_vs')) {
    throw new Error('kernel-tier code must run inside the UML lab: use `npm run test:kernel` (IPVS is missing here)');
  }
}

export interface ExecResult { stdout: string; stderr: string }

/** Runs a command; rejects with its stderr and status when it fails. */
export async function run(cmd: string, args: string[], opts: { input?: string } = {}): Promise<ExecResult> {
  if (opts.input !== undefined) return runWithInput(cmd, args, opts.input);
  try {
    const { stdout, stderr } = await execFileP(cmd, args, { maxBuffer: 256 * 1024 * 1024 });
    return { stdout, stderr };
  } catch (e) {
    const err = e as { code?: number; stderr?: string; stdout?: string };
    throw new Error(`${cmd} ${args.join(' ')} failed (status ${err.code}): ${(err.stderr || err.stdout || String(e)).trim()}`);
  }
}

function runWithInput(cmd: string, args: string[], input: string): Promise<ExecResult> {
  return new Promise((res, rej) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d; });
    child.stderr.on('data', (d: Buffer) => { stderr += d; });
    child.once('error', rej);
    child.once('close', (code) => {
      if (code === 0) res({ stdout, stderr });
      else rej(new Error(`${cmd} ${args.join(' ')} failed (status ${code}): ${stderr.trim()}`));
    });
    child.stdin.end(input);
  });
}

/** `sh -c` for the few places a pipeline reads better than argv. */
export const sh = (script: string): Promise<ExecResult> => run('sh', ['-c', script]);

/** Starts a long-running process; the returned handle kills it. */
export function startProcess(cmd: string, args: string[]): { child: ChildProcess; stop: () => Promise<void> } {
  const child = spawn(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'] });
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const closed = new Promise<void>((r) => child.once('close', () => r()));
    child.kill('SIGKILL');
    await closed;
  };
  return { child, stop };
}
