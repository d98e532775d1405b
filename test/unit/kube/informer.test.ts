import { describe, expect, it } from 'vitest';
import { KubeApiError, type WatchEvent } from '../../../src/kube/http.js';
import { Informer, type InformerEvent, type ListWatcher, lean } from '../../../src/kube/informer.js';
import type { KubeObject, ListResult } from '../../../src/kube/types.js';

// A scripted list/watch source: each list() and watch() call takes the next step.
type Step =
  | { list: ListResult<KubeObject> }
  | { listError: Error }
  | { events: WatchEvent<KubeObject>[]; then: 'end' | Error | 'hang' };

function obj(name: string, rv: string, ns = 'a'): KubeObject {
  return { metadata: { name, namespace: ns, resourceVersion: rv } };
}

class Scripted implements ListWatcher<KubeObject> {
  readonly calls: string[] = [];
  constructor(private readonly steps: Step[]) {}
  private next(): Step {
    const s = this.steps.shift();
    if (!s) return { events: [], then: 'hang' };
    return s;
  }
  async list(latest: boolean): Promise<ListResult<KubeObject>> {
    this.calls.push(latest ? 'list(latest)' : 'list');
    const s = this.next();
    if ('listError' in s) throw s.listError;
    if (!('list' in s)) throw new Error(`script expected a list, got ${JSON.stringify(s)}`);
    return s.list;
  }
  async watch(rv: string, onEvent: (ev: WatchEvent<KubeObject>) => void, signal: AbortSignal): Promise<void> {
    this.calls.push(`watch@${rv}`);
    const s = this.next();
    if (!('events' in s)) throw new Error(`script expected a watch, got ${JSON.stringify(s)}`);
    for (const ev of s.events) onEvent(ev);
    if (s.then === 'end') return;
    if (s.then instanceof Error) throw s.then;
    await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve()));
  }
}

