import { describe, expect, it } from 'vitest';
import { CheckSync } from '../../../src/agent/check-sync.js';
import { healthChecks } from '../../../src/agent/health-config.js';
import { HealthChecker } from '../../../src/health/index.js';
import { IncrementalResolver, resolve } from '../../../src/model/index.js';
import type { Snapshot } from '../../../src/model/types.js';
import { dg, node, rs, snapshot, web } from '../model/fixtures.js';

function cluster(o: { webCheck?: 'TCP' | 'None'; extraRs?: boolean; withApi?: boolean } = {}): Snapshot {
  return snapshot({
    directorGroups: [dg('g1')],
    virtualServices: [
      web('shop', 'web', '192.168.10.100', { healthCheck: { type: o.webCheck ?? 'TCP' } }),
      ...(o.withApi === false ? [] : [web('shop', 'api', '192.168.10.101', { healthCheck: { type: 'HTTP', http: { path: '/healthz' } }, backends: { realServerSelector: { matchLabels: { app: 'api' } } } })]),
    ],
    realServers: [
      rs('shop', 'web-1', { address: '10.1.0.1' }, { app: 'web' }),
      ...(o.extraRs ? [rs('shop', 'web-2', { address: '10.1.0.2' }, { app: 'web' })] : []),
      rs('shop', 'api-1', { address: '10.1.0.3', port: 8080 }, { app: 'api' }),
    ],
    nodes: [node('d1', { 'lvs.dev/director': 'g1' })],
  });
}

describe('CheckSync', () => {
  it('keeps the checker targets equal to healthChecks(model) as services and real servers come and go', () => {
    // Probes never settle here: the test looks at which targets exist, not at their results.
    const checker = new HealthChecker({ probe: () => new Promise(() => undefined) });
    const sync = new CheckSync(checker, 'd1');
    try {
      for (const s of [cluster(), cluster({ extraRs: true }), cluster({ webCheck: 'None', extraRs: true }), cluster({ withApi: false }), cluster()]) {
        const m = resolve(s);
        sync.sync(m);
        const want = [...healthChecks(m, 'd1').keys()].sort();
        expect(checker.snapshot().map((t) => t.key).sort()).toEqual(want);
        for (const [k, c] of healthChecks(m, 'd1')) expect(checker.get(k)?.target).toEqual(c.target);
      }
    } finally {
      checker.close();
    }
  });

  it('follows models that say what changed (the incremental resolver), also across a model it never saw', () => {
    const checker = new HealthChecker({ probe: () => new Promise(() => undefined) });
    const sync = new CheckSync(checker, 'd1');
    const inc = new IncrementalResolver();
    try {
      const steps = [cluster(), cluster({ extraRs: true }), cluster({ webCheck: 'None', extraRs: true }), cluster({ withApi: false }), cluster({ extraRs: true }), cluster()];
      steps.forEach((s, i) => {
        const m = inc.resolve(s);
        if (i === 3) return; // never synced: the next model's changes are relative to it
        sync.sync(m);
        expect(checker.snapshot().map((t) => t.key).sort(), `step ${i}`).toEqual([...healthChecks(resolve(s), 'd1').keys()].sort());
      });
    } finally {
      checker.close();
    }
  });

  it('does not touch the targets of services whose model did not change', () => {
    const checker = new HealthChecker({ probe: () => new Promise(() => undefined) });
    const sync = new CheckSync(checker, 'd1');
    try {
      const m = resolve(cluster());
      sync.sync(m, new Set(['shop/web|10.1.0.1|80|0']));
      expect(checker.get('shop/web|10.1.0.1|80|0')?.healthy).toBe(true); // known to the kernel: starts up
      checker.remove('shop/web|10.1.0.1|80|0');
      // Same services map: nothing is looked at again (the removal above stays).
      sync.sync(m);
      expect(checker.has('shop/web|10.1.0.1|80|0')).toBe(false);
    } finally {
      checker.close();
    }
  });
});
