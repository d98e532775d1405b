import { describe, expect, it } from 'vitest';
import { echoFilterProgram, encodeFilter } from '../../../src/health/probes/echo-filter.js';
import { encodeEchoRequest, internetChecksum, type EchoId } from '../../../src/health/probes/icmp-echo.js';

// The filter's logic, run by a classic BPF interpreter of just the instructions it uses; the
// kernel runs the same bytes in test/kernel/health/probes.test.ts (each socket gets only its reply).
type Insn = ReturnType<typeof echoFilterProgram>[number];
function runFilter(program: Insn[], p: Buffer): number {
  let a = 0;
  let x = 0;
  for (let pc = 0; pc < program.length; pc++) {
    const [code, jt, jf, k] = program[pc]!;
    const byte = (at: number): number => (at < p.length ? p[at]! : -1);
    const half = (at: number): number => (at + 1 < p.length ? p.readUInt16BE(at) : -1);
    switch (code) {
      case 0xb1: x = 4 * (byte(k) & 0xf); break;
      case 0x50: a = byte(x + k); break;
      case 0x48: a = half(x + k); break;
      case 0x30: a = byte(k); break;
      case 0x28: a = half(k); break;
      case 0x15: pc += a === k ? jt : jf; break;
      case 0x06: return k;
      default: throw new Error(`opcode ${code} not interpreted`);
    }
    if (a === -1) return 0; // the kernel drops a packet a load runs past
  }
  throw new Error('fell off the end');
}

const echo: EchoId = { id: 0xabcd, seq: 7, payload: Buffer.alloc(8, 1) };
const ipv4 = (body: Buffer, ihl = 5): Buffer => Buffer.concat([Buffer.from([0x40 | ihl, ...Buffer.alloc(ihl * 4 - 1)]), body]);
function asReply(req: Buffer, type: number): Buffer {
  const r = Buffer.from(req);
  r[0] = type;
  r.writeUInt16BE(0, 2);
  r.writeUInt16BE(internetChecksum(r), 2);
  return r;
}

describe('ping socket filter', () => {
  it('IPv4: keeps echo replies with our id behind any header length, and the errors; drops the rest', () => {
    const prog = echoFilterProgram('IPv4', echo.id);
    const keep = (p: Buffer): boolean => runFilter(prog, p) > 0;
    expect(keep(ipv4(asReply(encodeEchoRequest('IPv4', echo), 0)))).toBe(true);
    expect(keep(ipv4(asReply(encodeEchoRequest('IPv4', echo), 0), 7))).toBe(true);
    expect(keep(ipv4(asReply(encodeEchoRequest('IPv4', { ...echo, id: 0xabce }), 0)))).toBe(false);
    expect(keep(ipv4(encodeEchoRequest('IPv4', echo)))).toBe(false); // a request (type 8)
    expect(keep(ipv4(Buffer.from([3, 1, 0, 0, 0, 0, 0, 0])))).toBe(true);
    expect(keep(ipv4(Buffer.from([11, 0, 0, 0, 0, 0, 0, 0])))).toBe(true);
    expect(keep(ipv4(Buffer.from([5, 0, 0, 0, 0, 0, 0, 0])))).toBe(false); // redirect
    expect(keep(ipv4(Buffer.from([0, 0, 0])))).toBe(false); // too short for an id
  });

  it('IPv6: the same from the ICMPv6 header on', () => {
    const prog = echoFilterProgram('IPv6', echo.id);
    const keep = (p: Buffer): boolean => runFilter(prog, p) > 0;
    expect(keep(asReply(encodeEchoRequest('IPv6', echo), 129))).toBe(true);
    expect(keep(asReply(encodeEchoRequest('IPv6', { ...echo, id: 1 }), 129))).toBe(false);
    expect(keep(encodeEchoRequest('IPv6', echo))).toBe(false);
    expect(keep(Buffer.from([1, 4, 0, 0, 0, 0, 0, 0]))).toBe(true);
    expect(keep(Buffer.from([3, 0, 0, 0, 0, 0, 0, 0]))).toBe(true);
    expect(keep(Buffer.from([135, 0, 0, 0, 0, 0, 0, 0]))).toBe(false); // neighbour solicitation
  });

  it('every jump lands inside the program and every path ends in a return', () => {
    for (const family of ['IPv4', 'IPv6'] as const) {
      const prog = echoFilterProgram(family, 1);
      prog.forEach(([code, jt, jf], pc) => {
        if (code === 0x15) {
          expect(pc + 1 + jt).toBeLessThan(prog.length);
          expect(pc + 1 + jf).toBeLessThan(prog.length);
        }
      });
      expect(prog.at(-1)![0]).toBe(0x06);
    }
  });

  it('encodes struct sock_filter: u16 code, u8 jt, u8 jf, u32 k in host order', () => {
    const b = encodeFilter([[0x15, 2, 3, 0xabcd]]);
    expect(b.toString('hex')).toBe('1500' + '02' + '03' + 'cdab0000'); // little-endian host
  });
});
