// A lab "node": an agent reading manifests (file source) in the network namespace it was started
// in. Prints `ready <node>` (or `error <node>: ...`) after its first pass; SIGTERM stops it.
// Usage: node --import tsx test/lab/node-agent.ts <node> <manifest> <stateDir> <nodes-json>
// where nodes-json is [{"name": "d1", "labels": {...}}, ...].
import { startFileAgent } from './file-agent.js';

const { nodeName, agent, kernel } = await startFileAgent(process.argv.slice(2));
const errors = agent.lastPass?.result.errors ?? [];
process.stdout.write(errors.length ? `error ${nodeName}: ${errors.map((e) => e.message).join('; ')}\n` : `ready ${nodeName}\n`);
process.on('SIGTERM', () => { void agent.stop().then(() => { kernel.close(); process.exit(0); }); });
