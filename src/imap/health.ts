import type { ImapErrorKind } from './errors.js';
import type { Mailbox } from './mailbox-store.js';

/** The state of a mailbox poller. */
export type PollerState = 'connecting' | 'connected' | 'retrying' | 'stopped';

/** The health of one mailbox, as the pollers, the logs and the CLI report it. */
export interface MailboxHealth {
  mailboxId: number;
  name: string;
  state: PollerState;
  connected: boolean;
  /** True when the server offers IDLE; otherwise new mail is found by polling. */
  idle: boolean | null;
  lastSuccessAt: Date | null;
  lastError: string | null;
  lastErrorAt: Date | null;
  errorKind: ImapErrorKind | null;
  /** Messages in the folder above the stored position at the last count. */
  backlog: number;
  consecutiveFailures: number;
  nextRetryAt: Date | null;
}

/** Summarises a mailbox's health from its stored row, for a process that runs no poller (the CLI). */
export function describeStoredHealth(row: Mailbox): { status: 'ok' | 'failing' | 'disabled' | 'never connected'; detail: string } {
  if (!row.enabled) return { status: 'disabled', detail: 'not polled' };

  const failing = row.lastErrorAt !== null && (row.lastSuccessAt === null || row.lastErrorAt > row.lastSuccessAt);
  if (failing) return { status: 'failing', detail: `${row.lastError ?? 'unknown error'} (since ${row.lastErrorAt!.toISOString()})` };
  if (row.lastSuccessAt === null) return { status: 'never connected', detail: 'no poll has completed yet' };
  return { status: 'ok', detail: `last success ${row.lastSuccessAt.toISOString()}, backlog ${row.backlog}` };
}
