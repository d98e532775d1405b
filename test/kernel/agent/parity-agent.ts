// Our agent for the keepalived parity test, in the network namespace it was started in: the
// real agent loop over manifest files, printing what keepalived logs and ipvsadm cannot show
// (each service's quorum state and live weight) as one JSON line whenever it changes.
// Usage: node --import tsx test/kernel/agent/parity-agent.ts <node> <manifest> <stateDir> <nodes-json>
import { startFileAgent } from '../../lab/file-agent.js';

const { agent, kernel } = await startFileAgent(process.argv.slice(2), { debounceMs: 5 });

let last = '';
const report = (): void => {
  const services = (agent.lastPass?.desired.services ?? []).map((s) => ({ key: s.key, quorumUp: s.quorumUp, liveWeight: s.liveWeight, errors: agent.lastPass?.result.errors.length ?? 0 }));
  const line = JSON.stringify({ services });
  if (line !== last) process.stdout.write(`${line}\n`);
  last = line;
};
report();
// Passes follow health changes; reading the last one often enough to see every settled state.
const timer = setInterval(report, 50);
process.on('SIGTERM', () => {
  clearInterval(timer);
  void agent.stop().then(() => { kernel.close(); process.exit(0); });
});
