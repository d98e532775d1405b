import { pino, type Logger } from 'pino';

/** One structured JSON logger for every program; components take a child with their own name. */
export const rootLogger: Logger = pino({
  level: process.env.LOG_LEVEL ?? 'info',
  base: { pid: process.pid },
  timestamp: pino.stdTimeFunctions.isoTime,
});

export function logger(component: string): Logger {
  return rootLogger.child({ component });
}
