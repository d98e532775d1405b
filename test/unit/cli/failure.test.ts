import { describe, expect, it } from 'vitest';
import { describeFailure } from '../../../src/cli/failure.js';
import { KubeApiError } from '../../../src/kube/index.js';

describe('describeFailure', () => {
  it('shows what the user can act on as one line', () => {
    const forbidden = new KubeApiError(403, 'Forbidden', 'pods is forbidden: User "x" cannot list resource "pods"', {});
    expect(describeFailure(forbidden)).toBe('the API server refused: 403 Forbidden: pods is forbidden: User "x" cannot list resource "pods"');
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6443'), { code: 'ECONNREFUSED' });
    expect(describeFailure(refused)).toBe('connect ECONNREFUSED 127.0.0.1:6443');
    const missing = Object.assign(new Error("ENOENT: no such file or directory, open '/nope/config'"), { code: 'ENOENT' });
    expect(describeFailure(missing)).not.toContain('\n');
  });

  it('keeps the stack of anything else: a bug to report', () => {
    const bug = new TypeError("Cannot read properties of undefined (reading 'x')");
    expect(describeFailure(bug)).toContain('\n    at ');
    expect(describeFailure('plain')).toBe('plain');
  });
});
