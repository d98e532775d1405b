// A lab "node": an agent reading manifests (file source) in the network namespace it was started
// in. Prints `ready <node>` (or `error <node>: ...`) after its first pass; SIGTERM stops it.
// Usage: node --import tsx test/lab/node-agent.ts <node> <manifest> <stateDir> <nodes-json>
// where nodes-json is [{"name": "d1", "labels": {...}}, ...].
import { Agent } from '../../src/agent/agent.js';
import { openKernel } from '../../src/agent/kernel.js';
import { FileSource } from '../../src/agent/source.js';
import type { Node } from '../../src/kube/types.js';

const [nodeName = '', manifest = '', stateDir = '', nodesJson = '[]'] = process.argv.slice(2);
const nodes: Node[] = (JSON.parse(nodesJson) as { name: string; labels?: Record<string, string> }[])
  .map((n) => ({ apiVersion: 'v1', kind: 'Node', metadata: { name: n.name, labels: n.labels ?? {} } }));
const source = new FileSource([manifest], nodes);
await source.reload();
const kernel = await openKernel(stateDir);
const agent = new Agent({ node: nodeName, source, reconciler: kernel.reconciler, resyncMs: 5000 });
await agent.start();
const errors = agent.lastPass?.result.errors ?? [];
process.stdout.write(errors.length ? `error ${nodeName}: ${errors.map((e) => e.message).join('; ')}\n` : `ready ${nodeName}\n`);
process.on('SIGTERM', () => { void agent.stop().then(() => { kernel.close(); process.exit(0); }); });
