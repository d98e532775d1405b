// The ping probe's socket filter (classic BPF, pure): the kernel queues on a probe's raw socket
// only echo replies with its id, plus the errors that may quote its request (judged in JS), so
// N pings in flight do not each receive all N replies, and others' replies cannot fill the
// socket's buffer before its own arrives.
import { endianness } from 'node:os';
import type { IpFamily } from '../../address/index.js';

const LDX_B_MSH = 0xb1; // X = 4 * (P[k] & 0xf): the IPv4 header length
const LD_B_IND = 0x50;
const LD_H_IND = 0x48;
const LD_B_ABS = 0x30;
const LD_H_ABS = 0x28;
const JEQ_K = 0x15;
const RET_K = 0x06;
const KEEP_ALL = 0x40000;

type Insn = [code: number, jt: number, jf: number, k: number];

/**
 * IPv4 raw sockets see the packet from its IP header on, IPv6 ones from the ICMPv6 header on.
 * Accepted: echo reply (0 / 129) with `id`; destination unreachable (3 / 1) and time exceeded
 * (11 / 3). Everything else is dropped.
 */
export function echoFilterProgram(family: IpFamily, id: number): Insn[] {
  if (family === 'IPv4') {
    return [
      [LDX_B_MSH, 0, 0, 0],
      [LD_B_IND, 0, 0, 0], // ICMP type
      [JEQ_K, 0, 2, 0],
      [LD_H_IND, 0, 0, 4], // echo id
      [JEQ_K, 2, 3, id],
      [JEQ_K, 1, 0, 3],
      [JEQ_K, 0, 1, 11],
      [RET_K, 0, 0, KEEP_ALL],
      [RET_K, 0, 0, 0],
    ];
  }
  return [
    [LD_B_ABS, 0, 0, 0], // ICMPv6 type
    [JEQ_K, 0, 2, 129],
    [LD_H_ABS, 0, 0, 4], // echo id
    [JEQ_K, 2, 3, id],
    [JEQ_K, 1, 0, 1],
    [JEQ_K, 0, 1, 3],
    [RET_K, 0, 0, KEEP_ALL],
    [RET_K, 0, 0, 0],
  ];
}

/** struct sock_filter[]: u16 code, u8 jt, u8 jf, u32 k, in host order. */
export function encodeFilter(program: Insn[]): Buffer {
  const le = endianness() === 'LE';
  const b = Buffer.alloc(program.length * 8);
  program.forEach(([code, jt, jf, k], i) => {
    if (le) b.writeUInt16LE(code, i * 8);
    else b.writeUInt16BE(code, i * 8);
    b[i * 8 + 2] = jt;
    b[i * 8 + 3] = jf;
    if (le) b.writeUInt32LE(k >>> 0, i * 8 + 4);
    else b.writeUInt32BE(k >>> 0, i * 8 + 4);
  });
  return b;
}
