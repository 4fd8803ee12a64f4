import { randomUUID } from 'node:crypto';
import type { Config } from '../config/index.js';
import type { Prisma, Tx } from '../db/client.js';
import type { Logger } from '../logger.js';
import type { DomainEvent, EventSink } from '../tasks/events.js';
import { buildEventContent, personalizePayload } from './payload.js';
import { planNotifications, type NotificationPlan, type PlanSettings, type SkipReason } from './rules/plan.js';
import { loadEnabledRules, type InvalidRuleError } from './rules/store.js';
import type { StoredRule } from './rules/types.js';

/** Dependencies of the outbox sink; `enqueue` queues delivery jobs for committed rows. */
export interface OutboxSinkDeps {
  config: Config;
  logger: Logger;
  enqueue: (ids: string[]) => Promise<void> | void;
  /** Clock for the acknowledgement limit; tests pass a fixed one. */
  now?: () => Date;
}

/** Skips worth a line in the task's history: someone expected mail and got none. */
const RECORDED_SKIPS: ReadonlySet<SkipReason> = new Set(['address-failing', 'acknowledgement-limit', 'automatic-query']);

/** Most Message-IDs in a References header: the first of the thread and the latest ones. */
const MAX_REFERENCES = 10;

/** Position of a mail in its task's thread. */
interface ThreadPosition {
  inReplyTo: string | null;
  references: string[];
}

/**
 * Create the EventSink that turns domain events into OutboundMessage rows, written in
 * the same transaction as the change so that a rollback leaves no mail and a commit
 * cannot lose one. After the commit it hands the new row ids to `enqueue`; rows it
 * could not queue stay pending for the start-up sweep.
 */
export function createOutboxSink(deps: OutboxSinkDeps): EventSink {
  const log = deps.logger.child({ component: 'outbox' });
  // Keyed by the event objects, so the entries of a rolled-back change are collected with it.
  const written = new WeakMap<DomainEvent, string[]>();
  const reportedInvalid = new Set<string>();

  const reportInvalid = (error: InvalidRuleError) => {
    if (reportedInvalid.has(error.ruleName)) return;
    reportedInvalid.add(error.ruleName);
    log.error({ err: error, rule: error.ruleName }, 'notification rule is invalid and is skipped');
  };

  return {
    async inTransaction(tx, events) {
      const groups = groupEvents(events.filter((event) => event.notify));
      if (groups.length === 0) return;
      const rules = await loadEnabledRules(tx, reportInvalid);
      if (rules.length === 0) return;

      // Message-IDs written by this change, so that no mail replies to another mail of the same change.
      const writtenMessageIds = new Set<string>();
      for (const group of groups) {
        const ids = await writeGroup(tx, group, rules, writtenMessageIds, deps, log);
        if (ids.length > 0) written.set(group[0]!, ids);
      }
    },

    async afterCommit(events) {
      const ids = events.flatMap((event) => written.get(event) ?? []);
      if (ids.length === 0) return;
      await deps.enqueue(ids);
    },
  };
}

/**
 * Group events so that each group becomes one mail per person. The failed commands of
 * one message, which arrive as one event each, make one reply.
 */
function groupEvents(events: readonly DomainEvent[]): DomainEvent[][] {
  const groups: DomainEvent[][] = [];
  const failedCommands = new Map<string, DomainEvent[]>();

  for (const event of events) {
    if (event.name !== 'command.failed') {
      groups.push([event]);
      continue;
    }
    const key = `${event.taskId}:${String(event.data['recipientId'] ?? event.actorId)}`;
    const group = failedCommands.get(key);
    if (group) group.push(event);
    else {
      const created = [event];
      failedCommands.set(key, created);
      groups.push(created);
    }
  }
  return groups;
}

