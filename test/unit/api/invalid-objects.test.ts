import { describe, expect, it } from 'vitest';
import { parseLvsObject } from '../../../src/api/index.js';
import { invalidObjects, validAddressPool, validDirectorGroup, validRealServer, validVirtualService } from '../../api/invalid-objects.js';

// The same table the API tier sends to a real kube-apiserver: the zod layer must refuse
// every object the API server refuses, so code that parses with zod never accepts what
// admission would have rejected.
describe('zod refuses every object of the admission table', () => {
  it('starts from valid objects', () => {
    for (const obj of [validVirtualService(), validRealServer(), validDirectorGroup(), validAddressPool()]) {
      const r = parseLvsObject(obj);
      expect(r.ok, r.ok ? '' : r.error).toBe(true);
    }
  });

  it('has at least 25 cases with distinct names', () => {
    expect(invalidObjects.length).toBeGreaterThanOrEqual(25);
    expect(new Set(invalidObjects.map((c) => c.name)).size).toBe(invalidObjects.length);
  });

  it.each(invalidObjects.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const r = parseLvsObject(c.object);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toContain(c.zod);
  });
});
