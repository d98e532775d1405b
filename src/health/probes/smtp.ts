import net from 'node:net';
import type { Probe, SmtpProbeSpec } from '../types.js';
import { describeError } from './abort.js';
import { probeSession } from './session.js';
import { quote, SmtpReplyReader, type SmtpReply } from './smtp-reply.js';
import { closeGracefully } from './tcp.js';

type Step = { awaiting: 'greeting'; want: 220 } | { awaiting: 'HELO reply'; want: 250 } | { awaiting: 'QUIT reply'; want: null };

/**
 * keepalived SMTP_CHECK: connect, read the 220 greeting, `HELO <helo>`, expect 250, `QUIT`, read
 * its reply (any reply, as keepalived), then close with a FIN. A greeting or HELO reply with
 * another code fails with the code and the server's text in the reason.
 */
export const probeSmtp: Probe<SmtpProbeSpec> = (target, spec, signal) =>
  probeSession(signal, (finish) => {
    if (/[\r\n]/.test(spec.helo)) throw new Error('HELO name contains a line break');
    const socket = net.connect({
      host: target.address,
      port: target.port,
      ...(spec.bindAddress ? { localAddress: spec.bindAddress } : {}),
    });
    socket.setNoDelay(true);
    const reader = new SmtpReplyReader();
    let step: Step = { awaiting: 'greeting', want: 220 };
    let done = false;
    const end = (ok: boolean, reason?: string): void => {
      done = true;
      finish(ok, reason);
    };

    const onReply = (reply: SmtpReply): void => {
      if (step.want !== null && reply.code !== step.want) {
        return end(false, `${step.awaiting} ${reply.code}, want ${step.want}: ${quote(reply.lines.join(' '))}`);
      }
      switch (step.awaiting) {
        case 'greeting':
          step = { awaiting: 'HELO reply', want: 250 };
          socket.write(`HELO ${spec.helo}\r\n`);
          return;
        case 'HELO reply':
          step = { awaiting: 'QUIT reply', want: null };
          socket.write('QUIT\r\n');
          return;
        case 'QUIT reply':
          return end(true);
      }
    };
    socket.on('data', (chunk: Buffer) => {
      if (done) return;
      let replies: SmtpReply[];
      try {
        replies = reader.push(chunk);
      } catch (err) {
        return end(false, `${step.awaiting}: ${(err as Error).message}`);
      }
      for (const r of replies) {
        onReply(r);
        if (done) return;
      }
    });
    socket.once('end', () => end(false, `connection closed before the ${step.awaiting}`));
    socket.once('error', (err) => end(false, describeError(err)));
    return () => {
      // Connected: close as keepalived does, with a FIN after reading what is left; else drop it.
      if (socket.connecting) socket.destroy();
      else closeGracefully(socket);
    };
  });
