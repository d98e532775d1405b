import { describe, expect, it } from 'vitest';
import { compile } from '../../../src/agent/compile.js';
import { checkKey } from '../../../src/agent/health-config.js';
import { StatusReporter } from '../../../src/agent/reporter.js';
import type { EventRecorder } from '../../../src/kube/index.js';
import { resolve } from '../../../src/model/index.js';
import { logger } from '../../../src/util/log.js';
import { dg, node, rs, snapshot, web } from '../model/fixtures.js';

const model = resolve(snapshot({
  directorGroups: [dg('g1')],
  virtualServices: [
    web('shop', 'web', '192.168.10.100', { healthChecks: [{ type: 'TCP' }, { type: 'HTTP' }] }),
    web('shop', 'one', '192.168.10.101', { healthCheck: { type: 'TCP' }, backends: { realServerSelector: { matchLabels: { app: 'web' } } } }),
  ],
  realServers: [rs('shop', 'web-1', { address: '10.1.0.1' }, { app: 'web' })],
  nodes: [node('d1', { 'lvs.dev/director': 'g1' })],
}));

function reporter() {
  const events: { reason: string; note: string; regarding: string }[] = [];
  const recorder = { record: async (r: { kind: string; name?: string }, _t: string, reason: string, note: string) => { events.push({ reason, note, regarding: `${r.kind}/${r.name}` }); } } as unknown as EventRecorder;
  const target = { applyStatus: async () => undefined };
  const rep = new StatusReporter({ node: 'd1', virtualServices: target, events: recorder, log: logger('test'), writesPerSecond: 1000 });
  rep.report({ model, desired: compile(model, 'd1', () => true, () => true), result: { ipvsOps: 0, addressOps: 0, sysctlOps: 0, nftOps: 0, foreign: [], errors: [], durationMs: 1 } });
  return { rep, events };
}
const b = { address: '10.1.0.1', port: 80 };
const change = (service: string, index: number, healthy: boolean) =>
  ({ key: checkKey(service, b, index), target: b, healthy, reason: healthy ? 'ok' : 'status 500 not in [200-299]', consecutive: 1 });

describe('health Events', () => {
  it('name the check that changed when a real server has several', () => {
    const { rep, events } = reporter();
    rep.healthEvent(change('shop/web', 1, false));
    rep.healthEvent(change('shop/web', 0, true));
    rep.healthEvent(change('shop/one', 0, false));
    rep.close();
    expect(events).toEqual([
      { reason: 'RealServerDown', note: '10.1.0.1:80 fails its HTTP check (2 of 2) on d1: status 500 not in [200-299]', regarding: 'RealServer/web-1' },
      { reason: 'RealServerUp', note: '10.1.0.1:80 passes its TCP check (1 of 2) on d1', regarding: 'RealServer/web-1' },
      { reason: 'RealServerDown', note: '10.1.0.1:80 fails its check on d1: status 500 not in [200-299]', regarding: 'RealServer/web-1' },
    ]);
  });
});
