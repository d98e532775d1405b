// Readable progress for the demos: numbered steps, ok/FAIL checks, a verdict line at the end.
const color = process.env.FORCE_COLOR === '1' || (process.stdout.isTTY && !process.env.NO_COLOR);
const paint = (code: number, s: string): string => (color ? `\u001b[${code}m${s}\u001b[0m` : s);

export class Report {
  private readonly checks: { what: string; ok: boolean }[] = [];

  step(text: string): void {
    console.log(`\n${paint(1, '==>')} ${text}`);
  }

  info(text: string): void {
    console.log(`    ${text}`);
  }

  check(what: string, ok: boolean, detail = ''): boolean {
    this.checks.push({ what, ok });
    console.log(`    ${ok ? paint(32, 'ok  ') : paint(31, 'FAIL')} ${what}${detail ? ` (${detail})` : ''}`);
    return ok;
  }

  fail(what: string): void {
    this.check(what, false);
  }

  get passed(): boolean {
    return this.checks.length > 0 && this.checks.every((c) => c.ok);
  }

  /** The last line: `demo: PASS (n of n checks passed)`. */
  verdict(name = 'demo'): string {
    const failed = this.checks.filter((c) => !c.ok).length;
    return `${name}: ${this.passed ? 'PASS' : 'FAIL'} (${this.checks.length - failed} of ${this.checks.length} checks passed)`;
  }
}

export const spread = (t: Record<string, number>): string => Object.entries(t).sort().map(([k, v]) => `${k}=${v}`).join(' ');
