import type { InboundMessage, User } from '../db/generated/client.js';
import type { Tx } from '../db/client.js';
import type { Config } from '../config/index.js';
import { cleanSubject } from '../mail/addresses.js';
import { addComment } from '../tasks/add-comment.js';
import type { ChangeContext, ChangeRunner } from '../tasks/change.js';
import { createTask } from '../tasks/create-task.js';
import { recordChange } from '../tasks/history.js';
import { findOrCreateUserByEmail, isStaff } from '../tasks/users.js';
import { storeAttachments, type StoredAttachment } from './attachments.js';
import { classifyMessage, type Classification } from './classify.js';
import { applyCommands } from './commands/apply-commands.js';
import { splitCommands } from './commands/parse-commands.js';
import { extractReply, htmlToPlainText } from './extract-reply.js';
import { firstAddress, headerRecipients, referencedMessageIds, type ParsedMail } from './parse.js';
import { routeMessage, type Route } from './route.js';

/** Result of processing a journal entry. */
export type ProcessOutcome =
  | { status: 'processed'; taskId: number; commentId: number | null; routedBy: string; kind: string }
  | { status: 'ignored'; kind: string; reason: string; taskId: number | null }
  | { status: 'duplicate'; originalId: string }
  | { status: 'skipped'; reason: string };

/** Results of applying a message to tasks. */
type AppliedOutcome = Extract<ProcessOutcome, { status: 'processed' | 'ignored' }>;

/** Thrown for input that can never be processed; the entry is marked failed with the message. */
export class UnprocessableMessageError extends Error {
  readonly code = 'UNPROCESSABLE_MESSAGE';
}

/**
 * Turn one parsed journal entry into a task, a comment or nothing. Everything it
 * writes, including the journal row's new status and the claim on the dedupe key,
 * commits in one transaction, so a crash leaves the entry pending and a repeat
 * makes no second task.
 */
export async function processParsedMessage(entry: InboundMessage, mail: ParsedMail, runner: ChangeRunner, config: Config): Promise<ProcessOutcome> {
  const classification = classifyMessage(mail, { instanceId: config.instanceId, ownAddresses: config.mail.addresses.map((entry) => entry.address) });
  const from = firstAddress(mail.from) ?? (entry.envelopeFrom ? { address: entry.envelopeFrom.toLowerCase(), name: '' } : null);
  if (!from && classification.kind === 'normal') throw new UnprocessableMessageError('message has no From header and no envelope sender');

  // Attachments are content-addressed files; writing them before the transaction is safe to repeat.
  const attachments = classification.kind === 'normal' || classification.kind === 'auto-reply' ? await storeAttachments(config.dataDir, mail.attachments, config.attachments) : { stored: [], skipped: [] };

  return runner.run(
    null,
    'email',
    async (change) => {
      // Another process may have finished this entry since it was read.
      const current = await change.tx.inboundMessage.findUnique({ where: { id: entry.id }, select: { status: true } });
      if (current?.status !== 'pending') return { status: 'skipped', reason: `entry is ${current?.status ?? 'gone'}` } as const;

      const duplicate = await change.tx.processedMessage.findUnique({ where: { dedupeKey: entry.dedupeKey } });
      if (duplicate && duplicate.inboundMessageId !== entry.id) {
        await change.tx.inboundMessage.update({ where: { id: entry.id }, data: { status: 'duplicate', processedAt: new Date(), kind: classification.kind, error: `same message as journal entry ${duplicate.inboundMessageId}` } });
        return { status: 'duplicate', originalId: duplicate.inboundMessageId } as const;
      }
      await change.tx.processedMessage.create({ data: { dedupeKey: entry.dedupeKey, inboundMessageId: entry.id } });

      const outcome = await applyMessage(change, entry, mail, classification, from, attachments.stored, config);
      if (attachments.skipped.length > 0 && outcome.status === 'processed') {
        await recordChange(change, outcome.taskId, { kind: 'attachments-skipped', details: { skipped: attachments.skipped } });
      }

      await change.tx.inboundMessage.update({
        where: { id: entry.id },
        data: {
          status: outcome.status,
          kind: classification.kind,
          routedBy: outcome.status === 'processed' ? outcome.routedBy : null,
          taskId: outcome.status === 'processed' || outcome.status === 'ignored' ? outcome.taskId : null,
          error: outcome.status === 'ignored' ? outcome.reason : null,
          processedAt: new Date(),
        },
      });
      return outcome;
    },
    { notify: entry.notify },
  );
}

async function applyMessage(
  change: ChangeContext,
  entry: InboundMessage,
  mail: ParsedMail,
  classification: Classification,
  from: { address: string; name: string } | null,
  attachments: StoredAttachment[],
  config: Config,
): Promise<AppliedOutcome> {
  if (classification.kind === 'bounce') return recordBounce(change, classification);
  if (classification.kind === 'loop' || classification.kind === 'list') return { status: 'ignored', kind: classification.kind, reason: classification.reason, taskId: null };

  const sender = await findOrCreateUserByEmail(change.tx, from!.address, from!.name);
  change.actor = { id: sender.id, role: sender.role };
  const route = await routeMessage(
    change.tx,
    { sender, recipients: [...(JSON.parse(entry.envelopeTo) as string[]), ...headerRecipients(mail)], references: referencedMessageIds(mail), subject: mail.subject ?? '' },
    { addresses: config.mail.addresses, catchAllDomains: config.mail.catchAllDomains, threadTokenSecret: config.threadTokenSecret },
  );

  if (classification.kind === 'auto-reply') {
    if (route.kind !== 'task') return { status: 'ignored', kind: 'auto-reply', reason: classification.reason, taskId: null };
    const comment = await addComment(change, { taskId: route.taskId, authorId: sender.id, body: replyText(mail), visibility: 'internal', automatic: true, inboundMessageId: entry.id });
    await linkMessage(change.tx, entry, mail, route.taskId, comment.id, attachments);
    return { status: 'processed', taskId: route.taskId, commentId: comment.id, routedBy: route.by, kind: 'auto-reply' };
  }

  if (route.kind === 'new') return openTask(change, entry, mail, sender, route, attachments);
  return addReply(change, entry, mail, sender, route, attachments);
}

