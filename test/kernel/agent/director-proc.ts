// A lab director: the real agent daemon (VRRP included) in the network namespace it was started
// in, fed from a manifest file. Prints `ready <node>` after its first pass, then one JSON line per
// VRRP change ({"ev":"vrrp", "state":..., "priority":...}); SIGTERM stops it.
// Usage: node --import tsx director-proc.ts <node> <manifest> <stateDir> <nodes-json>
// LVS_TEST_BIRD_MODE=sidecar: BIRD is run by a sidecar (the chart's files/bird-sidecar.sh), as --bird=sidecar.
import { pino } from 'pino';
import { startAgentDaemon } from '../../../src/agent/daemon.js';
import type { Node } from '../../../src/kube/types.js';

const [node = '', manifest = '', stateDir = '', nodesJson = '[]'] = process.argv.slice(2);
const nodes: Node[] = (JSON.parse(nodesJson) as { name: string; labels?: Record<string, string>; annotations?: Record<string, string> }[])
  .map((n) => ({ apiVersion: 'v1', kind: 'Node', metadata: { name: n.name, labels: n.labels ?? {}, annotations: n.annotations ?? {} } }));
const daemon = await startAgentDaemon({
  node, stateDir, manifests: { files: [manifest], nodes }, resyncMs: 3000, log: pino({ level: 'info' }, pino.destination(2)),
  ...(process.env.LVS_TEST_BIRD_MODE === 'sidecar' ? { bird: { mode: 'sidecar' as const } } : {}),
});
process.stdout.write(`ready ${node}\n`);
let last = '';
const report = (): void => {
  const status = daemon.vrrp?.status() ?? [];
  const line = JSON.stringify({ ev: 'vrrp', states: status.map((s) => s.state), priorities: status.map((s) => s.priority) });
  if (line === last) return;
  last = line;
  process.stdout.write(`${line.slice(0, -1)},"t":${Date.now()}}\n`);
};
daemon.vrrp?.onChange(report);
setInterval(report, 50).unref();
process.on('SIGTERM', () => { void daemon.stop().then(() => process.exit(0)); });
