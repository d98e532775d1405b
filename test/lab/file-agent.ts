// The agent loop over manifest files (file source) in the network namespace of the process, from
// the command line `<node> <manifest> <stateDir> <nodes-json>`, where nodes-json is
// [{"name": "d1", "labels": {...}}, ...]. Shared by the lab's node agents and the parity tests.
import { Agent } from '../../src/agent/agent.js';
import { openKernel, type KernelHandles } from '../../src/agent/kernel.js';
import { FileSource } from '../../src/agent/source.js';
import type { Node } from '../../src/kube/types.js';

export async function startFileAgent(argv: string[], o: { debounceMs?: number } = {}): Promise<{ nodeName: string; agent: Agent; kernel: KernelHandles }> {
  const [nodeName = '', manifest = '', stateDir = '', nodesJson = '[]'] = argv;
  const nodes: Node[] = (JSON.parse(nodesJson) as { name: string; labels?: Record<string, string> }[])
    .map((n) => ({ apiVersion: 'v1', kind: 'Node', metadata: { name: n.name, labels: n.labels ?? {} } }));
  const source = new FileSource([manifest], nodes);
  await source.reload();
  const kernel = await openKernel(stateDir);
  const agent = new Agent({ node: nodeName, source, reconciler: kernel.reconciler, resyncMs: 5000, ...o });
  await agent.start();
  return { nodeName, agent, kernel };
}