async function openTask(change: ChangeContext, entry: InboundMessage, mail: ParsedMail, sender: User, route: Extract<Route, { kind: 'new' }>, attachments: StoredAttachment[]): Promise<AppliedOutcome> {
  const department = await findDepartment(change.tx, entry, route);
  const body = mail.text?.trim() || (mail.html ? htmlToPlainText(mail.html) : '');
  const { task, comment } = await createTask(change, {
    subject: cleanSubject(mail.subject ?? ''),
    authorId: sender.id,
    body,
    departmentId: department?.id ?? null,
    inboundMessageId: entry.id,
    channel: 'email',
  });

  if (route.relatedTaskId !== null) {
    await recordChange(change, task.id, { kind: 'related', to: `#${route.relatedTaskId}`, details: { reason: route.note } });
    await change.tx.comment.create({
      data: { taskId: route.relatedTaskId, authorId: null, visibility: 'internal', channel: 'system', body: `A message from ${sender.email} about this task opened #${task.id}: ${route.note}.` },
    });
  }
  await linkMessage(change.tx, entry, mail, task.id, comment.id, attachments);
  return { status: 'processed', taskId: task.id, commentId: comment.id, routedBy: 'new', kind: 'normal' };
}

async function addReply(change: ChangeContext, entry: InboundMessage, mail: ParsedMail, sender: User, route: Extract<Route, { kind: 'task' }>, attachments: StoredAttachment[]): Promise<AppliedOutcome> {
  const text = replyText(mail);
  const { commands, body } = isStaff(sender.role) ? splitCommands(text) : { commands: [], body: text };

  let internal = false;
  if (commands.length > 0) {
    const permission =
      route.token !== null && route.token.userId === sender.id && route.token.taskId === route.taskId
        ? ({ allowed: true } as const)
        : ({ allowed: false, refusal: 'commands are accepted only in a reply to your own notification about this task (its reply address carries your personal token)' } as const);
    const results = await applyCommands(change, route.taskId, sender, commands, permission);
    internal = results.internal;
  }

  if (body === '' && attachments.length === 0 && commands.length > 0) {
    await linkMessage(change.tx, entry, mail, route.taskId, null, []);
    return { status: 'processed', taskId: route.taskId, commentId: null, routedBy: route.by, kind: 'normal' };
  }

  const comment = await addComment(change, { taskId: route.taskId, authorId: sender.id, body, visibility: internal ? 'internal' : 'public', inboundMessageId: entry.id });
  await linkMessage(change.tx, entry, mail, route.taskId, comment.id, attachments);
  return { status: 'processed', taskId: route.taskId, commentId: comment.id, routedBy: route.by, kind: 'normal' };
}

/** Find the department of the mailbox a message was read from, else that of the helpdesk address it was sent to. */
async function findDepartment(tx: Tx, entry: InboundMessage, route: Extract<Route, { kind: 'new' }>) {
  if (entry.mailboxId !== null) {
    const mailbox = await tx.mailbox.findUnique({ where: { id: entry.mailboxId }, include: { department: true } });
    if (mailbox?.department) return mailbox.department;
  }
  if (!route.helpdesk?.department) return null;
  return tx.department.upsert({ where: { name: route.helpdesk.department }, create: { name: route.helpdesk.department, address: route.helpdesk.address }, update: {} });
}

/** Tie a delivery report to the message it reports on and mark the address as failing. */
async function recordBounce(change: ChangeContext, classification: Classification): Promise<AppliedOutcome> {
  const originalId = classification.bounce?.originalMessageId;
  const original = originalId ? await change.tx.outboundMessage.findUnique({ where: { messageId: originalId } }) : null;
  if (!original) return { status: 'ignored', kind: 'bounce', reason: classification.reason, taskId: null };

  const permanent = classification.bounce?.permanent ?? false;
  await change.tx.outboundMessage.update({ where: { id: original.id }, data: { status: permanent ? 'failed' : original.status, lastError: `delivery report: ${classification.reason}` } });
  if (permanent && original.recipientId) {
    await change.tx.user.update({ where: { id: original.recipientId }, data: { emailFailingSince: new Date() } });
  }
  if (original.taskId) {
    await recordChange(change, original.taskId, { kind: 'delivery-failed', to: original.toAddress, details: { permanent, reason: classification.reason } }, { name: 'delivery.failed', data: { outboundId: original.id } });
  }
  return { status: 'ignored', kind: 'bounce', reason: classification.reason, taskId: original.taskId };
}

function replyText(mail: ParsedMail): string {
  return extractReply({ text: mail.text, html: mail.html }).text;
}

/** Record the message's Message-ID on the task and attach its files to the comment. */
async function linkMessage(tx: Tx, entry: InboundMessage, mail: ParsedMail, taskId: number, commentId: number | null, attachments: StoredAttachment[]): Promise<void> {
  const messageId = entry.messageId ?? mail.messageId?.replace(/^<|>$/g, '');
  if (messageId) await tx.threadMessage.upsert({ where: { messageId }, create: { messageId, taskId, outbound: false }, update: {} });

  for (const attachment of attachments) {
    await tx.attachment.create({ data: { ...attachment, taskId, commentId } });
  }
}