async function writeGroup(tx: Tx, group: DomainEvent[], rules: StoredRule[], writtenMessageIds: Set<string>, deps: OutboxSinkDeps, log: Logger): Promise<string[]> {
  const event = group[0]!;
  const settings: PlanSettings = {
    maxAcknowledgementsPerSenderPerDay: deps.config.outbound.maxAcknowledgementsPerSenderPerDay,
    helpdeskAddresses: deps.config.mail.addresses,
    catchAllDomains: deps.config.mail.catchAllDomains,
    now: deps.now?.() ?? new Date(),
  };
  const plan = await planNotifications(tx, event, rules, settings);
  await recordSkips(tx, event, plan, log);
  if (!plan.facts || plan.deliveries.length === 0) return [];

  const content = await buildEventContent(tx, plan.facts, group);
  const ids: string[] = [];
  for (const delivery of plan.deliveries) {
    const thread = await loadThreadPosition(tx, event.taskId, delivery.user.id, writtenMessageIds);
    const id = randomUUID();
    const messageId = `${id}@${deps.config.mail.domain}`;
    await tx.outboundMessage.create({
      data: {
        id,
        taskId: event.taskId,
        recipientId: delivery.user.id,
        toAddress: delivery.user.email,
        reason: delivery.rules.join(', '),
        event: event.name,
        template: delivery.template,
        payload: JSON.stringify(personalizePayload(content, delivery, thread.references)),
        dedupeKey: `${event.id}:${delivery.user.id}`,
        messageId,
        inReplyTo: thread.inReplyTo,
      },
    });
    await tx.threadMessage.create({ data: { messageId, taskId: event.taskId, outbound: true } });
    writtenMessageIds.add(messageId);
    ids.push(id);
  }

  log.debug({ taskId: event.taskId, event: event.name, eventId: event.id, outboundIds: ids }, 'notifications written to outbox');
  return ids;
}

async function recordSkips(tx: Tx, event: DomainEvent, plan: NotificationPlan, log: Logger): Promise<void> {
  for (const skip of plan.skipped) {
    if (!RECORDED_SKIPS.has(skip.reason)) continue;

    log.info({ taskId: event.taskId, event: event.name, userId: skip.user.id, reason: skip.reason }, 'notification skipped');
    await tx.taskEvent.create({
      data: {
        taskId: event.taskId,
        actorId: null,
        kind: 'mail-skipped',
        toValue: skip.user.email,
        channel: 'system',
        details: JSON.stringify({ event: event.name, reason: skip.reason, detail: skip.detail, rules: skip.rules }),
      },
    });
  }
}

/**
 * Find the thread position of a mail to `recipientId`, counting only messages that
 * person has: the mail people sent to the task, and the mail sent to them. In-Reply-To
 * is the latest of these, and References are the first and the latest ones.
 */
async function loadThreadPosition(tx: Tx, taskId: number, recipientId: number, exclude: ReadonlySet<string>): Promise<ThreadPosition> {
  const select = { messageId: true, createdAt: true } as const;
  const received = { taskId, outbound: false };
  // Held and failed mails never reached the recipient, so no reply may refer to them.
  const sent: Prisma.OutboundMessageWhereInput = { taskId, recipientId, status: { in: ['pending', 'queued', 'sent'] } };
  const found = [
    ...(await tx.threadMessage.findMany({ where: received, orderBy: { createdAt: 'asc' }, take: 1, select })),
    ...(await tx.threadMessage.findMany({ where: received, orderBy: { createdAt: 'desc' }, take: MAX_REFERENCES, select })),
    ...(await tx.outboundMessage.findMany({ where: sent, orderBy: { createdAt: 'asc' }, take: 1, select })),
    ...(await tx.outboundMessage.findMany({ where: sent, orderBy: { createdAt: 'desc' }, take: MAX_REFERENCES, select })),
  ];

  const ordered = [...new Map(found.filter((entry) => !exclude.has(entry.messageId)).map((entry) => [entry.messageId, entry])).values()].sort(
    (a, b) => a.createdAt.getTime() - b.createdAt.getTime(),
  );
  if (ordered.length === 0) return { inReplyTo: null, references: [] };

  const references = ordered.length <= MAX_REFERENCES ? ordered : [ordered[0]!, ...ordered.slice(-(MAX_REFERENCES - 1))];
  return { inReplyTo: ordered.at(-1)!.messageId, references: references.map((entry) => entry.messageId) };
}