async function until(cond: () => boolean, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

function collect(inf: Informer<KubeObject>): string[] {
  const seen: string[] = [];
  inf.on((ev: InformerEvent<KubeObject>) => {
    if (ev.type === 'resync') seen.push('resync');
    else seen.push(`${ev.type}:${ev.obj.metadata.name}@${ev.obj.metadata.resourceVersion}`);
  });
  return seen;
}

const noSleep = { sleep: async () => {} };

describe('Informer', () => {
  it('lists, then applies watch events from the list version, tracking bookmarks', async () => {
    const lw = new Scripted([
      { list: { items: [obj('x', '5'), obj('y', '6')], resourceVersion: '10' } },
      {
        events: [
          { type: 'MODIFIED', object: obj('x', '11') },
          { type: 'ADDED', object: obj('z', '12') },
          { type: 'DELETED', object: obj('y', '13') },
          { type: 'BOOKMARK', object: { metadata: { resourceVersion: '20' } } },
        ],
        then: 'end',
      },
    ]);
    const inf = new Informer('t', lw, noSleep);
    const seen = collect(inf);
    inf.start();
    await inf.waitForSync();
    await until(() => lw.calls.length >= 3);
    await inf.stop();
    expect(seen).toEqual(['added:x@5', 'added:y@6', 'updated:x@11', 'added:z@12', 'deleted:y@13']);
    expect(inf.list().map((o) => o.metadata.name).sort()).toEqual(['x', 'z']);
    // The server ended the stream cleanly: resume from the bookmark, no relist.
    expect(lw.calls).toEqual(['list', 'watch@10', 'watch@20']);
    expect(inf.getByName('x', 'a')?.metadata.resourceVersion).toBe('11');
  });

  it('relists on 410 Gone and reports only the difference', async () => {
    const lw = new Scripted([
      { list: { items: [obj('x', '5'), obj('y', '6')], resourceVersion: '10' } },
      { events: [{ type: 'ERROR', object: { metadata: {}, code: 410, reason: 'Expired', message: 'too old resource version' } as unknown as KubeObject }], then: 'hang' },
      { list: { items: [obj('x', '5'), obj('w', '30')], resourceVersion: '31' } },
    ]);
    const inf = new Informer('t', lw, noSleep);
    const seen = collect(inf);
    inf.start();
    await until(() => lw.calls.length >= 4);
    await inf.stop();
    // The first list may come from the watch cache; after a 410 only the latest will do.
    expect(lw.calls).toEqual(['list', 'watch@10', 'list(latest)', 'watch@31']);
    expect(seen).toEqual(['added:x@5', 'added:y@6', 'deleted:y@6', 'added:w@30']);
    expect(inf.stats.relistsOnGone).toBe(1);
  });

  it('keeps the object it holds across a relist when its version did not change, and drops managedFields', async () => {
    const withFields = (name: string, rv: string): KubeObject => ({ metadata: { ...obj(name, rv).metadata, managedFields: [{ manager: 'kubectl' }] } as KubeObject['metadata'] });
    const lw = new Scripted([
      { list: { items: [withFields('x', '5'), withFields('y', '6')], resourceVersion: '10' } },
      { events: [{ type: 'ERROR', object: { metadata: {}, code: 410, reason: 'Expired', message: 'too old resource version' } as unknown as KubeObject }], then: 'hang' },
      { list: { items: [withFields('x', '5'), withFields('y', '7')], resourceVersion: '31' } },
    ]);
    const inf = new Informer('t', lw, noSleep);
    inf.start();
    await inf.waitForSync();
    const x = inf.getByName('x', 'a');
    expect(x?.metadata).not.toHaveProperty('managedFields');
    await until(() => lw.calls.length >= 4);
    await inf.stop();
    expect(inf.getByName('x', 'a')).toBe(x); // caches keyed on the object stay valid
    expect(inf.getByName('y', 'a')?.metadata.resourceVersion).toBe('7');
  });

  it('lean: drops managedFields, keeps every other field and the conditions as they were', () => {
    const conditions = [{ type: 'Ready', status: 'True', reason: 'InUse', message: 'used by VirtualService a/b', lastTransitionTime: '2024-01-01T00:00:00Z', observedGeneration: 2 }];
    const raw = { apiVersion: 'lvs.dev/v1alpha1', kind: 'RealServer', metadata: { name: 'x', namespace: 'a', resourceVersion: '5', labels: { vs: 'b' }, managedFields: [{ manager: 'kubectl' }] }, spec: { address: '10.0.0.1' }, status: { conditions: structuredClone(conditions), healthy: 1 } };
    const out = lean(structuredClone(raw) as unknown as KubeObject);
    const { managedFields: _, ...metadata } = raw.metadata;
    expect(out).toEqual({ ...raw, metadata });
    expect(lean({ metadata: { name: 'y' }, status: { conditions: 'not a list' } } as unknown as KubeObject)).toEqual({ metadata: { name: 'y' }, status: { conditions: 'not a list' } });
  });

  it('backs off exponentially on failures and resumes from the last version', async () => {
    const delays: number[] = [];
    const lw = new Scripted([
      { listError: new Error('connection refused') },
      { listError: new KubeApiError(503, 'ServiceUnavailable', 'etcd down', undefined) },
      { list: { items: [], resourceVersion: '7' } },
      { events: [{ type: 'ADDED', object: obj('x', '8') }], then: new Error('socket hang up') },
    ]);
    const inf = new Informer('t', lw, {
      backoffInitialMs: 100,
      backoffMaxMs: 1000,
      sleep: async (ms) => {
        delays.push(ms);
      },
    });
    inf.start();
    await until(() => lw.calls.length >= 5);
    await inf.stop();
    expect(lw.calls).toEqual(['list', 'list', 'list', 'watch@7', 'watch@8']);
    expect(delays).toHaveLength(3);
    // 100, 200 (+-20% jitter); the successful list resets the count... only after a clean stream end.
    expect(delays[0]).toBeGreaterThanOrEqual(80);
    expect(delays[0]).toBeLessThanOrEqual(120);
    expect(delays[1]).toBeGreaterThanOrEqual(160);
    expect(delays[1]).toBeLessThanOrEqual(240);
    expect(inf.stats.failures).toBe(3);
    expect(inf.getByName('x', 'a')).toBeDefined();
  });

  it('emits periodic resync events once synced', async () => {
    const lw = new Scripted([{ list: { items: [obj('x', '1')], resourceVersion: '1' } }]);
    const inf = new Informer('t', lw, { ...noSleep, resyncMs: 20 });
    const seen = collect(inf);
    inf.start();
    await until(() => seen.filter((s) => s === 'resync').length >= 2);
    await inf.stop();
    expect(seen[0]).toBe('added:x@1');
  });

  it('keeps serving the last store while the API is unreachable', async () => {
    const lw = new Scripted([
      { list: { items: [obj('x', '1')], resourceVersion: '1' } },
      { events: [], then: new Error('ECONNRESET') },
      { events: [], then: new Error('ECONNREFUSED') },
    ]);
    const inf = new Informer('t', lw, noSleep);
    inf.start();
    await until(() => lw.calls.length >= 4);
    expect(inf.hasSynced).toBe(true);
    expect(inf.list()).toHaveLength(1);
    await inf.stop();
  });
});

describe('Informer transform', () => {
  it('shapes every listed and watched object before it is stored or handed out', async () => {
    const withStatus = (name: string, rv: string): KubeObject => ({ ...obj(name, rv), status: { big: 'x'.repeat(100) } } as KubeObject);
    const lw = new Scripted([
      { list: { items: [withStatus('a', '1')], resourceVersion: '1' } },
      { events: [{ type: 'ADDED', object: withStatus('b', '2') }, { type: 'MODIFIED', object: withStatus('a', '3') }], then: 'hang' },
    ]);
    const inf = new Informer<KubeObject>('t', lw, { ...noSleep, transform: (o) => {
      const { status: _, ...rest } = o as KubeObject & { status?: unknown };
      return rest;
    } });
    const seen: unknown[] = [];
    inf.on((ev) => { if (ev.type !== 'resync') seen.push(ev.obj); });
    inf.start();
    await until(() => inf.resourceVersion === '3');
    expect(inf.list().map((o) => [o.metadata.name, 'status' in o])).toEqual([['a', false], ['b', false]]);
    expect(seen.every((o) => !('status' in (o as object)))).toBe(true);
    await inf.stop();
  });
});
