// One pino logger for the process: JSON lines on stdout, nearly free when a level is off.
import { pino, type Logger } from 'pino';
import type { Config } from './config.js';

export function createLogger(level: Config['logLevel']): Logger {
  return pino({ level, base: { service: 'fleetwatch' }, timestamp: pino.stdTimeFunctions.isoTime });
}
