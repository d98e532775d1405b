import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';
import { run } from '../test/lab/inside.js';
import { labLogsRoot, projectRoot } from '../test/lab/paths.js';
import { isAlive } from '../test/lab/reaper.js';
import { runInUml } from '../test/lab/uml.js';

// Nothing the lab starts outlives it: processes (kernels, the controller, etcd and the API
// server), network namespaces, links and temporary directories are gone after the lab ends,
// however it ends. A real lab (API server, a node kernel with its agent, the controller) is
// started in a child process and ended four ways.
interface Made { resources: string[]; apiWorkDir: string; clusterDir: string; kernelPid: number; controllerPid: number }

const holder = join(projectRoot, 'e2e/fixtures/lab-holder.ts');

async function endLab(name: string, mode: 'success' | 'fail' | 'wait', signal?: NodeJS.Signals): Promise<{ made: Made; code: number | null }> {
  const child = spawn(process.execPath, ['--import', 'tsx', holder, name, mode, '10.248.0'], { cwd: projectRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => { stderr += d; });
  const exited = new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
  const made = await new Promise<Made>((resolve, reject) => {
    createInterface({ input: child.stdout }).on('line', (l) => { if (l.startsWith('{"resources"')) resolve(JSON.parse(l) as Made); });
    void exited.then((c) => reject(new Error(`lab-holder exited (${c}) before the lab was up: ${stderr.slice(-2000)}`)));
  });
  if (signal) child.kill(signal);
  return { made, code: await exited };
}

/** Processes whose command line names something of this lab. */
function processesMentioning(markers: string[]): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    let cmd: string;
    try { cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' '); } catch { continue; }
    if (Number(pid) !== process.pid && markers.some((m) => cmd.includes(m))) found.push(`${pid}: ${cmd.slice(0, 200)}`);
  }
  return found;
}

async function expectNothingLeft(name: string, made: Made): Promise<void> {
  expect(made.resources.some((r) => r.startsWith('process group'))).toBe(true);
  expect(made.resources.some((r) => r.startsWith('netns'))).toBe(true);
  // Removal is done by the time the holder exits; the API server's watchdog may need a moment.
  const deadline = Date.now() + 20_000;
  const leftovers = async (): Promise<string[]> => {
    const netns = (await run('ip', ['netns', 'list'])).stdout;
    const links = (await run('ip', ['-o', 'link'])).stdout;
    const out: string[] = [];
    for (const r of made.resources) {
      const [kind, ...rest] = r.split(' ');
      const id = rest.join(' ');
      if (kind === 'process' && isAlive(Number(/group (\d+)/.exec(r)![1]))) out.push(r);
      if (kind === 'netns' && netns.split('\n').some((l) => l.split(' ')[0] === id)) out.push(r);
      if (kind === 'link' && links.includes(` ${id}@`)) out.push(r);
      if (kind === 'directory' && existsSync(id)) out.push(r);
    }
    for (const pid of [made.kernelPid, made.controllerPid]) if (isAlive(pid)) out.push(`process ${pid}`);
    if (existsSync(made.apiWorkDir)) out.push(`directory ${made.apiWorkDir}`);
    out.push(...processesMentioning([made.apiWorkDir, made.clusterDir, `lvsc-${name}`, ...made.resources.filter((r) => r.includes('lvs-lab-init-')).map((r) => r.replace(/^directory /, ''))]));
    return out;
  };
  let left = await leftovers();
  while (left.length > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 250));
    left = await leftovers();
  }
  expect(left).toEqual([]);
  // The logs stay, outside the removed run directories.
  expect(existsSync(join(labLogsRoot, `cluster-${name}`, 'controller.log'))).toBe(true);
  expect(existsSync(join(labLogsRoot, 'node-h1', 'console.log'))).toBe(true);
}

describe('the lab leaves nothing behind', () => {
  it('after a run that succeeds', async () => {
    const { made, code } = await endLab('cl-ok', 'success');
    expect(code).toBe(0);
    await expectNothingLeft('cl-ok', made);
  });

  it('after a run that fails with everything running', async () => {
    const { made, code } = await endLab('cl-fail', 'fail');
    expect(code).toBe(1);
    await expectNothingLeft('cl-fail', made);
  });

  it('after SIGINT', async () => {
    const { made, code } = await endLab('cl-int', 'wait', 'SIGINT');
    expect(code).toBe(130);
    await expectNothingLeft('cl-int', made);
  });

  it('after SIGKILL: no program is left running, and the next lab removes what the killed one could not', async () => {
    const { made, code } = await endLab('cl-kill', 'wait', 'SIGKILL');
    expect(code).toBe(null);
    const pids = made.resources.filter((r) => r.startsWith('process group')).map((r) => Number(/group (\d+)/.exec(r)![1]));
    const markers = [made.apiWorkDir, made.clusterDir, ...made.resources.filter((r) => r.includes('lvs-lab-init-')).map((r) => r.replace(/^directory /, ''))];
    const deadline = Date.now() + 20_000;
    let left: string[] = [];
    do {
      await new Promise((r) => setTimeout(r, 250));
      left = [...pids.filter(isAlive).map((p) => `process group ${p}`), ...processesMentioning(markers)];
    } while (left.length > 0 && Date.now() < deadline);
    expect(left).toEqual([]);
    // What only a live process could remove: the next lab kernel removes the boot and run
    // directories of a dead owner; a new lab of the same name replaces its namespace and directory.
    const dirs = made.resources.filter((r) => r.startsWith('directory ')).map((r) => r.slice('directory '.length));
    const kernelDirs = dirs.filter((d) => d.includes('lvs-lab-init-') || d.includes(`${join('.lab', 'runs')}/`));
    expect(kernelDirs.length).toBeGreaterThan(0);
    expect((await runInUml({ label: 'sweep', command: ['true'], echo: null, memMb: 128 })).code).toBe(0);
    expect(kernelDirs.filter((d) => existsSync(d))).toEqual([]);
    for (const r of made.resources) if (r.startsWith('netns ')) await run('ip', ['netns', 'del', r.slice('netns '.length)]).catch(() => undefined);
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('after SIGTERM', async () => {
    const { made, code } = await endLab('cl-term', 'wait', 'SIGTERM');
    expect(code).toBe(143);
    await expectNothingLeft('cl-term', made);
  });
});
