import { describe, expect, it } from 'vitest';
import type { DirectorView } from '../../../src/api/index.js';
import type { AgentPass } from '../../../src/agent/agent.js';
import { compile } from '../../../src/agent/compile.js';
import { StatusReporter } from '../../../src/agent/reporter.js';
import type { ApplyBody } from '../../../src/kube/index.js';
import { resolve } from '../../../src/model/index.js';
import { logger } from '../../../src/util/log.js';
import { dg, node, rs, snapshot, web } from '../model/fixtures.js';

// A restarted agent reads its own entries back from the API server (the informer's copy) and
// writes only those that differ: 1,000 unchanged services cost no write after a restart.
const model = resolve(snapshot({
  directorGroups: [dg('g1')],
  virtualServices: [web('shop', 'web', '192.168.10.100', { forwarding: { method: 'DR' } }), web('shop', 'api', '192.168.10.101', { forwarding: { method: 'DR' } })],
  realServers: [rs('shop', 'web-1', { address: '10.1.0.1' }, { app: 'web' }), rs('shop', 'api-1', { address: '10.1.0.2' }, { app: 'api' })],
  nodes: [node('d1', { 'lvs.dev/director': 'g1' })],
}));
const pass = (healthy: (address: string) => boolean): AgentPass => ({
  model, desired: compile(model, 'd1', (_s, b) => healthy(b.address), () => true),
  result: { ipvsOps: 0, addressOps: 0, sysctlOps: 0, nftOps: 0, foreign: [], errors: [], durationMs: 1 },
});

const sortKeys = (_k: string, x: unknown): unknown =>
  x && typeof x === 'object' && !Array.isArray(x) ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => (a < b ? -1 : 1))) : x;

function agent(stored: Map<string, DirectorView>) {
  const writes: ApplyBody[] = [];
  const rep = new StatusReporter({
    node: 'd1', virtualServices: { applyStatus: async (b: ApplyBody) => { writes.push(b); } },
    // As the API server returns it: keys sorted.
    stored: (key) => { const v = stored.get(key); return v ? JSON.parse(JSON.stringify(v, sortKeys)) as DirectorView : undefined; },
    log: logger('test'), minIntervalMs: 0, writesPerSecond: 1000,
  });
  return { rep, writes };
}

describe('StatusReporter after a restart', () => {
  it('writes nothing for entries the server already holds, keeps their transition times, writes what differs', async () => {
    const first = agent(new Map());
    first.rep.report(pass(() => true));
    expect(await first.rep.flush(2000)).toBe(true);
    first.rep.close();
    expect(first.writes.map((w) => w.metadata.name).sort()).toEqual(['api', 'web']);
    const held = new Map(first.writes.map((w) => [`shop/${w.metadata.name}`, (w.status as { directors: DirectorView[] }).directors[0]!]));

    // Restarted later, nothing changed: no write at all.
    const same = agent(held);
    same.rep.report(pass(() => true));
    expect(await same.rep.flush(2000)).toBe(true);
    same.rep.close();
    expect(same.writes).toEqual([]);

    // Restarted while api-1 fails: only api is written, web keeps the entry (and time) it had.
    const changed = agent(held);
    changed.rep.report(pass((a) => a !== '10.1.0.2'));
    expect(await changed.rep.flush(2000)).toBe(true);
    changed.rep.close();
    expect(changed.writes.map((w) => w.metadata.name)).toEqual(['api']);
    const api = (changed.writes[0]!.status as { directors: DirectorView[] }).directors[0]!;
    expect(api).toMatchObject({ healthy: 0, backends: [{ address: '10.1.0.2', healthy: false }] });
  });
});
