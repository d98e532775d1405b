import { describe, expect, it } from 'vitest';
import { quote, SmtpReplyReader } from '../../../src/health/probes/smtp-reply.js';

const b = (s: string): Buffer => Buffer.from(s, 'latin1');

describe('SMTP reply reader', () => {
  it('reads single-line replies ended by CRLF or a bare LF', () => {
    const r = new SmtpReplyReader();
    expect(r.push(b('220 mx.example ESMTP\r\n250 ok\n'))).toEqual([
      { code: 220, lines: ['mx.example ESMTP'] },
      { code: 250, lines: ['ok'] },
    ]);
  });

  it('joins multi-line replies and accepts a bare code as the last line', () => {
    const r = new SmtpReplyReader();
    expect(r.push(b('220-first\r\n220-second\r\n220\r\n'))).toEqual([{ code: 220, lines: ['first', 'second', ''] }]);
  });

  it('waits for the end of a reply across chunks, byte by byte', () => {
    const r = new SmtpReplyReader();
    const text = '220-a\r\n220 b\r\n';
    const out = [...text].flatMap((ch) => r.push(b(ch)));
    expect(out).toEqual([{ code: 220, lines: ['a', 'b'] }]);
  });

  it('throws on a malformed line, a code change inside a reply, an endless line', () => {
    expect(() => new SmtpReplyReader().push(b('hello\r\n'))).toThrow('malformed reply "hello"');
    expect(() => new SmtpReplyReader().push(b('22 x\r\n'))).toThrow(/malformed/);
    expect(() => new SmtpReplyReader().push(b('220x\r\n'))).toThrow(/malformed/);
    expect(() => new SmtpReplyReader().push(b('220-a\r\n250 b\r\n'))).toThrow('reply code changed from 220 to 250 within a reply');
    expect(() => new SmtpReplyReader().push(b('2'.repeat(5000)))).toThrow(/over 4096 bytes/);
    expect(() => new SmtpReplyReader().push(b('220-x\r\n'.repeat(101)))).toThrow(/over 100 lines/);
  });

  it('quotes server text printable and bounded', () => {
    expect(quote('a\x00b')).toBe('"a?b"');
    expect(quote('y'.repeat(100), 10)).toBe(`"${'y'.repeat(10)}..."`);
  });
});
