import { describe, expect, it } from 'vitest';
import { holdUnchecked, type CheckVerdict } from '../../../src/agent/bgp-settle.js';
import { compile } from '../../../src/agent/compile.js';
import { resolve } from '../../../src/model/index.js';
import { dg, node, rs, snapshot, web } from '../model/fixtures.js';

const VIP = '10.100.0.10';
const OTHER = '10.100.0.11';

function model() {
  return resolve(snapshot({
    directorGroups: [dg('g1', { announce: 'BGP', bgp: { localASN: 65011, peers: [{ address: '10.0.0.1', asn: 65000 }] } } as never)],
    virtualServices: [
      web('shop', 'web', VIP, { scheduler: 'mh', forwarding: { method: 'DR' }, healthCheck: { type: 'TCP', port: 80 } }),
      web('shop', 'api', OTHER, { scheduler: 'mh', forwarding: { method: 'DR' }, backends: { realServerSelector: { matchLabels: { app: 'api' } } }, healthCheck: { type: 'TCP', port: 80 } }),
    ],
    realServers: [
      ...['1', '2', '3'].map((i) => rs('shop', `web-${i}`, { address: `10.0.0.2${i}` }, { app: 'web' })),
      rs('shop', 'api-1', { address: '10.0.0.31' }, { app: 'api' }),
    ],
    nodes: [node('d1', { 'lvs.dev/director': 'g1' })],
  }));
}

const up: CheckVerdict = { healthy: true, consecutiveFail: 0 };
const failed: CheckVerdict = { healthy: false, consecutiveFail: 1 };
const unchecked: CheckVerdict = { healthy: false, consecutiveFail: 0 };

describe('holdUnchecked: a VIP is first announced only once every check of its services has a verdict', () => {
  const m = model();
  // web-1 passed its first check; the others of web have not been probed yet; api's one is up.
  const verdicts = new Map<string, CheckVerdict>();
  const desired = compile(m, 'd1', (_s, b) => b.address === '10.0.0.21' || b.address === '10.0.0.31', () => false);

  it('holds a VIP that could be served while some of its real servers are still unchecked', () => {
    const verdict = (k: string): CheckVerdict => (k.includes('10.0.0.21') || k.includes('10.0.0.31') ? up : unchecked);
    expect(desired.bgp).toEqual([{ group: 'g1', vips: [VIP, OTHER], serving: [VIP, OTHER] }]);
    const r = holdUnchecked(m, desired, new Set(), verdict);
    expect(r.held).toEqual([VIP]);
    expect(r.desired.bgp).toEqual([{ group: 'g1', vips: [VIP, OTHER], serving: [OTHER] }]);
    // Nothing else of the desired state changes: the table is programmed, only the route waits.
    expect(r.desired.services).toBe(desired.services);
  });

  it('announces it once every check has a verdict: up, or a failed probe', () => {
    const verdict = (k: string): CheckVerdict => (k.includes('10.0.0.22') ? failed : k.includes('10.0.0.23') ? failed : up);
    expect(holdUnchecked(m, desired, new Set(), verdict)).toEqual({ desired, held: [] });
    // A target the checker does not know (no check on this node) holds nothing either.
    expect(holdUnchecked(m, desired, new Set(), (k) => verdicts.get(k)).held).toEqual([]);
  });

  it('never withdraws a VIP already announced because a real server is unchecked', () => {
    const r = holdUnchecked(m, desired, new Set([VIP]), () => unchecked);
    expect(r.held).toEqual([OTHER]);
    expect(r.desired.bgp![0]!.serving).toEqual([VIP]);
  });

  it('leaves a director with no BGP group alone', () => {
    const none = { ...desired };
    delete none.bgp;
    expect(holdUnchecked(m, none, new Set(), () => unchecked)).toEqual({ desired: none, held: [] });
  });
});
