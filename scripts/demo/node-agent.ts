// One lab "node": an agent reading the demo manifests (file source) in the network namespace it
// was started in. Prints `ready <node>` after its first pass; SIGTERM stops it.
import type { Node } from '../../src/kube/types.js';
import { Agent } from '../../src/agent/agent.js';
import { openKernel } from '../../src/agent/kernel.js';
import { FileSource } from '../../src/agent/source.js';

const [nodeName = '', manifest = '', stateDir = ''] = process.argv.slice(2);
const labNode = (name: string, labels: Record<string, string> = {}): Node => ({ apiVersion: 'v1', kind: 'Node', metadata: { name, labels } });

const nodes = [labNode('director-1', { 'lvs.dev/director': 'edge' }), labNode('rs-1'), labNode('rs-2')];
const source = new FileSource([manifest], nodes);
await source.reload();
const kernel = await openKernel(stateDir);
const agent = new Agent({ node: nodeName, source, reconciler: kernel.reconciler, resyncMs: 5000 });
await agent.start();
const errors = agent.lastPass?.result.errors ?? [];
process.stdout.write(errors.length ? `error ${nodeName}: ${errors.map((e) => e.message).join('; ')}\n` : `ready ${nodeName}\n`);
process.on('SIGTERM', () => { void agent.stop().then(() => { kernel.close(); process.exit(0); }); });
