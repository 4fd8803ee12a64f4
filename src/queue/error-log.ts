import type { Logger } from '../logger.js';

/**
 * Return a handler for a BullMQ 'error' event that logs the first error and then at most
 * one per `intervalMs`, with the number left out. While Redis is down, BullMQ emits an
 * error on every reconnect attempt.
 */
export function createErrorLog(logger: Logger, message: string, intervalMs = 60_000): (error: Error) => void {
  let lastLoggedAt = Number.NEGATIVE_INFINITY;
  let suppressed = 0;

  return (error) => {
    const now = Date.now();
    if (now - lastLoggedAt < intervalMs) {
      suppressed += 1;
      return;
    }
    logger.error({ err: error, suppressed }, message);
    lastLoggedAt = now;
    suppressed = 0;
  };
}
