// Agents in lab namespaces: the real agent loop over the real kernel, fed from manifest files.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Node } from '../../src/kube/types.js';
import type { Netns } from './netns.js';
import { projectRoot } from './paths.js';

const nodeAgent = fileURLToPath(new URL('./node-agent.ts', import.meta.url));

export interface LabNode { name: string; labels?: Record<string, string> }

export const toNodes = (nodes: LabNode[]): Node[] =>
  nodes.map((n) => ({ apiVersion: 'v1', kind: 'Node', metadata: { name: n.name, labels: n.labels ?? {} } }));

/** Starts an agent process in `ns`; resolves once its first pass is done, rejects on its error. */
export async function startNodeAgent(ns: Netns, node: string, manifest: string, stateDir: string, nodes: LabNode[]): Promise<ChildProcess> {
  const [cmd, ...args] = ns.command(process.execPath, ['--import', 'tsx', nodeAgent, node, manifest, stateDir, JSON.stringify(nodes)]);
  const child = spawn(cmd!, args, { stdio: ['ignore', 'pipe', 'inherit'], cwd: projectRoot });
  const first = await new Promise<string>((res, rej) => {
    createInterface({ input: child.stdout! }).once('line', res);
    child.once('exit', (c) => rej(new Error(`agent ${node} exited (${c})`)));
  });
  if (!first.startsWith('ready')) throw new Error(first);
  return child;
}

/** Polls `cond` every 50 ms until it holds or `timeoutMs` passes; returns whether it held. */
export async function waitFor(cond: () => boolean | Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await cond()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return cond();
}
