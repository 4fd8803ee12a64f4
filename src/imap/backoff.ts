import type { ClassifiedImapError } from './errors.js';

/** Reconnection delays, in milliseconds. */
export interface BackoffOptions {
  /** Delay after the first failure of a transient kind. */
  initialMs: number;
  /** Ceiling of the doubling delays. */
  maxMs: number;
  /** Delay after a permanent failure (wrong password, untrusted certificate), which only a change of settings clears. */
  permanentMs: number;
}

/** Production delays: 1 s doubling to 5 min, and 5 min after a permanent failure. */
export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 1_000, maxMs: 300_000, permanentMs: 300_000 };

/**
 * Computes the wait before reconnection attempt `failures` (1 after the first
 * failure). Transient failures double from `initialMs` up to `maxMs`, with up to
 * 20% random jitter so that mailboxes on one server do not reconnect in step.
 */
export function computeRetryDelay(failures: number, error: ClassifiedImapError, options: BackoffOptions, random: () => number = Math.random): number {
  if (error.permanent) return options.permanentMs;

  const exponent = Math.max(0, Math.min(failures - 1, 30));
  const base = Math.min(options.maxMs, options.initialMs * 2 ** exponent);
  const jittered = Math.round(base * (1 - 0.2 * random()));
  return Math.max(jittered, error.retryAfterMs ?? 0);
}
