import { describe, expect, it } from 'vitest';
import { internetChecksum } from '../../../src/vrrp/checksum.js';

describe('internet checksum', () => {
  it('matches the RFC 1071 §3 example', () => {
    // Words 0001 f203 f4f5 f6f7 sum to 0x2ddf0 -> 0xddf2; the checksum is its complement.
    expect(internetChecksum(Buffer.from('0001f203f4f5f6f7', 'hex'))).toBe(0x220d);
  });

  it('is the same however the input is split into chunks, odd ones included', () => {
    const all = Buffer.from('45c0002400010000ff700000c0a80001e0000012ab', 'hex');
    const whole = internetChecksum(all);
    for (let i = 0; i <= all.length; i++) {
      for (let j = i; j <= all.length; j++) {
        expect(internetChecksum(all.subarray(0, i), all.subarray(i, j), all.subarray(j))).toBe(whole);
      }
    }
  });

  it('a message carrying its own checksum sums to zero', () => {
    const m = Buffer.from('4500001c000040004011000001020304050607080000', 'hex');
    m.writeUInt16BE(internetChecksum(m), 10);
    expect(internetChecksum(m)).toBe(0);
  });
});
