/** Something the importer could not carry over exactly, with the place in the input that caused it. */
export interface Finding {
  file: string;
  line: number;
  /** error: the input or a part of it was not imported; warning: imported with a difference; info: a note. */
  level: 'error' | 'warning' | 'info';
  message: string;
}

export interface Place {
  file: string;
  line: number;
}

/** Collects findings in input order; the translators share one. */
export class Findings {
  readonly list: Finding[] = [];
  error(at: Place, message: string): void {
    this.list.push({ file: at.file, line: at.line, level: 'error', message });
  }
  warn(at: Place, message: string): void {
    this.list.push({ file: at.file, line: at.line, level: 'warning', message });
  }
  info(at: Place, message: string): void {
    this.list.push({ file: at.file, line: at.line, level: 'info', message });
  }
}

/** `file:line: level: message`, the shape compilers use, so editors can jump to it. */
export function formatFinding(f: Finding): string {
  return `${f.file}:${f.line}: ${f.level}: ${f.message}`;
}

/** Input that cannot be read at all (an unterminated block, a missing file): nothing is emitted. */
export class ImportError extends Error {
  override name = 'ImportError';
  constructor(
    readonly at: Place,
    message: string,
  ) {
    super(message);
  }
}
