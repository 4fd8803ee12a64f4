import { pino, type Logger } from 'pino';

export type { Logger } from 'pino';

/**
 * Create the root logger. Secrets and message bodies are never passed to it; the
 * redact list is a second line of defence for fields that may carry them.
 */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'postdesk' },
      redact: {
        paths: ['password', '*.password', 'secret', '*.secret', 'token', '*.token', 'accessToken', '*.accessToken', 'authorization', '*.authorization'],
        censor: '[redacted]',
      },
    },
    destination,
  );
}
