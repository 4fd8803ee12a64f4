import type { PrismaClient } from '../../db/client.js';
import type { OutboundMessage } from '../../db/generated/client.js';
import { ChangeRunner, type ChangeContext } from '../../tasks/change.js';
import { recordChange } from '../../tasks/history.js';
import type { SendFailure } from './classify-send-error.js';
import type { ExceededCap } from './loop-brakes.js';

/** Statuses from which a row may still be sent. */
const OPEN_STATUSES: OutboundMessage['status'][] = ['pending', 'queued'];

// Every write here runs in a transaction: with the better-sqlite3 adapter a bare
// statement joins whatever transaction is open on the connection (see OutboxWriter).

/** Count a failed attempt that will be retried, and keep its reason. */
export async function markRetry(prisma: PrismaClient, row: OutboundMessage, reason: string): Promise<void> {
  await prisma.$transaction((tx) =>
    tx.outboundMessage.updateMany({ where: { id: row.id, status: { in: OPEN_STATUSES } }, data: { lastError: reason, attempts: { increment: 1 }, status: 'queued' } }),
  );
}

/**
 * Hold the row because a send limit was reached, and record 'mail-held' on its task.
 * Returns false when the row was no longer open (another run closed it first).
 */
export async function markHeld(prisma: PrismaClient, row: OutboundMessage, exceeded: ExceededCap): Promise<boolean> {
  return prisma.$transaction(async (tx) => {
    const held = await tx.outboundMessage.updateMany({
      where: { id: row.id, status: { in: OPEN_STATUSES } },
      data: { status: 'held', lastError: exceeded.description },
    });
    if (held.count === 0) return false;

    if (row.taskId !== null) {
      await tx.taskEvent.create({
        data: {
          taskId: row.taskId,
          kind: 'mail-held',
          toValue: row.toAddress,
          channel: 'system',
          details: JSON.stringify({ outboundId: row.id, cap: exceeded.cap, limit: exceeded.limit, sent: exceeded.sent, reason: exceeded.description }),
        },
      });
    }
    return true;
  });
}

/**
 * Record a delivery that failed for good: status failed and the reason, and 'mail-failed'
 * with the address and the server's reply in the task's history. A recipient refused at
 * RCPT TO also marks the user's address as failing, as a bounce does.
 *
 * With a ChangeRunner the history entry also emits `delivery.failed`, so the notification
 * rules can tell the assignee. A failed `delivery.failed` mail emits nothing, so that a
 * broken address cannot feed a chain of failure notices.
 */
export async function markFailed(target: PrismaClient | ChangeRunner, row: OutboundMessage, failure: SendFailure | null, reason: string, now: Date): Promise<void> {
  const write = async (context: ChangeContext) => {
    // A render failure made no attempt; a send failure did.
    const attempts = failure === null ? {} : { attempts: { increment: 1 } };
    await context.tx.outboundMessage.update({ where: { id: row.id }, data: { status: 'failed', lastError: reason, ...attempts } });

    const recipientRefused = failure?.kind === 'permanent' && failure.command?.toUpperCase().startsWith('RCPT') === true;
    if (recipientRefused && row.recipientId !== null) {
      await context.tx.user.updateMany({ where: { id: row.recipientId, emailFailingSince: null }, data: { emailFailingSince: now } });
    }

    if (row.taskId === null) return;
    const details = {
      outboundId: row.id,
      messageId: row.messageId,
      permanent: failure?.kind === 'permanent',
      responseCode: failure?.responseCode ?? null,
      response: failure?.response ?? null,
      reason,
    };
    const event = row.event === 'delivery.failed' ? undefined : { name: 'delivery.failed' as const, data: { outboundId: row.id } };
    await recordChange(context, row.taskId, { kind: 'mail-failed', to: row.toAddress, details }, event);
  };

  if (target instanceof ChangeRunner) {
    await target.run(null, 'system', write);
    return;
  }
  // Without a runner no sink receives events, so the context only carries the transaction.
  await target.$transaction((tx) => write({ tx, actor: null, channel: 'system', notify: false, events: [] }));
}
