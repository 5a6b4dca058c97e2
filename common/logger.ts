// Structured logs (pino). One root logger from main; each module takes `logger.child({ mod })`.
import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(level: string, pretty = false): Logger {
  return pino({
    level,
    // Never log credentials, even if a caller passes them by mistake.
    redact: { paths: ['password', '*.password', 'secret', '*.secret', 'secretHash', '*.secretHash'], censor: '[redacted]' },
    ...(pretty ? { transport: { target: 'pino-pretty', options: { translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' } } } : {}),
  });
}

export const silentLogger: Logger = pino({ level: 'silent' });
