import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/util/log.js';

function lines(): { stream: Writable; read: () => Array<Record<string, unknown>> } {
  let text = '';
  const stream = new Writable({ write(chunk, _enc, done) { text += String(chunk); done(); } });
  return { stream, read: () => text.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>) };
}

describe('log lines', () => {
  it('carry the level as a word, as log pipelines and humans read it', () => {
    const out = lines();
    createLogger('debug', out.stream).child({ component: 'x' }).warn('careful');
    expect(out.read()[0]).toMatchObject({ level: 'warn', component: 'x', msg: 'careful' });
  });

  it('serialize errors with type, message and stack under err and error', () => {
    const out = lines();
    const log = createLogger('info', out.stream);
    log.error({ err: new TypeError('boom') }, 'failed');
    log.warn({ error: new RangeError('bang') }, 'failed too');
    const [a, b] = out.read();
    expect(a?.err).toMatchObject({ type: 'TypeError', message: 'boom', stack: expect.stringContaining('log.test.ts') });
    expect(b?.error).toMatchObject({ type: 'RangeError', message: 'bang', stack: expect.stringContaining('log.test.ts') });
  });
});
