import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { HealthChecker, type HealthChange } from '../../../src/health/checker.js';
import { httpServer, type Running } from './servers.js';

/** Resolves with the next change for `key`; the guard only keeps a broken run from hanging the suite. */
function nextChange(checker: HealthChecker, key: string): Promise<HealthChange> {
  return new Promise((resolve, reject) => {
    const guard = setTimeout(() => reject(new Error(`no change for ${key} within 10s`)), 10_000);
    const on = (c: HealthChange): void => {
      if (c.key !== key) return;
      clearTimeout(guard);
      checker.off('change', on);
      resolve(c);
    };
    checker.on('change', on);
  });
}

describe('HealthChecker in real time against a real server', () => {
  let checker: HealthChecker | undefined;
  let server: Running | undefined;
  afterEach(async () => {
    checker?.close();
    await server?.close();
  });

  it('a killed server goes down after `fall` probes and comes back after `rise`', async () => {
    const body = 'alive\n';
    const serve = (port = 0) => httpServer((_req, res) => res.end(body), port);
    server = await serve();
    const port = server.port;
    const rise = 2;
    const fall = 3;
    checker = new HealthChecker();
    const all: HealthChange[] = [];
    checker.on('change', (c) => all.push(c));
    const target = { address: '127.0.0.1', port };
    const common = { target, intervalMs: 50, rise, fall };
    checker.set('http', {
      ...common,
      spec: { type: 'http', timeoutMs: 500, path: '/', digest: createHash('md5').update(body).digest('hex') },
    });
    checker.set('tcp', { ...common, spec: { type: 'tcp', timeoutMs: 500 } });

    const [httpUp, tcpUp] = await Promise.all([nextChange(checker, 'http'), nextChange(checker, 'tcp')]);
    expect(httpUp).toMatchObject({ healthy: true, reason: 'ok', consecutive: rise });
    expect(tcpUp).toMatchObject({ healthy: true, reason: 'ok', consecutive: rise });

    const downs = Promise.all([nextChange(checker, 'http'), nextChange(checker, 'tcp')]);
    await server.close();
    server = undefined;
    const [httpDown, tcpDown] = await downs;
    expect(httpDown).toMatchObject({ healthy: false, reason: 'connect ECONNREFUSED', consecutive: fall });
    expect(tcpDown).toMatchObject({ healthy: false, reason: 'connect ECONNREFUSED', consecutive: fall });
    expect(checker.get('http')).toMatchObject({ healthy: false });

    const ups = Promise.all([nextChange(checker, 'http'), nextChange(checker, 'tcp')]);
    server = await serve(port); // same port: the checker keeps probing it
    const [httpBack, tcpBack] = await ups;
    expect(httpBack).toMatchObject({ healthy: true, consecutive: rise });
    expect(tcpBack).toMatchObject({ healthy: true, consecutive: rise });

    // Exactly the three transitions per key, nothing in between.
    expect(all.filter((c) => c.key === 'http').map((c) => c.healthy)).toEqual([true, false, true]);
    expect(all.filter((c) => c.key === 'tcp').map((c) => c.healthy)).toEqual([true, false, true]);
    const stats = checker.stats();
    expect(stats.failuresTotal).toBeGreaterThanOrEqual(2 * fall);
    expect(stats.latency.http?.count).toBeGreaterThan(0);
    expect(stats.latency.tcp?.count).toBeGreaterThan(0);
  });
});
