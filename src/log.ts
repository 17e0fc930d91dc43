import { pino, type Logger } from 'pino';

export type { Logger };

/** JSON lines on stdout. Request bodies, cookies and tokens are never passed to the logger. */
export function createLogger(level: string): Logger {
  return pino({ level, base: undefined, redact: ['req.headers.authorization', 'req.headers.cookie'] });
}
