import { describe, expect, it } from 'vitest';
import { checkKey, healthChecks } from '../../../src/agent/health-config.js';
import type { RealServerSpecInput, VirtualServiceSpecInput } from '../../../src/api/index.js';
import { resolve } from '../../../src/model/index.js';
import { dg, node, rs, snapshot, web } from '../model/fixtures.js';

const model = (hc: VirtualServiceSpecInput['healthCheck'], rsCheck?: RealServerSpecInput['healthCheck']) => resolve(snapshot({
  directorGroups: [dg('g1')],
  virtualServices: [web('a', 'web', '10.0.0.1', { healthCheck: hc })],
  realServers: [
    rs('a', 'r1', { address: '10.1.0.1', port: 8080 }, { app: 'web' }),
    rs('a', 'r2', { address: '10.1.0.2', ...(rsCheck ? { healthCheck: rsCheck } : {}) }, { app: 'web' }),
  ],
  nodes: [node('d1', { 'lvs.dev/director': 'g1' })],
}));

describe('healthChecks', () => {
  it('maps a TCP check per real server, seconds to ms, port override (connect_port)', () => {
    const checks = healthChecks(model({ type: 'TCP', port: 81, intervalSeconds: 6, timeoutSeconds: 3, rise: 2, fall: 3 }), 'd1');
    expect(checks.get(checkKey('a/web', { address: '10.1.0.1', port: 8080 }))).toEqual({
      target: { address: '10.1.0.1', port: 81 }, spec: { type: 'tcp', timeoutMs: 3000 }, intervalMs: 6000, rise: 2, fall: 3, initial: 'down',
    });
  });

  it('checks the real server port, or the service port for RealServers without one', () => {
    const checks = healthChecks(model({ type: 'TCP' }), 'd1');
    expect([...checks.values()].map((c) => c.target.port)).toEqual([8080, 80]);
  });

  it('maps HTTP with host, statuses and digest like keepalived HTTP_GET, and HTTPS without verification', () => {
    const c = healthChecks(model({ type: 'HTTPS', http: { path: '/healthz', expectedStatus: [200, 204], digest: 'ABCDEF0123456789ABCDEF0123456789' } }), 'd1');
    expect([...c.values()][0]!.spec).toEqual({
      type: 'https', timeoutMs: 3000, path: '/healthz', expectStatus: [200, 204], host: '10.1.0.1',
      digest: 'abcdef0123456789abcdef0123456789', tlsVerify: false,
    });
  });

  it('maps UDP payload/expect, base64 for binary protocols', () => {
    const c = healthChecks(model({ type: 'UDP', udp: { payload: 'AAE=', expect: 'AAI=', encoding: 'Base64' } }), 'd1');
    const spec = [...c.values()][0]!.spec;
    expect(spec.type).toBe('udp');
    if (spec.type !== 'udp') return;
    expect(Buffer.from(spec.payload!).toString('hex')).toBe('0001');
    expect(spec.expectReply).toEqual({ kind: 'prefix', bytes: Buffer.from([0, 2]) });
  });

  it('honours a RealServer override, including None', () => {
    const c = healthChecks(model({ type: 'TCP' }, { type: 'None' }), 'd1');
    expect([...c.keys()]).toEqual([checkKey('a/web', { address: '10.1.0.1', port: 8080 })]);
  });

  it('starts servers already in the kernel as up, so a restart keeps them in the table', () => {
    const key = checkKey('a/web', { address: '10.1.0.1', port: 8080 });
    expect(healthChecks(model({ type: 'TCP' }), 'd1', new Set([key])).get(key)!.initial).toBe('up');
  });

  it('runs no check on a node that does not direct the service', () => {
    expect(healthChecks(model({ type: 'TCP' }), 'elsewhere').size).toBe(0);
  });
});
