import { describe, expect, it } from 'vitest';
import { backendHealth, checkKey, healthChecks, probeSpec, tlsSecrets } from '../../../src/agent/health-config.js';
import type { RealServerSpecInput, VirtualServiceSpecInput } from '../../../src/api/index.js';
import { resolve } from '../../../src/model/index.js';
import { dg, node, rs, snapshot, web } from '../model/fixtures.js';

type Fields = Pick<VirtualServiceSpecInput, 'healthCheck' | 'healthChecks'>;
const model = (vsChecks: Fields['healthCheck'] | Fields, rsCheck?: RealServerSpecInput['healthCheck'], extra: Partial<VirtualServiceSpecInput> = {}) => resolve(snapshot({
  directorGroups: [dg('g1')],
  virtualServices: [web('a', 'web', '10.0.0.1', {
    ...(vsChecks && ('healthCheck' in vsChecks || 'healthChecks' in vsChecks) ? (vsChecks as Fields) : vsChecks ? { healthCheck: vsChecks as Fields['healthCheck'] } : {}),
    ...extra,
  })],
  realServers: [
    rs('a', 'r1', { address: '10.1.0.1', port: 8080 }, { app: 'web' }),
    rs('a', 'r2', { address: '10.1.0.2', ...(rsCheck ? { healthCheck: rsCheck } : {}) }, { app: 'web' }),
  ],
  nodes: [node('d1', { 'lvs.dev/director': 'g1' })],
}));
const r1 = { address: '10.1.0.1', port: 8080 };
const first = (m: ReturnType<typeof model>) => [...healthChecks(m, 'd1').values()][0]!;

