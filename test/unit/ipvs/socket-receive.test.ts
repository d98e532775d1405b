import { describe, expect, it } from 'vitest';
import { GenlSocket } from '../../../src/ipvs/socket.js';
import { NlDecodeError } from '../../../src/ipvs/codec/nla.js';

// A GenlSocket without its native socket: enough of it to run one exchange and hand it a datagram.
function socketWithoutKernel(): { sock: GenlSocket; receive: (buf: Buffer) => void } {
  const sock = Object.create(GenlSocket.prototype) as GenlSocket;
  const fields = sock as unknown as Record<string, unknown>;
  Object.assign(fields, {
    raw: { ref() {}, unref() {}, send() {}, close() {} },
    chain: Promise.resolve(), closed: false, dead: false, timeoutMs: 30_000, deadline: 0,
  });
  return { sock, receive: (buf) => (fields.receive as (b: Buffer) => void).call(sock, buf) };
}

describe('GenlSocket receive', () => {
  it('fails the exchange on a short NLMSG_ERROR instead of throwing out of the socket handler', async () => {
    const { sock, receive } = socketWithoutKernel();
    const reply = sock.request(Buffer.alloc(0), 1);
    await new Promise((r) => setImmediate(r)); // the exchange starts after the (empty) chain
    // Minimal input: a bare 16-byte header, type NLMSG_ERROR, seq 1, no error payload.
    const short = Buffer.from('10000000' + '0200' + '0000' + '01000000' + '00000000', 'hex');
    expect(() => receive(short)).not.toThrow();
    await expect(reply).rejects.toBeInstanceOf(NlDecodeError);
    sock.close();
  });
});
