import { describe, expect, it } from 'vitest';
import { encodeEchoRequest, icmpErrorText, internetChecksum, judgeEchoPacket, type EchoId } from '../../../src/health/probes/icmp-echo.js';
import { icmp6Filter } from '../../../src/health/probes/ping.js';

const echo: EchoId = { id: 0x1234, seq: 0x0102, payload: Buffer.from('0123456789abcdef') };

/** A minimal IPv4 header of `ihl` words around `body`. */
function ipv4(body: Buffer, ihl = 5): Buffer {
  const h = Buffer.alloc(ihl * 4);
  h[0] = 0x40 | ihl;
  h[9] = 1;
  return Buffer.concat([h, body]);
}
/** An echo reply made from a request the way a host does: type changed, checksum redone. */
function replyTo(req: Buffer, type: number): Buffer {
  const r = Buffer.from(req);
  r[0] = type;
  r.writeUInt16BE(0, 2);
  r.writeUInt16BE(internetChecksum(r), 2);
  return r;
}

describe('ICMP echo codec', () => {
  it('computes the RFC 1071 checksum (a packet with its checksum sums to 0)', () => {
    const req = encodeEchoRequest('IPv4', echo);
    expect(internetChecksum(req)).toBe(0);
    expect(internetChecksum(Buffer.from([0x00, 0x01, 0xf2]))).toBe(~(0x0001 + 0xf200) & 0xffff);
  });

  it('encodes type, id, sequence and payload; leaves the ICMPv6 checksum to the kernel', () => {
    const v4 = encodeEchoRequest('IPv4', echo);
    expect([v4[0], v4[1], v4.readUInt16BE(4), v4.readUInt16BE(6)]).toEqual([8, 0, 0x1234, 0x0102]);
    expect(v4.subarray(8)).toEqual(echo.payload);
    const v6 = encodeEchoRequest('IPv6', echo);
    expect([v6[0], v6.readUInt16BE(2)]).toEqual([128, 0]);
  });

  it('takes our echo reply from the target, behind any IPv4 header length', () => {
    const rep = replyTo(encodeEchoRequest('IPv4', echo), 0);
    expect(judgeEchoPacket('IPv4', ipv4(rep), echo, true)).toEqual({ kind: 'reply' });
    expect(judgeEchoPacket('IPv4', ipv4(rep, 6), echo, true)).toEqual({ kind: 'reply' });
    expect(judgeEchoPacket('IPv6', replyTo(encodeEchoRequest('IPv6', echo), 129), echo, true)).toEqual({ kind: 'reply' });
  });

  it('ignores replies of other pings: another id, sequence, payload or source; requests', () => {
    const other = (o: Partial<EchoId>): Buffer => ipv4(replyTo(encodeEchoRequest('IPv4', { ...echo, ...o }), 0));
    expect(judgeEchoPacket('IPv4', other({ id: 0x1235 }), echo, true)).toEqual({ kind: 'other' });
    expect(judgeEchoPacket('IPv4', other({ seq: 0x0103 }), echo, true)).toEqual({ kind: 'other' });
    expect(judgeEchoPacket('IPv4', other({ payload: Buffer.from('0123456789abcdeF') }), echo, true)).toEqual({ kind: 'other' });
    expect(judgeEchoPacket('IPv4', other({}), echo, false)).toEqual({ kind: 'other' });
    expect(judgeEchoPacket('IPv4', ipv4(encodeEchoRequest('IPv4', echo)), echo, true)).toEqual({ kind: 'other' });
  });

  it('reports an unreachable or time exceeded that quotes our request, from anywhere', () => {
    const quoted = ipv4(encodeEchoRequest('IPv4', echo)).subarray(0, 28);
    const err = Buffer.concat([Buffer.from([3, 1, 0, 0, 0, 0, 0, 0]), quoted]);
    expect(judgeEchoPacket('IPv4', ipv4(err), echo, false)).toEqual({ kind: 'error', type: 3, code: 1 });
    const notOurs = Buffer.concat([Buffer.from([3, 1, 0, 0, 0, 0, 0, 0]), ipv4(encodeEchoRequest('IPv4', { ...echo, id: 1 })).subarray(0, 28)]);
    expect(judgeEchoPacket('IPv4', ipv4(notOurs), echo, false)).toEqual({ kind: 'other' });
    const ip6 = Buffer.alloc(40);
    const err6 = Buffer.concat([Buffer.from([1, 3, 0, 0, 0, 0, 0, 0]), ip6, encodeEchoRequest('IPv6', echo)]);
    expect(judgeEchoPacket('IPv6', err6, echo, false)).toEqual({ kind: 'error', type: 1, code: 3 });
    expect(icmpErrorText('IPv4', 3, 1)).toBe('destination unreachable (ICMP type 3 code 1)');
    expect(icmpErrorText('IPv6', 3, 0)).toBe('time exceeded (ICMPv6 type 3 code 0)');
  });

  it('survives malformed packets', () => {
    for (const p of [Buffer.alloc(0), Buffer.alloc(19), Buffer.from([0x4f, ...Buffer.alloc(30)]), Buffer.from([0x60, ...Buffer.alloc(30)])]) {
      expect(judgeEchoPacket('IPv4', p, echo, true)).toEqual({ kind: 'other' });
    }
    expect(judgeEchoPacket('IPv6', Buffer.from([129, 0, 0]), echo, true)).toEqual({ kind: 'other' });
    expect(judgeEchoPacket('IPv6', Buffer.from([1, 0, 0, 0, 0, 0, 0, 0, 1]), echo, true)).toEqual({ kind: 'other' });
  });

  it('ICMPv6 filter passes exactly the listed types', () => {
    const f = icmp6Filter([129, 1, 3]);
    const blocked = (t: number): boolean => ((f.readUInt32LE((t >> 5) * 4) >>> (t & 31)) & 1) === 1;
    expect([...Array(256).keys()].filter((t) => !blocked(t))).toEqual([1, 3, 129]);
  });
});
