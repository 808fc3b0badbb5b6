// Logging: pino JSON lines, or a readable form on a terminal. Secrets never reach a log.

import pino, { type Logger } from 'pino';
import pretty from 'pino-pretty';

export type { Logger };

/** Paths pino blanks out wherever they appear in a log record. */
export const redactPaths = [
  'token', '*.token', 'password', '*.password', 'secret', '*.secret', 'auth', '*.auth',
  'headers.authorization', '*.headers.authorization', 'req.headers.authorization',
  'headers["x-api-key"]', '*.headers["x-api-key"]',
];

export interface LogOptions {
  level: string;
  pretty: boolean;
  /** Where JSON lines go; default stdout. Tests pass a stream to parse the lines. */
  destination?: NodeJS.WritableStream;
}

export function createLogger(options: LogOptions): Logger {
  const opts = { level: options.level, redact: { paths: redactPaths, censor: '[redacted]' }, base: { name: 'hookwire' } };
  if (options.pretty) {
    return pino(opts, pretty({ colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,name' }));
  }
  return pino(opts, (options.destination ?? pino.destination(1)) as pino.DestinationStream);
}
