// SMTP replies (RFC 5321 4.2), pure: bytes from the server in, whole replies out. A reply is one or
// more lines `NNN-text` ending with `NNN text` (or a bare `NNN`), all with the same code.

export interface SmtpReply {
  code: number;
  /** The text of every line, without code, separator and line end. */
  lines: string[];
}

/** RFC 5321 4.5.3.1.5 allows 512 bytes a line; servers send more, so this is generous. */
const MAX_LINE = 4096;
const MAX_LINES = 100;
const LINE = /^(\d{3})(?:([ -])(.*))?$/s;

/**
 * Feeds bytes as they arrive; `push` returns the replies completed by them, in order, or throws
 * with a short reason on a malformed reply. A line ends at LF (CRLF or a bare LF, as keepalived
 * reads it).
 */
export class SmtpReplyReader {
  private pending = '';
  private lines: string[] = [];
  private code: number | undefined;

  push(chunk: Buffer): SmtpReply[] {
    this.pending += chunk.toString('latin1');
    const out: SmtpReply[] = [];
    let nl: number;
    while ((nl = this.pending.indexOf('\n')) >= 0) {
      const line = this.pending.slice(0, nl).replace(/\r$/, '');
      this.pending = this.pending.slice(nl + 1);
      const reply = this.line(line);
      if (reply) out.push(reply);
    }
    if (this.pending.length > MAX_LINE) throw new Error(`reply line over ${MAX_LINE} bytes`);
    return out;
  }

  private line(line: string): SmtpReply | undefined {
    const m = LINE.exec(line);
    if (!m) throw new Error(`malformed reply ${quote(line)}`);
    const code = Number(m[1]);
    if (this.code !== undefined && code !== this.code) throw new Error(`reply code changed from ${this.code} to ${code} within a reply`);
    this.lines.push(m[3] ?? '');
    if (m[2] === '-') {
      if (this.lines.length >= MAX_LINES) throw new Error(`reply over ${MAX_LINES} lines`);
      this.code = code;
      return undefined;
    }
    const reply = { code, lines: this.lines };
    this.lines = [];
    this.code = undefined;
    return reply;
  }
}

/** Printable, bounded text of a server line for a failure reason. */
export function quote(text: string, max = 80): string {
  const clean = text.replace(/[^\x20-\x7e]/g, '?');
  return JSON.stringify(clean.length > max ? `${clean.slice(0, max)}...` : clean);
}
