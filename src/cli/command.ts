/** One `lvs-operator <name>` subcommand. */
export interface Subcommand {
  name: string;
  /** One line for the command list. */
  summary: string;
  /** Full help text of the subcommand (flags, environment). */
  usage: string;
  /** Runs with the arguments after the subcommand name; resolves with the exit code. */
  run(args: string[]): Promise<number>;
}

/** A bad command line: printed with the usage, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}
