import type { User } from '../../db/generated/client.js';
import type { Db } from '../../db/client.js';
import type { EventFacts } from './facts.js';

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Find why a query must not be acknowledged, or null when it may be. Automatic mail
 * never gets an acknowledgement, so two autoresponders cannot reply to each other
 * forever, and one sender gets at most `maxPerDay` in 24 hours, counted from the outbox.
 */
export async function findAcknowledgementBlock(db: Db, facts: EventFacts, recipient: User, maxPerDay: number, now: Date): Promise<{ reason: 'automatic-query' | 'acknowledgement-limit'; detail: string } | null> {
  const automatic = await findAutomaticQuery(db, facts);
  if (automatic) return { reason: 'automatic-query', detail: automatic };

  const sent = await db.outboundMessage.count({
    where: { template: 'acknowledgement', toAddress: recipient.email, createdAt: { gte: new Date(now.getTime() - DAY_MS) } },
  });
  if (sent >= maxPerDay) return { reason: 'acknowledgement-limit', detail: `${sent} acknowledgements to this address in the last 24 hours (limit ${maxPerDay})` };
  return null;
}

/**
 * Check the query's comment and journal entry for automatic mail. The inbound pipeline
 * emits task.created only for person-written mail, and this second check keeps any
 * later path from slipping through.
 */
async function findAutomaticQuery(db: Db, facts: EventFacts): Promise<string | null> {
  const commentId = facts.event.data['commentId'];
  if (typeof commentId !== 'number') return null;

  const comment = await db.comment.findUnique({ where: { id: commentId }, include: { inboundMessage: { select: { kind: true } } } });
  if (!comment) return null;
  if (comment.automatic) return 'the query is an automatic reply';
  const kind = comment.inboundMessage?.kind;
  if (kind && kind !== 'normal') return `the query is automatic mail (${kind})`;
  return null;
}
