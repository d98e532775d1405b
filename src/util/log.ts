import { pino, type DestinationStream, type Logger } from 'pino';

/** The levels --log-level and LOG_LEVEL accept. */
export const logLevels = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

export function isLogLevel(v: string): v is (typeof logLevels)[number] {
  return (logLevels as readonly string[]).includes(v);
}

/**
 * Levels as words ("warn", not 40): log pipelines and people read them without pino's table.
 * Errors under `err` or `error` keep type, message and stack (JSON.stringify of an Error is `{}`).
 */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  const options = {
    level,
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
    serializers: { err: pino.stdSerializers.err, error: pino.stdSerializers.err },
  };
  return destination ? pino(options, destination) : pino(options);
}

/** One structured JSON logger for every program; components take a child with their own name. */
// A bad LOG_LEVEL must not crash the import: the CLI reports it as a usage error.
export const rootLogger: Logger = createLogger(isLogLevel(process.env.LOG_LEVEL ?? '') ? process.env.LOG_LEVEL! : 'info');

export function logger(component: string): Logger {
  return rootLogger.child({ component });
}
