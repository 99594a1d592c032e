/**
 * Structured JSON logs via pino. Asynchronous destination: a log line must not cost a syscall on the hot
 * path. Anything that could carry a secret (authorization headers, api keys) is redacted by path as a
 * second line of defence; the first is never logging headers or bodies at all.
 */
import pino, { type Logger } from 'pino';

export function createLogger(level: string, destination: pino.DestinationStream | number = 1): Logger {
  const dest = typeof destination === 'number' ? pino.destination({ dest: destination, sync: false }) : destination;
  const logger = pino(
    {
      level,
      base: { service: 'gatehouse' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: {
        paths: ['req.headers.authorization', 'req.headers["x-api-key"]', 'headers.authorization', 'headers["x-api-key"]', 'apiKey', 'secret', '*.apiKey', '*.secret'],
        censor: '[redacted]',
      },
      formatters: { level: (label) => ({ level: label }) },
    },
    dest,
  );
  return logger;
}
