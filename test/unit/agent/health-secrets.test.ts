import { describe, expect, it } from 'vitest';
import { HealthSecrets, tlsMaterial } from '../../../src/agent/health-secrets.js';
import { logger } from '../../../src/util/log.js';

const b64 = (s: string): string => Buffer.from(s).toString('base64');

describe('tlsMaterial', () => {
  it('reads tls.crt, tls.key and ca.crt of a kubernetes.io/tls Secret', () => {
    expect(tlsMaterial('ns/x', { 'tls.crt': b64('CERT'), 'tls.key': b64('KEY'), 'ca.crt': b64('CA') })).toEqual({ cert: 'CERT', key: 'KEY', ca: 'CA' });
    expect(tlsMaterial('ns/x', { 'tls.crt': b64('CERT'), 'tls.key': b64('KEY') })).toEqual({ cert: 'CERT', key: 'KEY' });
  });

  it('says why when the Secret or its keys are missing', () => {
    expect(tlsMaterial('ns/x', undefined)).toEqual({ error: 'client certificate Secret ns/x not found' });
    expect(tlsMaterial('ns/x', { 'tls.crt': b64('CERT') })).toEqual({ error: 'client certificate Secret ns/x has no tls.crt and tls.key' });
  });
});

describe('HealthSecrets', () => {
  it('reads the named Secrets in its namespace, bumps the version and calls back only on a change', async () => {
    let data: Record<string, string> | undefined = { 'tls.crt': b64('A'), 'tls.key': b64('K') };
    const reads: string[] = [];
    let changes = 0;
    const s = new HealthSecrets({
      read: async (ns, name) => { reads.push(`${ns}/${name}`); return data; },
      namespace: 'lvs-system', log: logger('test'), onChange: () => changes++,
    });
    expect(s.lookup('c')).toBeUndefined(); // not read yet
    await s.update(new Set(['c']));
    expect(s.lookup('c')).toEqual({ cert: 'A', key: 'K' });
    expect([reads, s.version, changes]).toEqual([['lvs-system/c'], 1, 1]);
    await s.update(new Set(['c']));
    expect([s.version, changes]).toEqual([1, 1]); // same content: nothing to rebuild
    data = { 'tls.crt': b64('B'), 'tls.key': b64('K') };
    await s.update(new Set(['c']));
    expect([s.lookup('c'), s.version, changes]).toEqual([{ cert: 'B', key: 'K' }, 2, 2]);
    await s.update(new Set());
    expect(s.lookup('c')).toBeUndefined(); // no check names it any more
  });

  it('keeps what it had when a read fails (an API server away), and reports a first failure', async () => {
    let fail = false;
    const s = new HealthSecrets({
      read: async () => { if (fail) throw new Error('connection refused'); return { 'tls.crt': b64('A'), 'tls.key': b64('K') }; },
      namespace: 'lvs-system', log: logger('test'), onChange: () => undefined,
    });
    await s.update(new Set(['c']));
    fail = true;
    await s.update(new Set(['c', 'd']));
    expect(s.lookup('c')).toEqual({ cert: 'A', key: 'K' });
    expect(s.lookup('d')).toEqual({ error: 'client certificate Secret lvs-system/d not readable' });
  });

  it('without a reader every lookup fails saying so', () => {
    const s = new HealthSecrets({ read: undefined, namespace: 'lvs-system', log: logger('test'), onChange: () => undefined });
    expect(s.lookup('c')).toEqual({ error: 'client certificate Secret c: this agent reads no Secrets' });
  });
});
