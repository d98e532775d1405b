import { once } from 'node:events';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { deadlineSignal, probeSmtp } from '../../../src/health/probes/index.js';
import type { ProbeResult, SmtpProbeSpec } from '../../../src/health/types.js';
import { closedPort } from './servers.js';

// The probe's dialogue on loopback against scripted peers (greetings and replies a real MTA may
// send); a real SMTP server answers it in test/kernel/health/probes.test.ts.
async function probe(port: number, extra: Partial<SmtpProbeSpec> = {}): Promise<ProbeResult> {
  const spec: SmtpProbeSpec = { type: 'smtp', timeoutMs: 1000, helo: 'checker.example', ...extra };
  const d = deadlineSignal(spec.timeoutMs);
  try {
    return await probeSmtp({ address: '127.0.0.1', port }, spec, d.signal);
  } finally {
    d.dispose();
  }
}

interface Script {
  greeting: string;
  /** Reply to a command line, or null to say nothing; 'close' ends the connection. */
  reply(line: string): string | null | 'close';
}

const servers: net.Server[] = [];
afterEach(() => servers.splice(0).forEach((s) => s.close()));

async function server(script: Script): Promise<{ port: number; commands: string[]; ends: Promise<'fin' | 'error'>[] }> {
  const commands: string[] = [];
  const ends: Promise<'fin' | 'error'>[] = [];
  const s = net.createServer((sock) => {
    ends.push(new Promise((r) => {
      sock.on('end', () => r('fin'));
      sock.on('error', () => r('error'));
    }));
    sock.write(script.greeting);
    let buf = '';
    sock.on('data', (d) => {
      buf += d.toString('latin1');
      let nl: number;
      while ((nl = buf.indexOf('\r\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 2);
        commands.push(line);
        const r = script.reply(line);
        if (r === 'close') sock.end();
        else if (r !== null) sock.write(r);
      }
    });
    sock.on('end', () => sock.end());
  });
  servers.push(s);
  s.listen(0, '127.0.0.1');
  await once(s, 'listening');
  return { port: (s.address() as net.AddressInfo).port, commands, ends };
}

const mta = (line: string): string | null | 'close' =>
  line.startsWith('HELO ') ? '250 mx.example\r\n' : line === 'QUIT' ? '221 bye\r\n' : '500 what\r\n';

describe('SMTP probe on loopback', () => {
  it('greeting, HELO, QUIT, then a FIN: the server sees a clean close', async () => {
    const s = await server({ greeting: '220 mx.example ESMTP\r\n', reply: mta });
    expect(await probe(s.port)).toEqual({ ok: true, latencyMs: expect.any(Number) });
    expect(s.commands).toEqual(['HELO checker.example', 'QUIT']);
    expect(await s.ends[0]).toBe('fin');
  });

  it('reads a multi-line 220- greeting before saying HELO', async () => {
    const s = await server({ greeting: '220-mx.example first line\r\n220-second\r\n220 third\r\n', reply: mta });
    expect(await probe(s.port)).toMatchObject({ ok: true });
    expect(s.commands).toEqual(['HELO checker.example', 'QUIT']);
  });

  it('a 554 greeting fails with the code and text, and says nothing', async () => {
    const s = await server({ greeting: '554 mx.example no service for you\r\n', reply: mta });
    expect(await probe(s.port)).toMatchObject({ ok: false, reason: 'greeting 554, want 220: "mx.example no service for you"' });
    expect(s.commands).toEqual([]);
    expect(await s.ends[0]).toBe('fin');
  });

  it('a HELO refused with 4xx/5xx fails with the code', async () => {
    const s = await server({ greeting: '220 mx\r\n', reply: (l) => (l.startsWith('HELO') ? '421 4.3.2 shutting down\r\n' : mta(l)) });
    expect(await probe(s.port)).toMatchObject({ ok: false, reason: 'HELO reply 421, want 250: "4.3.2 shutting down"' });
    expect(s.commands).toEqual(['HELO checker.example']);
  });

  it('accepts any reply to QUIT (as keepalived) but not a close before it', async () => {
    const odd = await server({ greeting: '220 mx\r\n', reply: (l) => (l === 'QUIT' ? '250 fine\r\n' : mta(l)) });
    expect(await probe(odd.port)).toMatchObject({ ok: true });
    const rude = await server({ greeting: '220 mx\r\n', reply: (l) => (l === 'QUIT' ? 'close' : mta(l)) });
    expect(await probe(rude.port)).toMatchObject({ ok: false, reason: 'connection closed before the QUIT reply' });
  });

  it('fails on garbage, a closed port, silence, and a HELO name with a line break', async () => {
    const junk = await server({ greeting: 'SSH-2.0-OpenSSH\r\n', reply: mta });
    expect(await probe(junk.port)).toMatchObject({ ok: false, reason: 'greeting: malformed reply "SSH-2.0-OpenSSH"' });
    expect(await probe(await closedPort())).toMatchObject({ ok: false, reason: 'connect ECONNREFUSED' });
    const mute = await server({ greeting: '', reply: () => null });
    expect(await probe(mute.port, { timeoutMs: 100 })).toMatchObject({ ok: false, reason: 'timeout after 100ms' });
    expect(await probe(mute.port, { helo: 'x\r\nMAIL FROM:<a@b>' })).toMatchObject({ ok: false, reason: 'HELO name contains a line break' });
  });

  it('originates from bindAddress', async () => {
    let peer = '';
    const s = net.createServer((sock) => {
      peer = sock.remoteAddress ?? '';
      sock.destroy();
    });
    servers.push(s);
    s.listen(0, '127.0.0.1');
    await once(s, 'listening');
    await probe((s.address() as net.AddressInfo).port, { bindAddress: '127.0.0.2' });
    expect(peer).toBe('127.0.0.2');
  });
});
