// Flag value parsers shared by the subcommands: bad values are usage errors naming the flag.
import { UsageError } from './command.js';
import { parseDuration } from './duration.js';
import { isLogLevel, logLevels } from '../util/log.js';

export function parseBool(name: string, v: string): boolean {
  if (v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  throw new UsageError(`--${name} takes true or false, not ${JSON.stringify(v)}`);
}

export function parsePort(name: string, v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new UsageError(`--${name} takes a port number 0..65535, not ${JSON.stringify(v)}`);
  return n;
}

export function parseLogLevel(name: string, v: string): string {
  if (!isLogLevel(v)) throw new UsageError(`--${name} takes one of ${logLevels.join(', ')}, not ${JSON.stringify(v)}`);
  return v;
}

export function duration(name: string, v: string): number {
  try {
    return parseDuration(v);
  } catch (err) {
    throw new UsageError(`--${name}: ${(err as Error).message}`);
  }
}

/** Resolves when the process gets SIGTERM or SIGINT (the way Kubernetes stops a pod). */
export function untilSignalled(onSignal: (sig: NodeJS.Signals) => void): Promise<void> {
  return new Promise<void>((resolve) => {
    const handler = (sig: NodeJS.Signals): void => {
      process.off('SIGTERM', handler);
      process.off('SIGINT', handler);
      onSignal(sig);
      resolve();
    };
    process.on('SIGTERM', handler);
    process.on('SIGINT', handler);
  });
}