describe('healthChecks', () => {
  it('maps a TCP check per real server, seconds to ms, port override (connect_port)', () => {
    const checks = healthChecks(model({ type: 'TCP', port: 81, intervalSeconds: 6, timeoutSeconds: 3, rise: 2, fall: 3 }), 'd1');
    expect(checks.get(checkKey('a/web', r1))).toEqual({
      target: { address: '10.1.0.1', port: 81 }, spec: { type: 'tcp', timeoutMs: 3000 }, intervalMs: 6000, rise: 2, fall: 3, initial: 'down',
    });
  });

  it('checks the real server port, or the service port for RealServers without one', () => {
    const checks = healthChecks(model({ type: 'TCP' }), 'd1');
    expect([...checks.values()].map((c) => c.target.port)).toEqual([8080, 80]);
  });

  it('defaults the check type to the service protocol: TCP connect, UDP, SCTP association', () => {
    expect(first(model(undefined)).spec.type).toBe('tcp');
    expect(first(model(undefined, undefined, { protocol: 'UDP' })).spec.type).toBe('udp');
    expect(first(model(undefined, undefined, { protocol: 'SCTP' })).spec.type).toBe('sctp');
    // A check that names no type follows the protocol too, keeping its other settings.
    expect(first(model({ intervalSeconds: 9 }, undefined, { protocol: 'SCTP' }))).toMatchObject({ spec: { type: 'sctp', timeoutMs: 3000 }, intervalMs: 9000 });
  });

  it('maps HTTP like keepalived HTTP_GET: Host address:port, any 2xx, one URL', () => {
    expect(first(model({ type: 'HTTP' })).spec).toEqual({
      type: 'http', timeoutMs: 3000,
      urls: [{ path: '/', host: '10.1.0.1:8080', expectStatus: [[200, 299]], sni: false }],
    });
  });

  it('maps HTTPS with virtualhost, codes and ranges, digest, regex; SNI only with enableSNI', () => {
    const spec = first(model({ type: 'HTTPS', http: {
      host: 'www.example.test', enableSNI: true,
      urls: [
        { path: '/healthz', expectedStatus: ['200-204', 301, 202], digest: 'ABCDEF0123456789ABCDEF0123456789' },
        { path: '/status', regex: 'up|ok', regexNoMatch: false, host: 'status.example.test:8443' },
      ],
    } })).spec;
    expect(spec).toEqual({
      type: 'https', timeoutMs: 6000, tlsVerify: false, // 3 s per URL
      urls: [
        { path: '/healthz', host: 'www.example.test', expectStatus: [[200, 204], [301, 301]], digest: 'abcdef0123456789abcdef0123456789', sni: 'www.example.test' },
        { path: '/status', host: 'status.example.test:8443', expectStatus: [[200, 299]], regex: /up|ok/, regexNoMatch: false, sni: 'status.example.test' },
      ],
    });
    const noSni = first(model({ type: 'HTTPS', http: { host: 'www.example.test' } })).spec;
    expect(noSni.type === 'https' && noSni.urls?.[0]?.sni).toBe(false);
  });

  it('checks connectAddress (connect_ip) from bindAddress (bindto)', () => {
    const c = first(model({ type: 'HTTP', connectAddress: '192.0.2.0', bindAddress: '10.9.0.1', port: 9000 }));
    expect(c.target).toEqual({ address: '192.0.2.0', port: 9000 });
    expect(c.spec).toMatchObject({ bindAddress: '10.9.0.1', urls: [{ host: '192.0.2.0:9000' }] });
    const v6 = first(model({ connectAddress: '2001:DB8::0001' }));
    expect(v6.target.address).toBe('2001:db8::1'); // canonical, as the model hands every address on
  });

  it('maps DNS, SMTP and Ping with keepalived defaults', () => {
    expect(first(model({ type: 'DNS' }, undefined, { protocol: 'UDP' })).spec).toEqual({ type: 'dns', timeoutMs: 3000, queryName: '.', queryType: 'SOA' });
    expect(first(model({ type: 'DNS', dns: { queryName: 'example.org', queryType: 'A' } })).spec).toMatchObject({ queryName: 'example.org', queryType: 'A' });
    expect(first(model({ type: 'SMTP' })).spec).toEqual({ type: 'smtp', timeoutMs: 3000, helo: 'smtpchecker.keepalived.org' });
    expect(first(model({ type: 'SMTP', smtp: { helo: 'lb.example.org' } })).spec).toMatchObject({ helo: 'lb.example.org' });
    expect(first(model({ type: 'Ping' })).spec).toEqual({ type: 'ping', timeoutMs: 3000 });
  });

  it('maps retryDelaySeconds (delay_before_retry) and warmupSeconds (warmup) to ms, absent when unset', () => {
    expect(first(model({ retryDelaySeconds: 2, warmupSeconds: 0 }))).toMatchObject({ retryDelayMs: 2000, warmupMs: 0 });
    const plain = first(model({}));
    expect('retryDelayMs' in plain || 'warmupMs' in plain).toBe(false);
  });

  it('maps UDP payload/expect, base64 for binary protocols', () => {
    const spec = first(model({ type: 'UDP', udp: { payload: 'AAE=', expect: 'AAI=', encoding: 'Base64' } })).spec;
    expect(spec.type).toBe('udp');
    if (spec.type !== 'udp') return;
    expect(Buffer.from(spec.payload!).toString('hex')).toBe('0001');
    expect(spec.expectReply).toEqual({ kind: 'prefix', bytes: Buffer.from([0, 2]) });
  });

  it('runs one checker target per check; the shorthand is a list of one', () => {
    const m = model({ healthChecks: [{ type: 'TCP' }, { type: 'HTTP', http: { path: '/ready' } }, { type: 'Ping' }] });
    const keys = [...healthChecks(m, 'd1').keys()].filter((k) => k.startsWith('a/web|10.1.0.1|8080|'));
    expect(keys).toEqual([0, 1, 2].map((i) => checkKey('a/web', r1, i)));
    expect([...healthChecks(model({ type: 'TCP' }), 'd1').keys()]).toContain('a/web|10.1.0.1|8080|0');
  });

  it('honours a RealServer override (the whole list), including None', () => {
    const c = healthChecks(model({ healthChecks: [{ type: 'TCP' }, { type: 'Ping' }] }, { type: 'None' }), 'd1');
    expect([...c.keys()]).toEqual([checkKey('a/web', r1, 0), checkKey('a/web', r1, 1)]);
    const m = model({ healthChecks: [{ type: 'TCP' }, { type: 'Ping' }] }, { type: 'HTTP' });
    expect([...healthChecks(m, 'd1').entries()].filter(([k]) => k.startsWith('a/web|10.1.0.2|')).map(([, v]) => v.spec.type)).toEqual(['http']);
  });

  it('starts servers already in the kernel as up, so a restart keeps them in the table', () => {
    const key = checkKey('a/web', r1);
    expect(healthChecks(model({ type: 'TCP' }), 'd1', new Set([key])).get(key)!.initial).toBe('up');
  });

  it('runs no check on a node that does not direct the service', () => {
    expect(healthChecks(model({ type: 'TCP' }), 'elsewhere').size).toBe(0);
  });

  it('hands loaded client certificates to HTTPS checks, and a check whose Secret is missing fails saying why', () => {
    const m = model({ type: 'HTTPS', http: { clientCertificateSecret: 'probe-cert' } });
    expect(tlsSecrets(m, 'd1')).toEqual(new Set(['probe-cert']));
    const spec = (tls: Parameters<typeof healthChecks>[3]) => [...healthChecks(m, 'd1', new Set(), tls).values()][0]!.spec;
    expect(spec(() => ({ cert: 'CERT', key: 'KEY', ca: 'CA' }))).toMatchObject({ clientCert: { cert: 'CERT', key: 'KEY' }, ca: 'CA' });
    expect(spec(() => ({ error: 'client certificate Secret lvs-system/probe-cert not found' }))).toMatchObject({ clientCertError: 'client certificate Secret lvs-system/probe-cert not found' });
    expect(spec(() => undefined)).toMatchObject({ clientCertError: 'client certificate Secret probe-cert not read yet' });
  });
});

describe('backendHealth', () => {
  const m = model({ healthChecks: [{ type: 'TCP' }, { type: 'Ping' }] });
  const b = m.services.get('a/web')!.backends[0]!;
  const lookup = (states: Record<number, boolean | undefined>) => (k: string) => {
    const h = states[Number(k.slice(k.lastIndexOf('|') + 1))];
    return h === undefined ? undefined : { healthy: h };
  };

  it('is up only while every check is up (keepalived: all checkers of a real_server)', () => {
    expect(backendHealth(lookup({ 0: true, 1: true }), 'a/web', b)).toBe(true);
    expect(backendHealth(lookup({ 0: true, 1: false }), 'a/web', b)).toBe(false);
    expect(backendHealth(lookup({ 0: false, 1: undefined }), 'a/web', b)).toBe(false);
    expect(backendHealth(lookup({ 0: true }), 'a/web', b)).toBeUndefined();
  });

  it('is up with no checks at all (type None)', () => {
    const none = model({ type: 'None' }).services.get('a/web')!.backends[0]!;
    expect(none.healthChecks).toEqual([]);
    expect(backendHealth(() => undefined, 'a/web', none)).toBe(true);
  });

  it('probeSpec is exported for single checks too', () => {
    expect(probeSpec(b.healthChecks[1]!, { address: b.address, port: b.port })).toEqual({ type: 'ping', timeoutMs: 3000 });
  });
});
