// Logging: pino JSON lines, or a readable form on a terminal. Secrets never reach a log.

import pino, { type Logger } from 'pino';
import pretty from 'pino-pretty';
import { REDACTED, logPaths } from './redact.ts';

export type { Logger };


export interface LogOptions {
  level: string;
  pretty: boolean;
  /** Where JSON lines go; default stdout. Tests pass a stream to parse the lines. */
  destination?: NodeJS.WritableStream;
}

export function createLogger(options: LogOptions): Logger {
  const opts = { level: options.level, redact: { paths: logPaths, censor: REDACTED }, base: { name: 'hookwire' } };
  if (options.pretty) {
    return pino(opts, pretty({ colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,name' }));
  }
  return pino(opts, (options.destination ?? pino.destination(1)) as pino.DestinationStream);
}
