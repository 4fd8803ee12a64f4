import type { User } from '../db/generated/client.js';
import type { Db } from '../db/client.js';
import type { HelpdeskAddress } from '../config/index.js';
import { matchHelpdeskAddress, parseSubjectTag } from '../mail/addresses.js';
import { verifyThreadToken, type ThreadToken } from '../mail/thread-token.js';
import { isParticipant } from '../tasks/participants.js';

/** Destination of a message. */
export type Route =
  | { kind: 'task'; taskId: number; by: 'token' | 'references' | 'subject'; token: ThreadToken | null }
  | { kind: 'new'; helpdesk: HelpdeskAddress | null; relatedTaskId: number | null; note: string | null };

/** Input of routing. */
export interface RouteInput {
  sender: User;
  /** Envelope recipients first, then To, Cc, Delivered-To and X-Original-To. */
  recipients: readonly string[];
  references: readonly string[];
  subject: string;
}

/** Settings that routing reads from the configuration. */
export interface RouteSettings {
  addresses: readonly HelpdeskAddress[];
  catchAllDomains: readonly string[];
  threadTokenSecret: Buffer;
}

/**
 * Find the task a message belongs to: a valid thread token in any recipient address,
 * then In-Reply-To/References against Message-IDs we sent or received, then a
 * `[#1042]` subject tag when the sender takes part in that task, else a new task.
 * A sender who does not take part in the task found opens a new task that refers to
 * it, so that a stranger cannot add to a task by quoting its number or Message-ID. Replies to a
 * closed task open a follow-up task too.
 */
export async function routeMessage(db: Db, input: RouteInput, settings: RouteSettings): Promise<Route> {
  const helpdesk = findHelpdeskAddress(input.recipients, settings);

  const token = findToken(input.recipients, settings);
  if (token) {
    const decision = await checkTask(db, token.taskId, input.sender, token.userId === input.sender.id);
    if (decision === 'ok') return { kind: 'task', taskId: token.taskId, by: 'token', token };
    if (decision !== 'missing') return newRelated(helpdesk, token.taskId, decision);
  }

  const thread = await db.threadMessage.findFirst({ where: { messageId: { in: [...input.references] } }, select: { taskId: true } });
  if (thread) {
    const decision = await checkTask(db, thread.taskId, input.sender, false);
    if (decision === 'ok') return { kind: 'task', taskId: thread.taskId, by: 'references', token: null };
    if (decision !== 'missing') return newRelated(helpdesk, thread.taskId, decision);
  }

  const tagged = parseSubjectTag(input.subject);
  if (tagged !== null) {
    const decision = await checkTask(db, tagged, input.sender, false);
    if (decision === 'ok') return { kind: 'task', taskId: tagged, by: 'subject', token: null };
    if (decision === 'closed') return newRelated(helpdesk, tagged, decision);
  }

  return { kind: 'new', helpdesk, relatedTaskId: null, note: null };
}

type Decision = 'ok' | 'missing' | 'closed' | 'not-participant';

async function checkTask(db: Db, taskId: number, sender: User, tokenIssuedToSender: boolean): Promise<Decision> {
  const task = await db.task.findUnique({ where: { id: taskId }, select: { status: true } });
  if (!task) return 'missing';
  if (!tokenIssuedToSender && !(await isParticipant(db, taskId, sender))) return 'not-participant';
  if (task.status === 'closed') return 'closed';
  return 'ok';
}

function newRelated(helpdesk: HelpdeskAddress | null, taskId: number, decision: Decision): Route {
  const note = decision === 'closed' ? `follow-up to closed task #${taskId}` : `sender does not take part in task #${taskId}`;
  return { kind: 'new', helpdesk, relatedTaskId: taskId, note };
}

function findToken(recipients: readonly string[], settings: RouteSettings): ThreadToken | null {
  for (const recipient of recipients) {
    const match = matchHelpdeskAddress(recipient, settings.addresses, settings.catchAllDomains);
    if (!match?.detail) continue;
    const token = verifyThreadToken(settings.threadTokenSecret, match.detail);
    if (token) return token;
  }
  return null;
}

function findHelpdeskAddress(recipients: readonly string[], settings: RouteSettings): HelpdeskAddress | null {
  for (const recipient of recipients) {
    const match = matchHelpdeskAddress(recipient, settings.addresses, settings.catchAllDomains);
    if (match?.helpdesk) return match.helpdesk;
  }
  return null;
}
